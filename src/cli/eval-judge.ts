/**
 * `moa judge mt-bench` and `moa judge alpaca-eval --outputs …`: one judge model ("provider:model-id")
 * called through the batch runner (`context.callModel`: same scheduler, cache, cost, budget,
 * traces, progress and resume as `moa batch`) with the benchmark's official judge prompt; the
 * judgments written in the benchmark's own format; then the metrics.
 *
 * - MT-Bench: single-answer grading (FastChat): `single-v1` / `single-v1-multi-turn`, and the
 *   reference-guided `single-math-v1[-multi-turn]` for math, reasoning and coding; temperature 0,
 *   max 2048 tokens; the rating parsed from `[[x]]` (else `[x]`, else −1, dropped). Judgments in
 *   FastChat's `model_judgment` JSONL; scores per turn, per category and overall.
 * - AlpacaEval 2.0: the `weighted_alpaca_eval_gpt4_turbo` prompt, AlpacaEval's own per-instruction
 *   position coin, max 1 token at temperature 1, the top 5 log-probabilities asked for. When the
 *   provider returns them (openai; openai-compatible servers that implement them) the preference is
 *   the official soft one, 2 − p(m)/(p(m) + p(M)); otherwise the generated token decides (m → 1,
 *   M → 2; at temperature 1 that token is a sample whose mean is the weighted preference). Each
 *   annotation records which (`raw_completion.parsed_from`, and its annotator name). Annotations in
 *   AlpacaEval's annotations.json format (plus `is_switched_outputs`), then win rate and
 *   length-controlled win rate with standard errors.
 */
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import type { BatchItem, BatchItemContext } from '../batch/run-batch.js';
import { loadConfig } from '../core/load-config.js';
import {
  buildAlpacaEvalJudgeRequest,
  buildMtBenchJudgeRequest,
  computeLengthControlledWinRate,
  loadAlpacaEvalJudgeTemplate,
  loadAlpacaEvalOutputs,
  loadAlpacaEvalSet,
  loadLengthControlData,
  loadMtBenchAnswers,
  loadMtBenchJudgePrompts,
  loadMtBenchQuestions,
  alpacaEvalJudgmentMethod,
  makeAlpacaEvalAnnotation,
  makeAlpacaEvalRawCompletion,
  makeMtBenchJudgment,
  MT_BENCH_JUDGE_SETTINGS,
  MT_BENCH_REFERENCE_CATEGORIES,
  pairAlpacaEvalOutputs,
  parseAlpacaEvalJudgment,
  summarizeAlpacaEval,
  summarizeMtBenchJudgments,
  toAlpacaEvalJson,
  ALPACA_EVAL_JUDGE_SETTINGS,
  type AlpacaEvalAnnotation,
  type AlpacaEvalOutput,
  type LengthControlledFit,
  type MtBenchAnswer,
  type MtBenchJudgeRequest,
  type MtBenchJudgment,
  type MtBenchModelScores,
  type MtBenchQuestion,
  type ScoreSummary,
} from '../eval/index.js';
import { ConfigError, MoAError } from '../util/errors.js';
import { runBatchForCli } from './batch-runner-cli.js';
import {
  addEvalRunnerOptions,
  benchDataFile,
  BENCH_DATA_ENV,
  contentId,
  progressPathFor,
  readProgressRecords,
  writeFileAtomically,
  type EvalRunFlags,
} from './eval-batch.js';
import type { CliStreams } from './run-for-cli.js';

export interface JudgeFlags extends EvalRunFlags {
  config?: string;
  judge?: string;
}

export function addJudgeOptions(command: Command): Command {
  return addEvalRunnerOptions(command)
    .option('-c, --config <file>', 'config file with the judge\'s provider (default: ./moa.config.yaml, or $MOA_CONFIG)')
    .option('--judge <model>', 'the judge model, provider:model-id');
}

function requireJudge(flags: JudgeFlags, example: string): string {
  if (!flags.judge) throw new ConfigError(`--judge MODEL is required, e.g. --judge ${example}`, { code: 'usage', path: '--judge' });
  return flags.judge;
}

function asConfigError(file: string, error: unknown): never {
  if (error instanceof MoAError) throw error;
  throw new ConfigError(`${file}: ${(error as Error).message}`, { code: 'eval_data_invalid', path: file, cause: error });
}

