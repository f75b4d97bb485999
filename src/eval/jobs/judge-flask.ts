/**
 * `judgeFlask`: FLASK's review of one model's answers by one judge model (MoA's
 * `FLASK/gpt_review/gpt4_eval.py`), on the batch runner: each instance judged with the second
 * reviewer's prompt (prompt 2, with the ground-truth answer) and the rubrics of its three skills,
 * temperature 0, max 1024 tokens; the scores parsed as `parse_score` does; the review file
 * FLASK writes (the instance's fields, `target_txt`, `review`, `score`, `total_tokens_step4`,
 * sorted by idx); then the per-skill averages of `aggregate_skill.py`, the skill table of the
 * MoA paper's Figure 3.
 */
import { resolve as resolvePath } from 'node:path';
import type { ChatMessage } from '../../core/events.js';
import type { JobKind } from '../../batch/queue/queued-batch.js';
import type { BatchItem } from '../../batch/run-batch.js';
import { ConfigError } from '../../util/errors.js';
import { estimateSingleCall } from '../call-estimate.js';
import { besides, progressPathFor } from '../fastchat-layout.js';
import {
  aggregateFlaskScores,
  buildFlaskJudgeRequest,
  FLASK_SKILL_ORDER,
  flaskReviewSettings,
  loadFlaskAnswers,
  loadFlaskEvaluationSet,
  loadFlaskJudgePrompts,
  loadFlaskReviewers,
  loadFlaskSkills,
  makeFlaskReview,
  type FlaskInstance,
  type FlaskReview,
} from '../flask-data.js';
import { checkDistinct, runEvalJob, type EvalJob, type EvalJobOutcome, type EvalRunnerOptions, type RunAccounting } from './eval-job.js';
import { contentId, readProgressRecords, writeFileAtomically } from './progress-file.js';

export interface FlaskJudgingOptions {
  /** `{question_id, text}` JSON Lines (e.g. from `moa eval flask`). */
  answers: string;
  /** flask_evaluation.jsonl. */
  evaluationSet: string;
  /** skillset_description.json. */
  skills: string;
  /** gpt_review/prompt.jsonl. */
  prompts: string;
  /** gpt_review/reviewer.jsonl (which prompt FLASK's judge uses). */
  reviewers: string;
  judge: string;
  /** Default `<answers>_review.jsonl`. */
  reviewsOutput?: string;
}

/** One row of the skill table: FLASK's per-skill mean (1–5) over the instances that graded it. */
export interface FlaskSkillScore {
  skill: string;
  /** Null when no instance has a numeric score for it. */
  average: number | null;
  count: number;
}

export interface FlaskJudgingResult {
  judge: string;
  reviewsPath: string;
  progressPath: string;
  reviews: FlaskReview[];
  total: number;
  missing: number;
  instancesWithoutAnswer: number;
  /** Reviews whose scores could not be parsed (FLASK's `{}`). */
  unparsed: number;
  noneParsed: boolean;
  /** The twelve skills in the paper's order (robustness … harmlessness). */
  skills: FlaskSkillScore[];
}

/** The twelve skills in aggregate_skill.py's (and the paper's Figure 3) order, with their means. */
export function flaskSkillTable(reviews: ReadonlyArray<Pick<FlaskReview, 'score'>>): FlaskSkillScore[] {
  const averages = new Map(aggregateFlaskScores(reviews.map((review) => review.score)).map((entry) => [entry.skill, entry]));
  return FLASK_SKILL_ORDER.map((skill) => {
    const entry = averages.get(skill);
    return { skill, average: entry && entry.count > 0 ? entry.average : null, count: entry?.count ?? 0 };
  });
}

interface FlaskJudgeItem extends BatchItem {
  instance: FlaskInstance;
  answer: string;
  messages: ChatMessage[];
}

type FlaskJudgeRecord = { review: string; totalTokens: number; cached: boolean } & RunAccounting;

/** What a FLASK review's work takes besides the item (plain JSON, for a queue worker). */
export interface FlaskJudgeJobSettings {
  judge: string;
  temperature: number;
  maxTokens: number;
  priced: boolean;
}

/** One FLASK review: the judge on the request built when the job was prepared. */
export const flaskJudgeJob: JobKind<FlaskJudgeItem, FlaskJudgeJobSettings, FlaskJudgeRecord> = {
  name: 'flask-judge',
  async work(item, context, { judge, temperature, maxTokens, priced }) {
    const reply = await context.callModel(judge, item.messages, { temperature, maxTokens });
    return {
      review: reply.text,
      totalTokens: reply.usage.inputTokens + reply.usage.outputTokens,
      cached: reply.cached,
      usage: context.usage,
      latencyMs: context.elapsedMs(),
      ...(priced && context.costUsd !== undefined ? { costUsd: context.costUsd } : {}),
    };
  },
};

