/**
 * `comparePairwise`: is configuration A better than B? Two output files on the same instructions,
 * each pair judged in both orders by one judge model on the batch runner, then the win rate of A
 * over B with ties, its bootstrap 95% interval (seeded), the length-controlled win rate where the
 * benchmark defines one, per-category (and, for MT-Bench, per-turn) results, and the tokens, cost
 * and latency each side spent generating (from its `moa eval` progress sidecar, when there is one).
 *
 * - AlpacaEval (`model_outputs.json` × 2): the official judge prompt; one item per instruction,
 *   judged with B as output_1 and A as output_2 and swapped (AlpacaEval's own coin decides which
 *   order is listed first); A's preference is the mean of the two preferences (soft with
 *   log-probabilities, else the generated token). The annotations are AlpacaEval's records with
 *   B in the baseline's place (one per instruction, both replies in `raw_completion`), so the
 *   length-controlled win rate is AlpacaEval's GLM with B as the baseline.
 * - MT-Bench (FastChat answer files × 2): FastChat's pairwise prompts, two games per question and
 *   turn; the judgments are FastChat's `<judge>_pair.jsonl` records, and A's preference is what
 *   `show_result.py` counts (win when both games agree, else a tie).
 */
import { basename, dirname, resolve as resolvePath } from 'node:path';
import type { BatchItem, BatchItemContext } from '../../batch/run-batch.js';
import type { ChatMessage } from '../../core/events.js';
import { ConfigError } from '../../util/errors.js';
import { loadAlpacaEvalOutputs, loadLengthControlData, toAlpacaEvalJson, type AlpacaEvalAnnotation, type AlpacaEvalOutput } from '../alpaca-eval-data.js';
import {
  ALPACA_EVAL_JUDGE_SETTINGS,
  buildAlpacaEvalJudgeRequest,
  isSwitchedOutputs,
  loadAlpacaEvalJudgeTemplate,
  makeAlpacaEvalAnnotation,
  makeAlpacaEvalRawCompletion,
  parseAlpacaEvalJudgment,
} from '../alpaca-eval-judge.js';
import { computeLengthControlledWinRate } from '../alpaca-eval-metrics.js';
import { estimateSingleCall } from '../call-estimate.js';
import { besides, defaultJudgmentsPath, FASTCHAT_JUDGMENT_FOLDER, fastChatJudgeName, fastChatModelName, progressPathFor } from '../fastchat-layout.js';
import { loadMtBenchAnswers, loadMtBenchJudgePrompts, loadMtBenchQuestions, type MtBenchQuestion } from '../mt-bench-data.js';
import { MT_BENCH_JUDGE_SETTINGS } from '../mt-bench-judge.js';
import {
  buildMtBenchPairwiseRequest,
  pairwisePreference,
  pairwiseWinner,
  parseMtBenchPairwiseVerdict,
  type MtBenchPairwiseJudgment,
  type MtBenchPairwiseRequest,
} from '../mt-bench-pairwise.js';
import {
  summarizePairwise,
  winRateWithInterval,
  type BootstrapOptions,
  type PairwiseOutcome,
  type PairwiseSummary,
  type WinRateInterval,
  DEFAULT_BOOTSTRAP_RESAMPLES,
  DEFAULT_BOOTSTRAP_SEED,
  randomFromSeed,
} from '../pairwise-statistics.js';
import { alpacaEvalEvaluationOrder } from './judge-alpaca-eval.js';
import { referenceAnswersFor } from './judge-mt-bench.js';
import { checkDistinct, runEvalJob, type EvalJob, type EvalJobOutcome, type EvalRunnerOptions, type LazyPath } from './eval-job.js';
import { contentId, readProgressRecords, replaceOwnLines, writeFileAtomically } from './progress-file.js';

export type ComparisonBenchmark = 'alpaca-eval' | 'mt-bench';

/** What one side spent generating its outputs, from its `moa eval` progress sidecar. */
export interface ComparisonSide {
  name: string;
  file: string;
  /** The sidecar read, or null when there is none beside the file. */
  progressFile: string | null;
  /** Compared items the sidecar has a record for. */
  itemsWithUsage: number;
  usage: { inputTokens: number; outputTokens: number } | null;
  /** Null unless every such record carries a cost (every model priced). */
  costUsd: number | null;
  costPerItemUsd: number | null;
  latencyMs: { mean: number; median: number } | null;
  ttftMs: { mean: number; median: number } | null;
}

