/**
 * `moa judge mt-bench`: one judge model ("provider:model-id")
 * called through the batch runner (`context.callModel`: same scheduler, cache, cost, budget,
 * traces, progress and resume as `moa batch`) with the benchmark's official judge prompt; the
 * judgments written in the benchmark's own format; then the metrics.
 *
 * - MT-Bench: single-answer grading (FastChat): `single-v1` / `single-v1-multi-turn`, and the
 *   reference-guided `single-math-v1[-multi-turn]` for math, reasoning and coding; temperature 0,
 *   max 2048 tokens; the rating parsed from `[[x]]` (else `[x]`, else −1, dropped). Judgments in
 *   FastChat's `model_judgment` JSONL; scores per turn, per category and overall.
 */
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import type { BatchItem, BatchItemContext } from '../batch/run-batch.js';
import { loadConfig } from '../core/load-config.js';
import {
  buildMtBenchJudgeRequest,
  loadMtBenchAnswers,
  loadMtBenchJudgePrompts,
  loadMtBenchQuestions,
  makeMtBenchJudgment,
  MT_BENCH_JUDGE_SETTINGS,
  MT_BENCH_REFERENCE_CATEGORIES,
  summarizeMtBenchJudgments,
  type MtBenchAnswer,
  type MtBenchJudgeRequest,
  type MtBenchJudgment,
  type MtBenchModelScores,
  type MtBenchQuestion,
  type ScoreSummary,
} from '../eval/index.js';
import { ConfigError } from '../util/errors.js';
import { runBatchForCli } from './batch-runner-cli.js';
import {
  benchDataFile,
  contentId,
  progressPathFor,
  readProgressRecords,
  writeFileAtomically,
} from './eval-batch.js';
import { EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import type { CliStreams } from './run-for-cli.js';
import {
  addJudgeOptions,
  asConfigError,
  besides,
  checkDistinct,
  requireJudge,
  type JudgeFlags,
} from './eval-judge.js';

function formatScore(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '  – ';
}

function jsonScore(summary: ScoreSummary): number | null {
  return Number.isFinite(summary.score) ? summary.score : null;
}

// ---------------------------------------------------------------------------------------------
// MT-Bench

export interface JudgeMtBenchFlags extends JudgeFlags {
  answers: string;
  questions?: string;
  judgePrompts?: string;
  referenceAnswers?: string;
  judgmentsOutput?: string;
}

interface MtBenchJudgeItem extends BatchItem {
  question: MtBenchQuestion;
  request: MtBenchJudgeRequest;
}

type MtBenchJudgeRecord = MtBenchJudgment & { usage: BatchItemContext['usage']; latencyMs: number; cached: boolean };

/** The `--json` shape of MT-Bench scores. */
export interface MtBenchScoresJson {
  model: string;
  overall: number | null;
  turns: { 1: number | null; 2: number | null };
  categories: Record<string, { overall: number | null; turns: { 1: number | null; 2: number | null }; n: number }>;
  /** Valid judgments counted (ratings of −1 are left out). */
  n: number;
}

export function mtBenchScoresJson(scores: MtBenchModelScores): MtBenchScoresJson {
  const categories: MtBenchScoresJson['categories'] = {};
  for (const [category, summary] of Object.entries(scores.byCategory)) {
    categories[category] = {
      overall: jsonScore(summary.overall),
      turns: { 1: jsonScore(summary.firstTurn), 2: jsonScore(summary.secondTurn) },
      n: summary.overall.count,
    };
  }
  return {
    model: scores.model,
    overall: jsonScore(scores.overall),
    turns: { 1: jsonScore(scores.firstTurn), 2: jsonScore(scores.secondTurn) },
    categories,
    n: scores.overall.count,
  };
}

export function renderMtBenchScores(scores: MtBenchModelScores, judge: string): string {
  const lines = [`MT-Bench: ${scores.model} (judge ${judge}), ${scores.overall.count} rated turns${scores.unparsed ? `, ${scores.unparsed} without a rating (left out)` : ''}`];
  lines.push(`  ${'category'.padEnd(12)} ${'turn 1'.padStart(7)} ${'turn 2'.padStart(7)} ${'overall'.padStart(8)}`);
  for (const [category, summary] of Object.entries(scores.byCategory)) {
    lines.push(`  ${category.padEnd(12)} ${formatScore(summary.firstTurn.score).padStart(7)} ${formatScore(summary.secondTurn.score).padStart(7)} ${formatScore(summary.overall.score).padStart(8)}`);
  }
  lines.push(`  ${'all'.padEnd(12)} ${formatScore(scores.firstTurn.score).padStart(7)} ${formatScore(scores.secondTurn.score).padStart(7)} ${formatScore(scores.overall.score).padStart(8)}`);
  return `${lines.join('\n')}\n`;
}

export function registerJudgeMtBench(judge: Command, io: CliStreams, setExitCode: (code: number) => void): void {
  addJudgeOptions(judge.command('mt-bench').description('MT-Bench single-answer grading with FastChat\'s judge prompts; scores per turn, per category and overall'))
    .requiredOption('--answers <file>', 'the answers to judge (FastChat answer JSONL, e.g. from moa eval mt-bench)')
    .option('--questions <file>', 'question.jsonl (default: $MOA_BENCH_DATA/mt_bench/question.jsonl)')
    .option('--judge-prompts <file>', 'judge_prompts.jsonl (default: $MOA_BENCH_DATA/mt_bench/judge_prompts.jsonl)')
    .option('--reference-answers <file>', 'reference answers for math, reasoning and coding (default: $MOA_BENCH_DATA/mt_bench/reference_answer/gpt-4.jsonl)')
    .option('--judgments-output <file>', 'FastChat judgment JSONL to write (default: <answers>.judgments.jsonl; progress in <file>.progress.jsonl)')
    .action(async (flags: JudgeMtBenchFlags) => setExitCode(await judgeMtBench(flags, io)));
}

export async function judgeMtBench(flags: JudgeMtBenchFlags, io: CliStreams): Promise<number> {
  const judgeModel = requireJudge(flags, 'openai:gpt-4');
  const answersPath = resolvePath(flags.answers);
  const questionsPath = benchDataFile(flags.questions, '--questions', 'mt_bench/question.jsonl', io, 'the MT-Bench questions');
  const promptsPath = benchDataFile(flags.judgePrompts, '--judge-prompts', 'mt_bench/judge_prompts.jsonl', io, 'FastChat\'s judge prompts');
  const judgmentsPath = resolvePath(flags.judgmentsOutput ?? besides(answersPath, '.judgments.jsonl'));
  checkDistinct({ '--answers': answersPath, '--questions': questionsPath, '--judge-prompts': promptsPath, '--judgments-output': judgmentsPath });

  const questions = loadMtBenchQuestions(questionsPath);
  const answers = loadMtBenchAnswers(answersPath);
  const judgePrompts = loadMtBenchJudgePrompts(promptsPath);
  const byId = new Map(questions.map((question) => [question.question_id, question]));
  const unknown = [...answers.keys()].filter((id) => !byId.has(id));
  if (unknown.length > 0) {
    throw new ConfigError(`${answersPath}: answers for question_id ${unknown.slice(0, 5).join(', ')}${unknown.length > 5 ? ', …' : ''} which ${questionsPath} does not have`, {
      code: 'eval_data_invalid',
      path: answersPath,
    });
  }
  const models = new Set([...answers.values()].map((answer) => answer.model_id));
  const model = [...models][0] ?? 'model';
  if (models.size > 1) throw new ConfigError(`${answersPath}: answers of ${models.size} models (${[...models].join(', ')}); judge one model's answers at a time`, { code: 'eval_data_invalid', path: answersPath });

  const needsReference = [...answers.keys()].some((id) => MT_BENCH_REFERENCE_CATEGORIES.includes(byId.get(id)?.category ?? ''));
  let references = new Map<number, MtBenchAnswer>();
  if (needsReference) {
    const referencePath = benchDataFile(flags.referenceAnswers, '--reference-answers', 'mt_bench/reference_answer/gpt-4.jsonl', io, 'reference answers for math, reasoning and coding');
    references = loadMtBenchAnswers(referencePath);
  }

  // Every judge request is built now: a missing prompt or reference is exit 2 before any call.
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
      const fingerprint = contentId(judgeModel, model, ...request.messages.map((message) => message.content));
      items.push({ id: `q${question.question_id}-t${turn}-${fingerprint}`, question, request });
    }
  }
  const missingAnswers = questions.length - answers.size;
  if (items.length === 0) throw new ConfigError(`${answersPath}: no answer to judge`, { code: 'eval_data_invalid', path: answersPath });

  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env: io.env });
  const progressPath = progressPathFor(judgmentsPath);
  const label = 'moa judge mt-bench';
  const outcome = await runBatchForCli<MtBenchJudgeItem, MtBenchJudgeRecord>({
    label,
    flags,
    config,
    io,
    models: [{ model: judgeModel, label: judgeModel, path: '--judge' }],
    outputPath: progressPath,
    input: () => ({ items, total: items.length }),
    work: async (item, context) => {
      const reply = await context.callModel(judgeModel, item.request.messages, {
        temperature: MT_BENCH_JUDGE_SETTINGS.temperature,
        maxTokens: MT_BENCH_JUDGE_SETTINGS.maxTokens,
      });
      const judgment = makeMtBenchJudgment({ questionId: item.question.question_id, model, judgeModel, request: item.request, judgment: reply.text });
      return { ...judgment, usage: context.usage, latencyMs: context.elapsedMs(), cached: reply.cached };
    },
  });

  const records = readProgressRecords<MtBenchJudgeRecord>(progressPath);
  const judgments: MtBenchJudgment[] = items.flatMap((item) => {
    const record = records.get(item.id);
    if (!record) return [];
    const { question_id, model: judgedModel, judge, user_prompt, judgment, score, turn, tstamp } = record;
    return [{ question_id, model: judgedModel, judge, user_prompt, judgment, score, turn, tstamp }];
  });
  writeFileAtomically(judgmentsPath, judgments.map((judgment) => `${JSON.stringify(judgment)}\n`).join(''));
  const missing = items.length - judgments.length;
  if (!flags.quiet) {
    const notes = [`wrote ${judgments.length} of ${items.length} judgments to ${judgmentsPath}`];
    if (missing > 0) notes.push(outcome.colors.yellow(`${missing} missing: the scores below leave them out; run the same command again to complete them`));
    if (missingAnswers > 0) notes.push(outcome.colors.yellow(`${missingAnswers} question(s) have no answer in ${answersPath}`));
    io.stderr.write(`${label}: ${notes.join(' — ')}\n`);
  }
  const scores = summarizeMtBenchJudgments(judgments, questions).find((entry) => entry.model === model);
  // Judge replies were written, yet not one holds a rating: the scores would be empty, so that is a failed run.
  const noneRated = judgments.length > 0 && judgments.every((judgment) => judgment.score === -1);
  if (scores && (flags.json || !noneRated)) {
    io.stdout.write(flags.json ? `${JSON.stringify(mtBenchScoresJson(scores), null, 2)}\n` : renderMtBenchScores(scores, judgeModel));
  } else if (flags.json) {
    io.stdout.write(`${JSON.stringify({ model, overall: null, turns: { 1: null, 2: null }, categories: {}, n: 0 }, null, 2)}\n`);
  }
  if (noneRated) {
    io.stderr.write(
      outcome.colors.red(
        `${label}: no rating in any of the ${judgments.length} judge replies (no [[rating]], nor [rating], found), so there is no score; ` +
          `the raw replies are the "judgment" fields of ${judgmentsPath}\n`,
      ),
    );
    return outcome.exitCode === EXIT_OK ? EXIT_RUN_FAILED : outcome.exitCode;
  }
  return outcome.exitCode;
}