export function prepareFlaskJudging(options: FlaskJudgingOptions): EvalJob<FlaskJudgeItem, FlaskJudgeRecord, FlaskJudgingResult> {
  const judge = options.judge;
  const answersPath = resolvePath(options.answers);
  const setPath = resolvePath(options.evaluationSet);
  const reviewsPath = resolvePath(options.reviewsOutput ?? besides(answersPath, '_review.jsonl'));
  checkDistinct({ '--answers': answersPath, '--questions': setPath, '--reviews-output': reviewsPath });

  const instances = loadFlaskEvaluationSet(setPath);
  const answers = loadFlaskAnswers(answersPath);
  const skills = loadFlaskSkills(resolvePath(options.skills));
  const prompts = loadFlaskJudgePrompts(resolvePath(options.prompts));
  const settings = flaskReviewSettings(loadFlaskReviewers(resolvePath(options.reviewers)), options.reviewers);
  const jobSettings = (priced: boolean): FlaskJudgeJobSettings => ({ judge: options.judge, temperature: settings.temperature, maxTokens: settings.maxTokens, priced });
  const known = new Set(instances.map((instance) => instance.idx));
  const unknown = [...answers.keys()].filter((id) => !known.has(id));
  if (unknown.length > 0) {
    throw new ConfigError(
      `${answersPath}: answers for question_id ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''} which ${setPath} has no instance for (question_id is the instance's idx)`,
      {
        code: 'eval_data_invalid',
        path: answersPath,
      },
    );
  }
  const items: FlaskJudgeItem[] = [];
  for (const instance of instances) {
    const answer = answers.get(instance.idx);
    if (!answer) continue;
    let request: ReturnType<typeof buildFlaskJudgeRequest>;
    try {
      request = buildFlaskJudgeRequest({ instance, response: answer.text, skills, prompts, promptId: settings.promptId });
    } catch (error) {
      throw new ConfigError(`${options.prompts}: ${(error as Error).message}`, { code: 'eval_data_invalid', path: options.prompts, cause: error });
    }
    items.push({
      id: `i${instance.idx}-${contentId(judge, ...request.messages.map((message) => message.content))}`,
      instance,
      answer: answer.text,
      messages: request.messages,
    });
  }
  if (items.length === 0) throw new ConfigError(`${answersPath}: no answer to judge`, { code: 'eval_data_invalid', path: answersPath });
  const progressPath = progressPathFor(reviewsPath);

  return {
    label: 'moa judge flask',
    models: [{ model: judge, label: judge, path: '--judge' }],
    progressPath,
    items,
    estimateCalls: (item) => [estimateSingleCall(judge, item.messages, settings.maxTokens)],
    work: (item, context, priced) => flaskJudgeJob.work(item, context, jobSettings(priced)),
    queue: (priced) => ({ kind: flaskJudgeJob.name, settings: jobSettings(priced) }),
    finish: () => {
      const records = readProgressRecords<FlaskJudgeRecord>(progressPath);
      const reviews: FlaskReview[] = items.flatMap((item) => {
        const record = records.get(item.id);
        return record ? [makeFlaskReview(item.instance, item.answer, record.review, record.totalTokens)] : [];
      });
      reviews.sort((left, right) => left.idx - right.idx);
      writeFileAtomically(reviewsPath, reviews.map((review) => `${JSON.stringify(review)}\n`).join(''));
      const unparsed = reviews.filter((review) => Object.keys(review.score).length === 0).length;
      return {
        judge,
        reviewsPath,
        progressPath,
        reviews,
        total: items.length,
        missing: items.length - reviews.length,
        instancesWithoutAnswer: instances.length - answers.size,
        unparsed,
        noneParsed: reviews.length > 0 && unparsed === reviews.length,
        skills: flaskSkillTable(reviews),
      };
    },
  };
}

/** Prepares and runs FLASK judging (see `prepareFlaskJudging` and `runEvalJob`). */
export function judgeFlask(options: FlaskJudgingOptions, runner: EvalRunnerOptions = {}): Promise<EvalJobOutcome<FlaskJudgingResult>> {
  return runEvalJob(prepareFlaskJudging(options), runner);
}