export interface ComparisonResult {
  benchmark: ComparisonBenchmark;
  judge: string;
  a: ComparisonSide;
  b: ComparisonSide;
  /** AlpacaEval annotations, or FastChat's pairwise judgments. */
  judgmentsPath: string;
  progressPath: string;
  /** Items (instructions, or questions × turns) to compare. */
  total: number;
  missing: number;
  /** Judged items left out because a verdict of either order could not be read. */
  unparsed: number;
  noneParsed: boolean;
  outcomes: PairwiseOutcome[];
  /** Overall and per category (AlpacaEval's dataset, MT-Bench's category). */
  statistics: PairwiseSummary;
  /** MT-Bench: per turn. */
  turns?: Record<'1' | '2', WinRateInterval>;
  /** Items whose two orders named the same winner (or both a tie). */
  consistent: number;
  /** AlpacaEval's length-controlled win rate of A with B as the baseline; null where it cannot be computed (see note). */
  lengthControlled: { winRate: number; standardError: number } | null;
  lengthControlledNote?: string;
  bootstrap: { resamples: number; seed: string };
}

export interface ComparisonCommonOptions {
  a: string;
  b: string;
  judge: string;
  /** The judgments file (default beside A, or FastChat's model_judgment/<judge>_pair.jsonl). */
  output?: string;
  resamples?: number;
  seed?: string;
}

export interface AlpacaEvalComparisonOptions extends ComparisonCommonOptions {
  judgePrompt: string;
  /** instruction_difficulty.csv and df_gamed.csv; without them no length-controlled win rate. */
  lengthControlData?: string;
  /** The evaluation set's order for the instruction difficulties. */
  evalSet?: string;
}

export interface MtBenchComparisonOptions extends ComparisonCommonOptions {
  questions: string;
  judgePrompts: string;
  referenceAnswers?: LazyPath;
}

export type ComparisonOptions = ({ benchmark: 'alpaca-eval' } & AlpacaEvalComparisonOptions) | ({ benchmark: 'mt-bench' } & MtBenchComparisonOptions);

function median(sorted: readonly number[]): number {
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[middle] as number) : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

function distribution(values: number[]): { mean: number; median: number } | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((left, right) => left - right);
  return { mean: values.reduce((sum, value) => sum + value, 0) / values.length, median: median(sorted) };
}

interface GenerationLine {
  usage?: { inputTokens?: number; outputTokens?: number };
  costUsd?: number;
  latencyMs?: number;
  ttftMs?: number;
}

/** A side's spending, from the records of its generation sidecar for the compared items' ids. */
export function comparisonSide(name: string, file: string, itemIds: readonly string[]): ComparisonSide {
  const progressFile = progressPathFor(file);
  const records = readProgressRecords<GenerationLine>(progressFile);
  const lines = itemIds.flatMap((id) => {
    const record = records.get(id);
    return record ? [record] : [];
  });
  const usage =
    lines.length === 0
      ? null
      : lines.reduce(
          (sum, line) => ({ inputTokens: sum.inputTokens + (line.usage?.inputTokens ?? 0), outputTokens: sum.outputTokens + (line.usage?.outputTokens ?? 0) }),
          { inputTokens: 0, outputTokens: 0 },
        );
  const costs = lines.map((line) => line.costUsd).filter((cost): cost is number => typeof cost === 'number');
  const costUsd = lines.length > 0 && costs.length === lines.length ? costs.reduce((sum, cost) => sum + cost, 0) : null;
  return {
    name,
    file,
    progressFile: records.size > 0 ? progressFile : null,
    itemsWithUsage: lines.length,
    usage,
    costUsd,
    costPerItemUsd: costUsd === null ? null : costUsd / lines.length,
    latencyMs: distribution(lines.map((line) => line.latencyMs).filter((value): value is number => typeof value === 'number')),
    ttftMs: distribution(lines.map((line) => line.ttftMs).filter((value): value is number => typeof value === 'number')),
  };
}

function bootstrapOptions(options: ComparisonCommonOptions): { resamples: number; seed: string; statistics: BootstrapOptions } {
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const seed = options.seed ?? DEFAULT_BOOTSTRAP_SEED;
  return { resamples, seed, statistics: { resamples, seed } };
}

