/**
 * `judgeMtBench`: FastChat's single-answer grading of one model's MT-Bench answers by one judge
 * model, on the batch runner. One item per question and turn: `single-v1` / `single-v1-multi-turn`,
 * or the reference-guided `single-math-v1[-multi-turn]` for math, reasoning and coding;
 * temperature 0, max 2048 tokens; the rating parsed as FastChat does. The judgments are FastChat's
 * `model_judgment` records, the model named by its answer file and the judge as FastChat names it,
 * merged into the judgments file (other models' lines are kept, as FastChat appends them).
 */
import { basename, dirname, resolve as resolvePath } from 'node:path';
import type { JobKind } from '../../batch/queue/queued-batch.js';
import type { BatchItem } from '../../batch/run-batch.js';
import { ConfigError } from '../../util/errors.js';
import { estimateSingleCall } from '../call-estimate.js';
import { defaultJudgmentsPath, FASTCHAT_JUDGMENT_FOLDER, fastChatJudgeName, fastChatModelName, progressPathFor } from '../fastchat-layout.js';
import {
  loadMtBenchAnswers,
  loadMtBenchJudgePrompts,
  loadMtBenchQuestions,
  MT_BENCH_REFERENCE_CATEGORIES,
  type MtBenchAnswer,
  type MtBenchQuestion,
} from '../mt-bench-data.js';
import {
  buildMtBenchJudgeRequest,
  makeMtBenchJudgment,
  MT_BENCH_JUDGE_SETTINGS,
  summarizeMtBenchJudgments,
  type MtBenchJudgeRequest,
  type MtBenchJudgment,
  type MtBenchModelScores,
} from '../mt-bench-judge.js';
import {
  asConfigError,
  checkDistinct,
  resolveLazyPath,
  runEvalJob,
  type EvalJob,
  type EvalJobOutcome,
  type EvalRunnerOptions,
  type LazyPath,
  type RunAccounting,
} from './eval-job.js';
import { contentId, readProgressRecords, replaceOwnLines } from './progress-file.js';

export interface MtBenchJudgingOptions {
  /** FastChat answer JSONL of one model (e.g. from `moa eval mt-bench`). */
  answers: string;
  questions: string;
  /** FastChat's judge_prompts.jsonl. */
  judgePrompts: string;
  /** GPT-4's reference answers; read only when a math, reasoning or coding answer is judged. */
  referenceAnswers?: LazyPath;
  /** The judge, "provider:model-id". */
  judge: string;
  /** Default: FastChat's `<bench>/model_judgment/<judge>_single.jsonl` for answers in `model_answer/`, else `<answers>.judgments.jsonl`. */
  judgmentsOutput?: string;
}

export interface MtBenchJudgingResult {
  /** The judged model as FastChat names it: the answer file's name. */
  model: string;
  judge: string;
  /** The judge as the judgments name it (FastChat's way: no provider prefix). */
  judgeName: string;
  judgmentsPath: string;
  progressPath: string;
  /** This model's judgments by this judge, in question order. */
  judgments: MtBenchJudgment[];
  /** Items (question × turn) to judge. */
  total: number;
  /** Items not judged yet (failed, interrupted, over budget). */
  missing: number;
  /** Questions the answer file has no answer for. */
  questionsWithoutAnswer: number;
  scores: MtBenchModelScores | undefined;
  /** Judgments without a rating (score −1, left out of the means). */
  unparsed: number;
  /** True when judgments were made and not one holds a rating. */
  noneParsed: boolean;
  /** Lines of other models or judges kept in the judgments file. */
  otherLinesKept: number;
}

interface MtBenchJudgeItem extends BatchItem {
  question: MtBenchQuestion;
  request: MtBenchJudgeRequest;
}

type MtBenchJudgeRecord = MtBenchJudgment & RunAccounting & { cached: boolean };

/** What a judging item's work takes besides the item (plain JSON, for a queue worker). */
export interface MtBenchJudgeJobSettings {
  judge: string;
  model: string;
  judgeName: string;
}

/** One MT-Bench judgment: the judge on the request built when the job was prepared. */
export const mtBenchJudgeJob: JobKind<MtBenchJudgeItem, MtBenchJudgeJobSettings, MtBenchJudgeRecord> = {
  name: 'mt-bench-judge',
  async work(item, context, { judge, model, judgeName }) {
    const reply = await context.callModel(judge, item.request.messages, {
      temperature: MT_BENCH_JUDGE_SETTINGS.temperature,
      maxTokens: MT_BENCH_JUDGE_SETTINGS.maxTokens,
    });
    const judgment = makeMtBenchJudgment({ questionId: item.question.question_id, model, judgeModel: judgeName, request: item.request, judgment: reply.text });
    return { ...judgment, usage: context.usage, latencyMs: context.elapsedMs(), cached: reply.cached };
  },
};