/** `dir/name.json` → `dir/name<suffix>` (the extension replaced). */
function besides(file: string, suffix: string): string {
  return join(dirname(file), `${basename(file).replace(/\.(jsonl?|json)$/i, '')}${suffix}`);
}

function checkDistinct(paths: Record<string, string>): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of Object.entries(paths)) {
    const other = seen.get(path);
    if (other) throw new ConfigError(`${other} and ${flag} name the same file (${path})`, { code: 'usage', path: flag });
    seen.set(path, flag);
  }
}

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
  if (scores) {
    io.stdout.write(flags.json ? `${JSON.stringify(mtBenchScoresJson(scores), null, 2)}\n` : renderMtBenchScores(scores, judgeModel));
  } else if (flags.json) {
    io.stdout.write(`${JSON.stringify({ model, overall: null, turns: { 1: null, 2: null }, categories: {}, n: 0 }, null, 2)}\n`);
  }
  return outcome.exitCode;
}

// ---------------------------------------------------------------------------------------------
// AlpacaEval

export interface JudgeAlpacaEvalFlags extends JudgeFlags {
  outputs: string;
  referenceOutputs?: string;
  judgePrompt?: string;
  annotationsOutput?: string;
  lcData?: string;
  evalSet?: string;
}

interface AlpacaEvalJudgeItem extends BatchItem {
  model: AlpacaEvalOutput;
  reference: AlpacaEvalOutput;
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
  isSwitchedOutputs: boolean;
}

type AlpacaEvalJudgeRecord = AlpacaEvalAnnotation & { usage: BatchItemContext['usage']; cached: boolean };

/** The judge recorded in an annotation: the official prompt, this judge, and how the preference was read. */
export function alpacaEvalAnnotatorName(judgeModel: string, method: 'logprobs' | 'token' | 'unparsed' = 'token'): string {
  return `alpaca_eval_clf[${judgeModel}, ${method === 'logprobs' ? 'logprobs' : 'generated token'}]`;
}

/** How many annotations had their preference read from the log-probabilities, from the generated token, or not at all. */
export interface JudgmentMethodCounts {
  logprobs: number;
  token: number;
  unparsed: number;
}

function countJudgmentMethods(annotations: readonly AlpacaEvalAnnotation[]): JudgmentMethodCounts {
  const counts: JudgmentMethodCounts = { logprobs: 0, token: 0, unparsed: 0 };
  for (const annotation of annotations) {
    const method = alpacaEvalJudgmentMethod(annotation) ?? (annotation.preference === null ? 'unparsed' : 'token');
    counts[method]++;
  }
  return counts;
}

function describeJudgmentMethods(counts: JudgmentMethodCounts): string {
  const parts = [`${counts.logprobs} from log-probabilities`, `${counts.token} from the generated token`];
  if (counts.unparsed > 0) parts.push(`${counts.unparsed} unparsed`);
  return parts.join(', ');
}

/** The folder with instruction_difficulty.csv and df_gamed.csv. */
export function lengthControlDirectory(value: string | undefined, io: CliStreams): string {
  const directory = value ?? (io.env[BENCH_DATA_ENV] ? join(io.env[BENCH_DATA_ENV] as string, 'alpaca_eval', 'lc') : undefined);
  if (!directory) {
    throw new ConfigError(
      `the length-controlled win rate needs AlpacaEval's instruction_difficulty.csv and df_gamed.csv: pass --lc-data DIR, or set ${BENCH_DATA_ENV} to the folder holding alpaca_eval/lc/`,
      { path: '--lc-data' },
    );
  }
  return directory;
}