/** Two distinct names for the sides (FastChat names models by file; equal names are told apart by folder). */
function sideNames(a: string, b: string, nameOf: (file: string) => string): [string, string] {
  const nameA = nameOf(a);
  const nameB = nameOf(b);
  if (nameA !== nameB) return [nameA, nameB];
  const withFolder = (file: string): string => `${basename(dirname(file))}/${nameOf(file)}`;
  if (withFolder(a) !== withFolder(b)) return [withFolder(a), withFolder(b)];
  return [`${nameA} (A)`, `${nameB} (B)`];
}

function mismatch(what: string, onlyA: readonly string[], onlyB: readonly string[], a: string, b: string): ConfigError {
  const describe = (list: readonly string[]): string =>
    `${list
      .slice(0, 3)
      .map((entry) => JSON.stringify(entry.slice(0, 50)))
      .join(', ')}${list.length > 3 ? ', …' : ''}`;
  const parts: string[] = [];
  if (onlyA.length > 0) parts.push(`${onlyA.length} only in A (${a}: ${describe(onlyA)})`);
  if (onlyB.length > 0) parts.push(`${onlyB.length} only in B (${b}: ${describe(onlyB)})`);
  return new ConfigError(
    `A and B must answer the same ${what}: ${parts.join('; ')}. Finish the shorter run (rerun its moa eval command) or compare outputs of the same set`,
    {
      code: 'eval_data_invalid',
      path: '--b',
    },
  );
}

// ---------------------------------------------------------------------------------------------
// AlpacaEval

interface AlpacaEvalPairItem extends BatchItem {
  a: AlpacaEvalOutput;
  b: AlpacaEvalOutput;
  /** The two orders, the one AlpacaEval's coin picks first: isSwitchedOutputs false = B shown as "m". */
  orders: Array<{ isSwitchedOutputs: boolean; messages: ChatMessage[] }>;
}

interface AlpacaEvalPairRecord {
  annotation: AlpacaEvalAnnotation;
  /** A's preference in [0, 1], null when either order was unparsed. */
  preference: number | null;
  usage: BatchItemContext['usage'];
  latencyMs: number;
}