export function prepareMtBenchJudging(options: MtBenchJudgingOptions): EvalJob<MtBenchJudgeItem, MtBenchJudgeRecord, MtBenchJudgingResult> {
  const judge = options.judge;
  const answersPath = resolvePath(options.answers);
  const questionsPath = resolvePath(options.questions);
  const promptsPath = resolvePath(options.judgePrompts);
  const judgmentsPath = resolvePath(options.judgmentsOutput ?? defaultJudgmentsPath(answersPath, judge, 'single'));
  checkDistinct({ '--answers': answersPath, '--questions': questionsPath, '--judge-prompts': promptsPath, '--judgments-output': judgmentsPath });

  const questions = loadMtBenchQuestions(questionsPath);
  const answers = loadMtBenchAnswers(answersPath);
  const judgePrompts = loadMtBenchJudgePrompts(promptsPath);
  const byId = new Map(questions.map((question) => [question.question_id, question]));
  const unknown = [...answers.keys()].filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    throw new ConfigError(
      `${answersPath}: answers for question_id ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''} which ${questionsPath} does not have`,
      {
        code: 'eval_data_invalid',
        path: answersPath,
      },
    );
  }
  const modelIds = new Set([...answers.values()].map((answer) => answer.model_id));
  if (modelIds.size > 1)
    throw new ConfigError(`${answersPath}: answers of ${modelIds.size} models (${[...modelIds].join(', ')}); judge one model's answers at a time`, {
      code: 'eval_data_invalid',
      path: answersPath,
    });
  // FastChat names a model by its answer file (model_answer/<model>.jsonl), and so do the judgments.
  const model = fastChatModelName(answersPath);
  const judgeName = fastChatJudgeName(judge);

  const references = referenceAnswersFor(answers.keys(), byId, options.referenceAnswers);

  // Every judge request is built now: a missing prompt or reference is a ConfigError before any call.
  const items: MtBenchJudgeItem[] = [];
  for (const question of questions) {
    const answer = answers.get(question.question_id);
    if (!answer) continue;
    const turnCount = Math.min(2, question.turns.length);
    for (let turn = 1 as 1 | 2; turn <= turnCount; turn = (turn + 1) as 1 | 2) {
      let request: MtBenchJudgeRequest;
      try {
        request = buildMtBenchJudgeRequest({ question, answer, turn, judgePrompts, referenceAnswer: references.get(question.question_id) });
      } catch (error) {
        asConfigError(answersPath, error);
      }
      const fingerprint = contentId(judge, model, ...request.messages.map((message) => message.content));
      items.push({ id: `q${question.question_id}-t${turn}-${fingerprint}`, question, request });
    }
  }
  if (items.length === 0) throw new ConfigError(`${answersPath}: no answer to judge`, { code: 'eval_data_invalid', path: answersPath });
  const sharedFolder = basename(dirname(judgmentsPath)) === FASTCHAT_JUDGMENT_FOLDER;
  const progressPath = progressPathFor(judgmentsPath, sharedFolder ? model : undefined);

  return {
    label: 'moa judge mt-bench',
    models: [{ model: judge, label: judge, path: '--judge' }],
    progressPath,
    items,
    estimateCalls: (item) => [estimateSingleCall(judge, item.request.messages, MT_BENCH_JUDGE_SETTINGS.maxTokens)],
    work: (item, context) => mtBenchJudgeJob.work(item, context, { judge, model, judgeName }),
    queue: () => ({ kind: mtBenchJudgeJob.name, settings: { judge, model, judgeName } }),
    finish: () => {
      const records = readProgressRecords<MtBenchJudgeRecord>(progressPath);
      const judgments: MtBenchJudgment[] = items.flatMap((item) => {
        const record = records.get(item.id);
        if (!record) return [];
        const { question_id, model: judgedModel, judge: judgeField, user_prompt, judgment, score, turn, tstamp } = record;
        return [{ question_id, model: judgedModel, judge: judgeField, user_prompt, judgment, score, turn, tstamp }];
      });
      const { kept } = replaceOwnLines(judgmentsPath, (line) => line.model === model && Array.isArray(line.judge) && line.judge[0] === judgeName, judgments);
      const scores = summarizeMtBenchJudgments(judgments, questions).find((entry) => entry.model === model);
      const unparsed = judgments.filter((judgment) => judgment.score === -1).length;
      return {
        model,
        judge,
        judgeName,
        judgmentsPath,
        progressPath,
        judgments,
        total: items.length,
        missing: items.length - judgments.length,
        questionsWithoutAnswer: questions.length - answers.size,
        scores,
        unparsed,
        noneParsed: judgments.length > 0 && unparsed === judgments.length,
        otherLinesKept: kept,
      };
    },
  };
}

/** Prepares and runs MT-Bench judging (see `prepareMtBenchJudging` and `runEvalJob`). */
export function judgeMtBench(options: MtBenchJudgingOptions, runner: EvalRunnerOptions = {}): Promise<EvalJobOutcome<MtBenchJudgingResult>> {
  return runEvalJob(prepareMtBenchJudging(options), runner);
}

/**
 * GPT-4's reference answers, loaded only when a question judged is of a category FastChat judges
 * against them (math, reasoning, coding); a usage error naming --reference-answers when they are
 * needed and not given.
 */
export function referenceAnswersFor(
  questionIds: Iterable<number>,
  byId: ReadonlyMap<number, { category: string }>,
  referenceAnswers: LazyPath | undefined,
): Map<number, MtBenchAnswer> {
  const needsReference = [...questionIds].some((id) => MT_BENCH_REFERENCE_CATEGORIES.includes(byId.get(id)?.category ?? ''));
  if (!needsReference) return new Map();
  const referencePath = resolveLazyPath(referenceAnswers);
  if (referencePath === undefined) {
    throw new ConfigError("the reference answers are needed (FastChat judges math, reasoning and coding against GPT-4's, reference_answer/gpt-4.jsonl)", {
      code: 'usage',
      path: '--reference-answers',
    });
  }
  return loadMtBenchAnswers(resolvePath(referencePath));
}