export function renderAlpacaEvalMetrics(fit: LengthControlledFit, annotator: string | undefined, methods?: JudgmentMethodCounts): string {
  const percent = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
  const { metrics } = fit;
  const lines = [
    `AlpacaEval 2.0: ${fit.model} vs ${fit.baseline}${annotator ? ` (annotator ${annotator})` : ''}`,
    `  length-controlled win rate  ${percent(metrics.length_controlled_winrate)} ± ${percent(metrics.lc_standard_error)}`,
    `  win rate                    ${percent(metrics.win_rate)} ± ${percent(metrics.standard_error)}`,
    `  discrete win rate           ${percent(metrics.discrete_win_rate)}`,
    `  n                           ${metrics.n_total} (${metrics.n_wins} wins, ${metrics.n_wins_base} losses, ${metrics.n_draws} draws)`,
  ];
  if (methods) lines.push(`  judgments                   ${describeJudgmentMethods(methods)}`);
  if (fit.inverseRegularization !== null) {
    const { length, instructionDifficulty, model } = fit.coefficients;
    lines.push(`  GLM                         θ_length ${length.toFixed(3)}, θ_difficulty ${instructionDifficulty.toFixed(3)}, θ_model ${model.toFixed(3)} (C = ${fit.inverseRegularization.toPrecision(3)})`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The evaluation order each annotation's instruction difficulty is looked up in: `--eval-set`;
 * else the reference outputs when they are the whole set (as many as the difficulty file); else
 * the model outputs' own order (right for a prefix of the set, and for a partial run of it).
 */
function evaluationOrder(evalSet: string | undefined, references: readonly AlpacaEvalOutput[], outputs: readonly AlpacaEvalOutput[], difficultyCount: number): string[] {
  if (evalSet) return loadAlpacaEvalSet(evalSet).map((item) => item.instruction);
  if (references.length === difficultyCount) return references.map((output) => output.instruction);
  return outputs.map((output) => output.instruction);
}

export async function judgeAlpacaEvalOutputs(flags: JudgeAlpacaEvalFlags, io: CliStreams): Promise<number> {
  const judgeModel = requireJudge(flags, 'openai:gpt-4-1106-preview');
  const outputsPath = resolvePath(flags.outputs);
  const referencePath = benchDataFile(flags.referenceOutputs, '--reference-outputs', 'alpaca_eval/alpaca_eval_gpt4_baseline.json', io, 'the baseline\'s outputs');
  const promptPath = benchDataFile(flags.judgePrompt, '--judge-prompt', 'alpaca_eval/judge/alpaca_eval_clf.txt', io, 'AlpacaEval\'s judge prompt alpaca_eval_clf.txt');
  const annotationsPath = resolvePath(flags.annotationsOutput ?? besides(outputsPath, '.annotations.json'));
  checkDistinct({ '--outputs': outputsPath, '--reference-outputs': referencePath, '--judge-prompt': promptPath, '--annotations-output': annotationsPath });

  // Everything the metrics need is loaded before any call: a bad file is exit 2 with nothing spent.
  const modelOutputs = loadAlpacaEvalOutputs(outputsPath);
  const referenceOutputs = loadAlpacaEvalOutputs(referencePath);
  const template = loadAlpacaEvalJudgeTemplate(promptPath);
  const lengthControlData = loadLengthControlData(lengthControlDirectory(flags.lcData, io));
  let pairs: ReturnType<typeof pairAlpacaEvalOutputs>;
  try {
    pairs = pairAlpacaEvalOutputs(modelOutputs, referenceOutputs);
  } catch (error) {
    asConfigError(outputsPath, error);
  }
  const generators = new Set(modelOutputs.map((output) => output.generator));
  if (generators.size > 1) throw new ConfigError(`${outputsPath}: outputs of ${generators.size} generators (${[...generators].join(', ')}); judge one model at a time`, { code: 'eval_data_invalid', path: outputsPath });
  const evaluationInstructions = evaluationOrder(flags.evalSet, referenceOutputs, modelOutputs, lengthControlData.instructionDifficulty.length);
  // The length-controlled win rate needs every instruction's difficulty: checked before any call.
  const positions = new Map(evaluationInstructions.map((instruction, index) => [instruction, index]));
  const unplaced = modelOutputs.filter((output) => (positions.get(output.instruction) ?? Number.POSITIVE_INFINITY) >= lengthControlData.instructionDifficulty.length);
  if (unplaced.length > 0) {
    throw new ConfigError(
      `${unplaced.length} output(s) have no instruction difficulty for the length-controlled win rate (first: "${(unplaced[0]?.instruction ?? '').slice(0, 60)}"): ` +
        'pass --eval-set with AlpacaEval\'s evaluation set, or judge outputs of that set',
      { code: 'eval_data_invalid', path: outputsPath },
    );
  }

  const items: AlpacaEvalJudgeItem[] = pairs.map(({ model, reference }) => {
    const request = buildAlpacaEvalJudgeRequest({ instruction: model.instruction, baselineOutput: reference.output, modelOutput: model.output }, template);
    return {
      id: contentId(judgeModel, ...request.messages.map((message) => message.content)),
      model,
      reference,
      messages: request.messages,
      isSwitchedOutputs: request.isSwitchedOutputs,
    };
  });
  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env: io.env });
  const progressPath = progressPathFor(annotationsPath);
  const label = 'moa judge alpaca-eval';
  const outcome = await runBatchForCli<AlpacaEvalJudgeItem, AlpacaEvalJudgeRecord>({
    label,
    flags,
    config,
    io,
    models: [{ model: judgeModel, label: judgeModel, path: '--judge' }],
    outputPath: progressPath,
    input: () => ({ items, total: items.length }),
    work: async (item, context) => {
      const reply = await context.callModel(judgeModel, item.messages, {
        temperature: ALPACA_EVAL_JUDGE_SETTINGS.temperature,
        maxTokens: ALPACA_EVAL_JUDGE_SETTINGS.maxTokens,
        topLogprobs: ALPACA_EVAL_JUDGE_SETTINGS.topLogprobs,
      });
      const judgeReply = { text: reply.text, ...(reply.topLogprobs ? { topLogprobs: reply.topLogprobs } : {}) };
      const judgment = parseAlpacaEvalJudgment(judgeReply, item.isSwitchedOutputs);
      const annotation = makeAlpacaEvalAnnotation({
        model: item.model,
        reference: item.reference,
        annotator: alpacaEvalAnnotatorName(judgeModel, judgment.method),
        judgment,
        isSwitchedOutputs: item.isSwitchedOutputs,
        rawCompletion: makeAlpacaEvalRawCompletion(judgeReply, judgment),
        pricePerExample: context.costUsd ?? null,
        timePerExample: context.elapsedMs() / 1000,
      });
      return { ...annotation, usage: context.usage, cached: reply.cached };
    },
  });

  const records = readProgressRecords<AlpacaEvalJudgeRecord>(progressPath);
  const annotations: AlpacaEvalAnnotation[] = items.flatMap((item) => {
    const record = records.get(item.id);
    if (!record) return [];
    const { id: _id, usage: _usage, cached: _cached, ...annotation } = record;
    return [annotation];
  });
  writeFileAtomically(annotationsPath, toAlpacaEvalJson(annotations));
  const missing = items.length - annotations.length;
  const unparsed = annotations.filter((annotation) => annotation.preference === null).length;
  const methods = countJudgmentMethods(annotations);
  // One annotator name when every preference was read the same way.
  const annotatorNames = new Set(annotations.filter((annotation) => annotation.preference !== null).map((annotation) => annotation.annotator));
  const annotator =
    annotatorNames.size === 1 ? [...annotatorNames][0] : `alpaca_eval_clf[${judgeModel}, ${annotatorNames.size === 0 ? 'generated token' : 'logprobs or generated token'}]`;
  if (!flags.quiet) {
    const notes = [`wrote ${annotations.length} of ${items.length} annotations to ${annotationsPath}`, `preferences: ${describeJudgmentMethods(methods)}`];
    if (unparsed > 0) notes.push(outcome.colors.yellow(`${unparsed} judge replies were neither "m" nor "M" (left out)`));
    if (missing > 0) notes.push(outcome.colors.yellow(`${missing} missing: the metrics below leave them out; run the same command again to complete them`));
    io.stderr.write(`${label}: ${notes.join(' — ')}\n`);
  }
  if (annotations.length === 0) return outcome.exitCode;
  let fit: LengthControlledFit;
  try {
    fit = computeLengthControlledWinRate(annotations, lengthControlData, { evaluationInstructions });
  } catch (error) {
    asConfigError(annotationsPath, error);
  }
  io.stdout.write(flags.json ? `${JSON.stringify(summarizeAlpacaEval(fit.metrics))}\n` : renderAlpacaEvalMetrics(fit, annotator, methods));
  return outcome.exitCode;
}