export function prepareAlpacaEvalComparison(options: AlpacaEvalComparisonOptions): EvalJob<AlpacaEvalPairItem, AlpacaEvalPairRecord, ComparisonResult> {
  const judge = options.judge;
  const aPath = resolvePath(options.a);
  const bPath = resolvePath(options.b);
  const promptPath = resolvePath(options.judgePrompt);
  const aOutputs = loadAlpacaEvalOutputs(aPath);
  const bOutputs = loadAlpacaEvalOutputs(bPath);
  const [nameA, nameB] = sideNames(aPath, bPath, (file) => {
    const outputs = file === aPath ? aOutputs : bOutputs;
    const generators = [...new Set(outputs.map((output) => output.generator))];
    return generators.length === 1 ? (generators[0] as string) : basename(file).replace(/\.json$/i, '');
  });
  const outputPath = resolvePath(options.output ?? besides(aPath, `.vs.${basename(bPath).replace(/\.json$/i, '')}.annotations.json`));
  checkDistinct({ '--a': aPath, '--b': bPath, '--judge-prompt': promptPath, '--output': outputPath });
  const template = loadAlpacaEvalJudgeTemplate(promptPath);
  const byInstructionB = new Map(bOutputs.map((output) => [output.instruction, output]));
  const instructionsA = new Set(aOutputs.map((output) => output.instruction));
  const onlyA = aOutputs.filter((output) => !byInstructionB.has(output.instruction)).map((output) => output.instruction);
  const onlyB = bOutputs.filter((output) => !instructionsA.has(output.instruction)).map((output) => output.instruction);
  if (onlyA.length > 0 || onlyB.length > 0) throw mismatch('instructions', onlyA, onlyB, aPath, bPath);

  // The length-controlled win rate is optional here: computed when its data covers every instruction.
  let lengthControl: { data: ReturnType<typeof loadLengthControlData>; order: string[] } | undefined;
  let lengthControlledNote: string | undefined;
  if (options.lengthControlData === undefined) {
    lengthControlledNote = 'no length-control data (instruction_difficulty.csv, df_gamed.csv): pass --lc-data DIR or set MOA_BENCH_DATA';
  } else {
    const data = loadLengthControlData(options.lengthControlData);
    const order = alpacaEvalEvaluationOrder(options.evalSet, bOutputs, aOutputs, data.instructionDifficulty.length);
    const positions = new Map(order.map((instruction, index) => [instruction, index]));
    const unplaced = aOutputs.filter((output) => (positions.get(output.instruction) ?? Number.POSITIVE_INFINITY) >= data.instructionDifficulty.length).length;
    if (unplaced > 0)
      lengthControlledNote = `${unplaced} instruction(s) have no instruction difficulty (not AlpacaEval's evaluation set, or pass --eval-set): no length-controlled win rate`;
    else lengthControl = { data, order };
  }

  const items: AlpacaEvalPairItem[] = aOutputs.map((a) => {
    const b = byInstructionB.get(a.instruction) as AlpacaEvalOutput;
    const pair = { instruction: a.instruction, baselineOutput: b.output, modelOutput: a.output };
    const coin = isSwitchedOutputs(a.instruction);
    const orders = [coin, !coin].map((switched) => ({
      isSwitchedOutputs: switched,
      messages: buildAlpacaEvalJudgeRequest(pair, template, { isSwitchedOutputs: switched }).messages,
    }));
    return {
      id: contentId(judge, ...orders.flatMap((order) => order.messages.map((message) => message.content))),
      a: { ...a, generator: nameA },
      b: { ...b, generator: nameB },
      orders,
    };
  });
  const progressPath = progressPathFor(outputPath);
  const { resamples, seed, statistics } = bootstrapOptions(options);

  return {
    label: 'moa eval compare',
    models: [{ model: judge, label: judge, path: '--judge' }],
    progressPath,
    items,
    estimateCalls: (item) => item.orders.map((order) => estimateSingleCall(judge, order.messages, ALPACA_EVAL_JUDGE_SETTINGS.maxTokens)),
    work: async (item, context) => {
      const replies = await Promise.all(
        item.orders.map(async (order) => {
          const reply = await context.callModel(judge, order.messages, {
            temperature: ALPACA_EVAL_JUDGE_SETTINGS.temperature,
            maxTokens: ALPACA_EVAL_JUDGE_SETTINGS.maxTokens,
            topLogprobs: ALPACA_EVAL_JUDGE_SETTINGS.topLogprobs,
          });
          const judgeReply = { text: reply.text, ...(reply.topLogprobs ? { topLogprobs: reply.topLogprobs } : {}) };
          const judgment = parseAlpacaEvalJudgment(judgeReply, order.isSwitchedOutputs);
          return {
            order,
            judgment,
            raw: { is_switched_outputs: order.isSwitchedOutputs, preference: judgment.preference, ...makeAlpacaEvalRawCompletion(judgeReply, judgment) },
          };
        }),
      );
      const preferences = replies.map((reply) => reply.judgment.preference);
      const both = preferences.every((preference): preference is number => preference !== null);
      const mean = both ? preferences.reduce((sum, value) => sum + value, 0) / preferences.length : null;
      const methods = new Set(replies.map((reply) => reply.judgment.method));
      const method = methods.size === 1 ? [...methods][0] : 'mixed';
      const annotation = makeAlpacaEvalAnnotation({
        model: item.a,
        reference: item.b,
        annotator: `alpaca_eval_clf[${judge}, both orders, ${method === 'logprobs' ? 'logprobs' : method === 'token' ? 'generated token' : String(method)}]`,
        judgment: { preference: mean, method: mean === null ? 'unparsed' : (replies[0]?.judgment.method ?? 'token') },
        isSwitchedOutputs: item.orders[0]?.isSwitchedOutputs ?? false,
        rawCompletion: { orders: replies.map((reply) => reply.raw) },
        pricePerExample: context.costUsd ?? null,
        timePerExample: context.elapsedMs() / 1000,
      });
      return { annotation, preference: mean === null ? null : mean - 1, usage: context.usage, latencyMs: context.elapsedMs() };
    },
    finish: () => {
      const records = readProgressRecords<AlpacaEvalPairRecord>(progressPath);
      const done = items.flatMap((item) => {
        const record = records.get(item.id);
        return record ? [{ item, record }] : [];
      });
      const annotations = done.map(({ record }) => record.annotation);
      writeFileAtomically(outputPath, toAlpacaEvalJson(annotations));
      const parsed = done.filter(({ record }) => record.preference !== null);
      const outcomes: PairwiseOutcome[] = parsed.map(({ item, record }) => ({
        id: item.a.instruction,
        category: item.a.dataset || 'all',
        preference: record.preference as number,
      }));
      const consistent = parsed.filter(({ record }) => {
        const orders = (record.annotation.raw_completion as { orders?: Array<{ preference: number | null }> } | null)?.orders ?? [];
        const sides = orders.map((order) => (order.preference === null ? null : Math.sign(order.preference - 1.5)));
        return sides.length === 2 && sides[0] === sides[1];
      }).length;
      let lengthControlled: ComparisonResult['lengthControlled'] = null;
      let note = lengthControlledNote;
      if (lengthControl && parsed.length >= 2) {
        const fit = computeLengthControlledWinRate(annotations, lengthControl.data, { evaluationInstructions: lengthControl.order });
        lengthControlled = { winRate: fit.metrics.length_controlled_winrate, standardError: fit.metrics.lc_standard_error };
      } else if (lengthControl) {
        note = 'too few judged pairs for the length-controlled win rate';
      }
      const itemIds = items.map((item) => contentId(item.a.instruction));
      return {
        benchmark: 'alpaca-eval',
        judge,
        a: comparisonSide(nameA, aPath, itemIds),
        b: comparisonSide(nameB, bPath, itemIds),
        judgmentsPath: outputPath,
        progressPath,
        total: items.length,
        missing: items.length - done.length,
        unparsed: done.length - parsed.length,
        noneParsed: done.length > 0 && parsed.length === 0,
        outcomes,
        statistics: summarizePairwise(outcomes, statistics),
        consistent,
        lengthControlled,
        ...(note !== undefined && lengthControlled === null ? { lengthControlledNote: note } : {}),
        bootstrap: { resamples, seed },
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// MT-Bench

interface MtBenchPairItem extends BatchItem {
  question: MtBenchQuestion;
  turn: 1 | 2;
  /** Game 1 shows A as assistant A, game 2 shows B as assistant A. */
  games: [MtBenchPairwiseRequest, MtBenchPairwiseRequest];
}

type MtBenchPairRecord = MtBenchPairwiseJudgment & { usage: BatchItemContext['usage']; latencyMs: number };

export function prepareMtBenchComparison(options: MtBenchComparisonOptions): EvalJob<MtBenchPairItem, MtBenchPairRecord, ComparisonResult> {
  const judge = options.judge;
  const aPath = resolvePath(options.a);
  const bPath = resolvePath(options.b);
  const questionsPath = resolvePath(options.questions);
  const promptsPath = resolvePath(options.judgePrompts);
  const [nameA, nameB] = sideNames(aPath, bPath, fastChatModelName);
  const outputPath = resolvePath(options.output ?? defaultJudgmentsPath(aPath, judge, 'pair', bPath));
  checkDistinct({ '--a': aPath, '--b': bPath, '--questions': questionsPath, '--judge-prompts': promptsPath, '--output': outputPath });
  const questions = loadMtBenchQuestions(questionsPath);
  const judgePrompts = loadMtBenchJudgePrompts(promptsPath);
  const answersA = loadMtBenchAnswers(aPath);
  const answersB = loadMtBenchAnswers(bPath);
  const byId = new Map(questions.map((question) => [question.question_id, question]));
  for (const [file, answers] of [
    [aPath, answersA],
    [bPath, answersB],
  ] as const) {
    const unknown = [...answers.keys()].filter((id) => !byId.has(id));
    if (unknown.length > 0)
      throw new ConfigError(`${file}: answers for question_id ${unknown.slice(0, 5).join(', ')} which ${questionsPath} does not have`, {
        code: 'eval_data_invalid',
        path: file,
      });
  }
  const onlyA = [...answersA.keys()].filter((id) => !answersB.has(id)).map(String);
  const onlyB = [...answersB.keys()].filter((id) => !answersA.has(id)).map(String);
  if (onlyA.length > 0 || onlyB.length > 0) throw mismatch('questions (question_id)', onlyA, onlyB, aPath, bPath);

  const references = referenceAnswersFor(answersA.keys(), byId, options.referenceAnswers);
  const items: MtBenchPairItem[] = [];
  for (const question of questions) {
    const a = answersA.get(question.question_id);
    const b = answersB.get(question.question_id);
    if (!a || !b) continue;
    for (let turn = 1 as 1 | 2; turn <= Math.min(2, question.turns.length); turn = (turn + 1) as 1 | 2) {
      let games: [MtBenchPairwiseRequest, MtBenchPairwiseRequest];
      try {
        const common = { question, turn, judgePrompts, referenceAnswer: references.get(question.question_id) };
        games = [buildMtBenchPairwiseRequest({ ...common, first: a, second: b }), buildMtBenchPairwiseRequest({ ...common, first: b, second: a })];
      } catch (error) {
        throw new ConfigError(`${aPath}: ${(error as Error).message}`, { code: 'eval_data_invalid', path: aPath, cause: error });
      }
      const fingerprint = contentId(judge, nameA, nameB, ...games.flatMap((game) => game.messages.map((message) => message.content)));
      items.push({ id: `q${question.question_id}-t${turn}-${fingerprint}`, question, turn, games });
    }
  }
  if (items.length === 0) throw new ConfigError(`${aPath}: no answer to compare`, { code: 'eval_data_invalid', path: aPath });
  const judgeName = fastChatJudgeName(judge);
  const sharedFolder = basename(dirname(outputPath)) === FASTCHAT_JUDGMENT_FOLDER;
  const progressPath = progressPathFor(outputPath, sharedFolder ? `${nameA}-vs-${nameB}` : undefined);
  const { resamples, seed, statistics } = bootstrapOptions(options);

  return {
    label: 'moa eval compare',
    models: [{ model: judge, label: judge, path: '--judge' }],
    progressPath,
    items,
    estimateCalls: (item) => item.games.map((game) => estimateSingleCall(judge, game.messages, MT_BENCH_JUDGE_SETTINGS.maxTokens)),
    work: async (item, context) => {
      const [first, second] = await Promise.all(
        item.games.map((game) =>
          context.callModel(judge, game.messages, { temperature: MT_BENCH_JUDGE_SETTINGS.temperature, maxTokens: MT_BENCH_JUDGE_SETTINGS.maxTokens }),
        ),
      );
      const [gameOne, gameTwo] = item.games;
      return {
        question_id: item.question.question_id,
        model_1: nameA,
        model_2: nameB,
        g1_winner: pairwiseWinner(parseMtBenchPairwiseVerdict(first?.text ?? ''), 1),
        g2_winner: pairwiseWinner(parseMtBenchPairwiseVerdict(second?.text ?? ''), 2),
        judge: [judgeName, gameOne.promptName],
        g1_user_prompt: gameOne.userPrompt,
        g1_judgment: first?.text ?? '',
        g2_user_prompt: gameTwo.userPrompt,
        g2_judgment: second?.text ?? '',
        turn: item.turn,
        tstamp: Date.now() / 1000,
        usage: context.usage,
        latencyMs: context.elapsedMs(),
      };
    },
    finish: () => {
      const records = readProgressRecords<MtBenchPairRecord>(progressPath);
      const done = items.flatMap((item) => {
        const record = records.get(item.id);
        return record ? [{ item, record }] : [];
      });
      const judgments: MtBenchPairwiseJudgment[] = done.map(({ record }) => {
        const { question_id, model_1, model_2, g1_winner, g2_winner, judge: judgeField, g1_user_prompt, g1_judgment, g2_user_prompt, g2_judgment, turn, tstamp } = record;
        return { question_id, model_1, model_2, g1_winner, g2_winner, judge: judgeField, g1_user_prompt, g1_judgment, g2_user_prompt, g2_judgment, turn, tstamp };
      });
      replaceOwnLines(outputPath, (line) => line.model_1 === nameA && line.model_2 === nameB && Array.isArray(line.judge) && line.judge[0] === judgeName, judgments);
      const scored = done.flatMap(({ item, record }) => {
        const preference = pairwisePreference(record);
        return preference === null ? [] : [{ item, record, preference }];
      });
      const outcomes: PairwiseOutcome[] = scored.map(({ item, preference }) => ({
        id: `${item.question.question_id}-${item.turn}`,
        category: item.question.category,
        preference,
      }));
      const random = randomFromSeed(seed);
      const summary = summarizePairwise(outcomes, { ...statistics, random });
      const perTurn = (turn: 1 | 2): WinRateInterval =>
        winRateWithInterval(
          scored.filter(({ item }) => item.turn === turn).map(({ preference }) => preference),
          { ...statistics, random },
        );
      const itemIds = [...new Set(items.map((item) => String(item.question.question_id)))];
      return {
        benchmark: 'mt-bench',
        judge,
        a: comparisonSide(nameA, aPath, itemIds),
        b: comparisonSide(nameB, bPath, itemIds),
        judgmentsPath: outputPath,
        progressPath,
        total: items.length,
        missing: items.length - done.length,
        unparsed: done.length - scored.length,
        noneParsed: done.length > 0 && scored.length === 0,
        outcomes,
        statistics: summary,
        turns: { 1: perTurn(1), 2: perTurn(2) },
        consistent: scored.filter(({ record }) => record.g1_winner === record.g2_winner).length,
        lengthControlled: null,
        lengthControlledNote: 'MT-Bench defines no length-controlled win rate',
        bootstrap: { resamples, seed },
      };
    },
  };
}

/** A win rate with its interval, as `moa eval compare --json` prints it (NaN becomes null in JSON). */
export interface ComparisonIntervalJson {
  winRate: number;
  interval: [number, number];
  standardError: number;
  wins: number;
  ties: number;
  losses: number;
  n: number;
}

/** What `moa eval compare --json` prints (without the runner summary), and `moa report` reads back. */
export interface ComparisonJson extends ComparisonIntervalJson {
  kind: 'moa-comparison';
  benchmark: ComparisonBenchmark;
  judge: string;
  a: ComparisonSide;
  b: ComparisonSide;
  unparsed: number;
  missing: number;
  consistent: number;
  lengthControlled: { winRate: number; standardError: number } | null;
  lengthControlledNote?: string;
  categories: Record<string, ComparisonIntervalJson>;
  turns?: Record<'1' | '2', ComparisonIntervalJson>;
  bootstrap: { resamples: number; seed: string };
  judgments: string;
  progress: string;
}

function intervalJson(interval: WinRateInterval): ComparisonIntervalJson {
  return {
    winRate: interval.winRate,
    interval: interval.interval,
    standardError: interval.standardError,
    wins: interval.wins,
    ties: interval.ties,
    losses: interval.losses,
    n: interval.n,
  };
}

/** The `--json` of a comparison (also what `moa report` reads: `kind: "moa-comparison"`). */
export function comparisonJson(result: ComparisonResult): ComparisonJson {
  return {
    kind: 'moa-comparison',
    benchmark: result.benchmark,
    judge: result.judge,
    a: result.a,
    b: result.b,
    ...intervalJson(result.statistics.overall),
    unparsed: result.unparsed,
    missing: result.missing,
    consistent: result.consistent,
    lengthControlled: result.lengthControlled,
    ...(result.lengthControlledNote !== undefined ? { lengthControlledNote: result.lengthControlledNote } : {}),
    categories: Object.fromEntries(Object.entries(result.statistics.categories).map(([category, interval]) => [category, intervalJson(interval)])),
    ...(result.turns ? { turns: { 1: intervalJson(result.turns[1]), 2: intervalJson(result.turns[2]) } } : {}),
    bootstrap: result.bootstrap,
    judgments: result.judgmentsPath,
    progress: result.progressPath,
  };
}

export function prepareComparison(options: ComparisonOptions): EvalJob<BatchItem, object, ComparisonResult> {
  const job = options.benchmark === 'alpaca-eval' ? prepareAlpacaEvalComparison(options) : prepareMtBenchComparison(options);
  return job as unknown as EvalJob<BatchItem, object, ComparisonResult>;
}

/** Prepares and runs a pairwise comparison of A and B (see `prepareComparison` and `runEvalJob`). */
export function comparePairwise(options: ComparisonOptions, runner: EvalRunnerOptions = {}): Promise<EvalJobOutcome<ComparisonResult>> {
  return runEvalJob(prepareComparison(options), runner);
}
