/**
 * From loaded result files to the numbers the report shows (pure: no file access here):
 *
 * - AlpacaEval: win rate and length-controlled win rate with 95% intervals (±1.96 standard
 *   errors, as the leaderboard reports standard errors) per evaluated model, beside the
 *   leaderboard's reference rows (GPT-4o, Together-MoA by default).
 * - Comparisons (`moa eval compare --json`, FastChat pairwise judgments): A's win rate with its
 *   bootstrap interval, overall, per category and per turn.
 * - MT-Bench: scores per category, turn 1 / turn 2 / overall per model (FastChat's means).
 * - FLASK: the twelve skills' means per model.
 * - Cost against quality: each configuration's cost per instance (its `moa eval` progress file)
 *   against its benchmark score; the quality file is found by content (the same answers), or for
 *   MT-Bench by FastChat's model name.
 * - Latency and time to first token per configuration and per trace folder; per-model calls,
 *   retries, failures, cuts and cache hits from traces.
 */
import type { MoAEvent } from '../../core/events.js';
import type { AlpacaEvalAnnotation, AlpacaEvalLeaderboardRow, LengthControlData } from '../alpaca-eval-data.js';
import { computeLengthControlledWinRate, computeWinRate } from '../alpaca-eval-metrics.js';
import { flaskSkillTable, type FlaskSkillScore } from '../jobs/judge-flask.js';
import type { ComparisonJson } from '../jobs/compare.js';
import type { MtBenchQuestion } from '../mt-bench-data.js';
import { summarizeMtBenchJudgments } from '../mt-bench-judge.js';
import { pairwisePreference } from '../mt-bench-pairwise.js';
import { summarizePairwise, winRateWithInterval, randomFromSeed, DEFAULT_BOOTSTRAP_SEED, type WinRateInterval } from '../pairwise-statistics.js';
import type { GenerationBenchmark, LoadedResult, ReportInputs, SkippedInput } from './report-inputs.js';

/** 95% normal interval from a standard error. */
const Z_95 = 1.959963984540054;

export const DEFAULT_REFERENCE_ROWS = ['gpt-4o-2024-05-13', 'Together-MoA'];

export interface ReportContext {
  /** instruction_difficulty.csv + df_gamed.csv, for the length-controlled win rate. */
  lengthControlData?: LengthControlData;
  /** AlpacaEval's evaluation order (difficulties by instruction); else annotations are taken in evaluation order. */
  evaluationInstructions?: readonly string[];
  leaderboard?: readonly AlpacaEvalLeaderboardRow[];
  /** Leaderboard rows to show beside ours (default GPT-4o and Together-MoA). */
  referenceRows?: readonly string[];
  /** MT-Bench questions (their categories). */
  questions?: ReadonlyArray<Pick<MtBenchQuestion, 'question_id' | 'category'>>;
  /** What was not available (no lc data, no leaderboard…), said in the report. */
  notes?: string[];
}

export interface AlpacaEvalRow {
  name: string;
  /** Where the numbers come from: an annotations file, or the leaderboard. */
  source: string;
  reference: boolean;
  baseline: string;
  winRate: number;
  winRateInterval: [number, number] | null;
  lengthControlled: number | null;
  lengthControlledInterval: [number, number] | null;
  n: number | null;
}

export interface ComparisonView {
  title: string;
  source: string;
  benchmark: 'alpaca-eval' | 'mt-bench';
  a: string;
  b: string;
  judge: string;
  overall: IntervalView;
  categories: Array<{ name: string } & IntervalView>;
  turns: Array<{ name: string } & IntervalView>;
  lengthControlled: { winRate: number; standardError: number } | null;
  lengthControlledNote?: string;
  costPerItemA: number | null;
  costPerItemB: number | null;
  consistent: number | null;
}

export interface IntervalView {
  winRate: number;
  interval: [number, number];
  wins: number;
  ties: number;
  losses: number;
  n: number;
}

export interface MtBenchModelView {
  name: string;
  source: string;
  overall: number | null;
  turn1: number | null;
  turn2: number | null;
  rated: number;
  unrated: number;
  categories: Record<string, number | null>;
}

export interface FlaskModelView {
  name: string;
  source: string;
  skills: FlaskSkillScore[];
  reviews: number;
  unparsed: number;
  /** Mean of the skills that have a score (the report's single FLASK number). */
  mean: number | null;
}

export interface ConfigurationView {
  name: string;
  benchmark: GenerationBenchmark;
  source: string;
  items: number;
  costPerItemUsd: number | null;
  latenciesMs: number[];
  ttftsMs: number[];
  /** The benchmark score of the same answers, when a judged file of them is among the inputs. */
  quality: { value: number; label: string; source: string } | null;
}

export interface TraceGroupView {
  name: string;
  runs: number;
  latenciesMs: number[];
  ttftsMs: number[];
}

export interface ModelReliabilityView {
  model: string;
  calls: number;
  retries: number;
  failures: number;
  cuts: number;
  cacheHits: number;
}

export interface ReportModel {
  title: string;
  generatedAt: string;
  inputs: Array<{ file: string; kind: LoadedResult['kind'] }>;
  skipped: SkippedInput[];
  notes: string[];
  alpacaEval: AlpacaEvalRow[];
  alpacaEvalNotes: string[];
  comparisons: ComparisonView[];
  mtBench: { categories: string[]; models: MtBenchModelView[]; notes: string[] };
  flask: FlaskModelView[];
  configurations: ConfigurationView[];
  traceGroups: TraceGroupView[];
  reliability: ModelReliabilityView[];
}

function interval(value: number, standardError: number | null): [number, number] | null {
  return standardError !== null && Number.isFinite(standardError) ? [value - Z_95 * standardError, value + Z_95 * standardError] : null;
}

function finiteOrNull(value: number): number | null {
  return Number.isFinite(value) ? value : null;
}

function intervalView(entry: Pick<WinRateInterval, 'winRate' | 'interval' | 'wins' | 'ties' | 'losses' | 'n'>): IntervalView {
  return {
    winRate: entry.winRate,
    interval: [entry.interval[0] ?? Number.NaN, entry.interval[1] ?? Number.NaN],
    wins: entry.wins,
    ties: entry.ties,
    losses: entry.losses,
    n: entry.n,
  };
}

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

// ---------------------------------------------------------------------------------------------

function groupBy<Item>(items: readonly Item[], key: (item: Item) => string): Map<string, Item[]> {
  const groups = new Map<string, Item[]>();
  for (const item of items) {
    const name = key(item);
    groups.set(name, [...(groups.get(name) ?? []), item]);
  }
  return groups;
}

interface AlpacaEvalGroup {
  row: AlpacaEvalRow;
  annotations: AlpacaEvalAnnotation[];
}

function alpacaEvalGroups(results: readonly LoadedResult[], context: ReportContext, notes: string[]): AlpacaEvalGroup[] {
  const groups: AlpacaEvalGroup[] = [];
  for (const result of results) {
    if (result.kind !== 'alpaca-eval-annotations') continue;
    for (const [, annotations] of groupBy(result.annotations, (annotation) => `${annotation.generator_1}\u0000${annotation.generator_2}`)) {
      const first = annotations[0] as AlpacaEvalAnnotation;
      const metrics = computeWinRate(annotations.map((annotation) => annotation.preference));
      let lengthControlled: number | null = null;
      let lengthControlledInterval: [number, number] | null = null;
      if (context.lengthControlData && metrics.n_total >= 2) {
        const evaluation = context.evaluationInstructions;
        const known = evaluation ? new Set(evaluation) : undefined;
        const byInstruction = known !== undefined && annotations.every((annotation) => known.has(annotation.instruction));
        try {
          const fit = computeLengthControlledWinRate(annotations, context.lengthControlData, byInstruction && evaluation ? { evaluationInstructions: evaluation } : {});
          lengthControlled = finiteOrNull(fit.metrics.length_controlled_winrate);
          lengthControlledInterval = lengthControlled === null ? null : interval(lengthControlled, finiteOrNull(fit.metrics.lc_standard_error));
        } catch (error) {
          notes.push(`${first.generator_2} (${result.file}): no length-controlled win rate: ${(error as Error).message}`);
        }
      }
      groups.push({
        annotations,
        row: {
          name: first.generator_2,
          source: result.file,
          reference: false,
          baseline: first.generator_1,
          winRate: metrics.win_rate,
          winRateInterval: interval(metrics.win_rate, finiteOrNull(metrics.standard_error)),
          lengthControlled,
          lengthControlledInterval,
          n: metrics.n_total,
        },
      });
    }
  }
  return groups;
}

function leaderboardRows(context: ReportContext, notes: string[]): AlpacaEvalRow[] {
  if (!context.leaderboard) return [];
  const rows: AlpacaEvalRow[] = [];
  for (const name of context.referenceRows ?? DEFAULT_REFERENCE_ROWS) {
    const entry = context.leaderboard.find((row) => row.name === name);
    if (!entry) {
      notes.push(`the leaderboard has no row "${name}"`);
      continue;
    }
    rows.push({
      name: entry.name,
      source: 'AlpacaEval 2.0 leaderboard',
      reference: true,
      baseline: 'gpt4_1106_preview',
      winRate: entry.win_rate,
      winRateInterval: interval(entry.win_rate, entry.standard_error),
      lengthControlled: entry.length_controlled_winrate,
      lengthControlledInterval: entry.length_controlled_winrate === null ? null : interval(entry.length_controlled_winrate, entry.lc_standard_error),
      n: entry.n_total,
    });
    if (entry.lc_standard_error === null)
      notes.push(`the leaderboard publishes no standard error of ${entry.name}'s length-controlled win rate: drawn without an interval`);
  }
  return rows;
}

function comparisonViews(results: readonly LoadedResult[], context: ReportContext): ComparisonView[] {
  const categoryOf = new Map((context.questions ?? []).map((question) => [question.question_id, question.category]));
  const views: ComparisonView[] = [];
  for (const result of results) {
    if (result.kind === 'comparison') {
      const comparison: ComparisonJson = result.comparison;
      const nullable = (value: number | null): number => (value === null ? Number.NaN : value);
      const fromJson = (entry: ComparisonJson['categories'][string]): IntervalView => ({
        winRate: nullable(entry.winRate),
        interval: [nullable(entry.interval?.[0] ?? null), nullable(entry.interval?.[1] ?? null)],
        wins: entry.wins,
        ties: entry.ties,
        losses: entry.losses,
        n: entry.n,
      });
      views.push({
        title: `${comparison.a.name} vs ${comparison.b.name}`,
        source: result.file,
        benchmark: comparison.benchmark,
        a: comparison.a.name,
        b: comparison.b.name,
        judge: comparison.judge,
        overall: fromJson(comparison),
        categories: Object.entries(comparison.categories ?? {}).map(([name, entry]) => ({ name, ...fromJson(entry) })),
        turns: Object.entries(comparison.turns ?? {}).map(([turn, entry]) => ({ name: `turn ${turn}`, ...fromJson(entry) })),
        lengthControlled: comparison.lengthControlled,
        ...(comparison.lengthControlledNote !== undefined ? { lengthControlledNote: comparison.lengthControlledNote } : {}),
        costPerItemA: comparison.a.costPerItemUsd ?? null,
        costPerItemB: comparison.b.costPerItemUsd ?? null,
        consistent: comparison.consistent,
      });
    } else if (result.kind === 'mt-bench-pairwise') {
      for (const [, judgments] of groupBy(result.judgments, (judgment) => `${judgment.model_1}\u0000${judgment.model_2}\u0000${judgment.judge[0]}`)) {
        const first = judgments[0] as (typeof judgments)[number];
        const scored = judgments.flatMap((judgment) => {
          const preference = pairwisePreference(judgment);
          return preference === null ? [] : [{ judgment, preference }];
        });
        // The same draws as `moa eval compare` makes: overall, the categories, then turn 1 and turn 2.
        const random = randomFromSeed(DEFAULT_BOOTSTRAP_SEED);
        const outcomes = scored.map(({ judgment, preference }) => ({
          id: `${judgment.question_id}-${judgment.turn}`,
          category: categoryOf.get(judgment.question_id) ?? 'all',
          preference,
        }));
        const summary = summarizePairwise(outcomes, { random });
        const turns = ([1, 2] as const).map((turn) => ({
          name: `turn ${turn}`,
          ...intervalView(
            winRateWithInterval(
              scored.filter(({ judgment }) => judgment.turn === turn).map(({ preference }) => preference),
              { random },
            ),
          ),
        }));
        views.push({
          title: `${first.model_1} vs ${first.model_2}`,
          source: result.file,
          benchmark: 'mt-bench',
          a: first.model_1,
          b: first.model_2,
          judge: first.judge[0],
          overall: intervalView(summary.overall),
          categories: categoryOf.size > 0 ? Object.entries(summary.categories).map(([name, entry]) => ({ name, ...intervalView(entry) })) : [],
          turns: turns.filter((turn) => turn.n > 0),
          lengthControlled: null,
          lengthControlledNote: 'MT-Bench defines no length-controlled win rate',
          costPerItemA: null,
          costPerItemB: null,
          consistent: scored.filter(({ judgment }) => judgment.g1_winner === judgment.g2_winner).length,
        });
      }
    }
  }
  return views;
}

function mtBenchViews(results: readonly LoadedResult[], context: ReportContext): ReportModel['mtBench'] {
  const notes: string[] = [];
  const models: MtBenchModelView[] = [];
  const categories = new Set<string>();
  const questions = context.questions ?? [];
  for (const result of results) {
    if (result.kind !== 'mt-bench-judgments') continue;
    if (questions.length === 0) notes.push(`${result.file}: no MT-Bench questions file, so no categories (pass --questions or set MOA_BENCH_DATA)`);
    for (const scores of summarizeMtBenchJudgments(result.judgments, questions)) {
      const perCategory: Record<string, number | null> = {};
      for (const [category, summary] of Object.entries(scores.byCategory)) {
        categories.add(category);
        perCategory[category] = finiteOrNull(summary.overall.score);
      }
      models.push({
        name: scores.model,
        source: result.file,
        overall: finiteOrNull(scores.overall.score),
        turn1: finiteOrNull(scores.firstTurn.score),
        turn2: finiteOrNull(scores.secondTurn.score),
        rated: scores.overall.count,
        unrated: scores.unparsed,
        categories: perCategory,
      });
    }
  }
  return { categories: [...categories].sort(), models, notes };
}

function flaskViews(results: readonly LoadedResult[]): FlaskModelView[] {
  return results.flatMap((result) => {
    if (result.kind !== 'flask-reviews') return [];
    const skills = flaskSkillTable(result.reviews);
    const scored = skills.map((entry) => entry.average).filter((value): value is number => value !== null);
    return [
      {
        name: result.name,
        source: result.file,
        skills,
        reviews: result.reviews.length,
        unparsed: result.reviews.filter((review) => Object.keys(review.score).length === 0).length,
        mean: scored.length > 0 ? mean(scored) : null,
      },
    ];
  });
}

/** The share of `keys` whose answer in `answers` is the same text. */
function overlap(records: ReadonlyArray<{ key: string; answer: string }>, answers: ReadonlyMap<string, string>): number {
  if (answers.size === 0) return 0;
  let same = 0;
  for (const record of records) if (answers.get(record.key) === record.answer) same++;
  return same / answers.size;
}

/** Half the answers the same: the judged file is this configuration's. */
const SAME_ANSWERS = 0.5;

function configurationViews(
  results: readonly LoadedResult[],
  alpaca: readonly AlpacaEvalGroup[],
  mtBench: readonly MtBenchModelView[],
  flask: readonly FlaskModelView[],
): ConfigurationView[] {
  const flaskReviews = results.filter((result): result is Extract<LoadedResult, { kind: 'flask-reviews' }> => result.kind === 'flask-reviews');
  return results.flatMap((result) => {
    if (result.kind !== 'generation') return [];
    const costs = result.records.map((record) => record.costUsd);
    const costPerItemUsd = costs.length > 0 && costs.every((cost) => cost !== undefined) ? mean(costs) : null;
    let quality: ConfigurationView['quality'] = null;
    if (result.benchmark === 'alpaca-eval') {
      const match = alpaca.find(
        (group) => overlap(result.records, new Map(group.annotations.map((annotation) => [annotation.instruction, annotation.output_2]))) >= SAME_ANSWERS,
      );
      if (match) {
        const lc = match.row.lengthControlled;
        quality =
          lc !== null
            ? { value: lc, label: 'AlpacaEval LC win rate (%)', source: match.row.source }
            : { value: match.row.winRate, label: 'AlpacaEval win rate (%)', source: match.row.source };
      }
    } else if (result.benchmark === 'mt-bench') {
      const match = mtBench.find((model) => model.name === result.name && model.overall !== null);
      if (match?.overall !== null && match?.overall !== undefined) quality = { value: match.overall, label: 'MT-Bench score', source: match.source };
    } else {
      const reviews = flaskReviews.find(
        (entry) => overlap(result.records, new Map(entry.reviews.map((review) => [String(review.idx), review.target_txt]))) >= SAME_ANSWERS,
      );
      const view = reviews ? flask.find((entry) => entry.source === reviews.file) : undefined;
      if (view?.mean !== null && view?.mean !== undefined) quality = { value: view.mean, label: 'FLASK mean skill score (1–5)', source: view.source };
    }
    return [
      {
        name: result.name,
        benchmark: result.benchmark,
        source: result.file,
        items: result.records.length,
        costPerItemUsd,
        latenciesMs: result.records.map((record) => record.latencyMs).filter((value): value is number => value !== undefined),
        ttftsMs: result.records.map((record) => record.ttftMs).filter((value): value is number => value !== undefined),
        quality,
      },
    ];
  });
}

/**
 * A run's time to first token: `run-end.ttftMs` when the engine reports it, else the `t` of the
 * first `agent-delta` of the final layer (streamed runs); undefined when the trace has neither.
 */
export function traceTtftMs(events: readonly MoAEvent[]): number | undefined {
  const start = events.find((event) => event.type === 'run-start');
  const end = events.find((event) => event.type === 'run-end');
  const reported = (end as (MoAEvent & { ttftMs?: unknown }) | undefined)?.ttftMs;
  if (typeof reported === 'number' && Number.isFinite(reported)) return reported;
  if (start?.type !== 'run-start') return undefined;
  const finalLayer = start.layers.length - 1;
  const delta = events.find((event) => event.type === 'agent-delta' && event.layer === finalLayer && event.delta.length > 0);
  return delta?.t;
}

/** One trace file may hold one run, or several one after another (split by run-start). */
function runsOf(events: readonly MoAEvent[]): MoAEvent[][] {
  const runs: MoAEvent[][] = [];
  for (const event of events) {
    if (event.type === 'run-start' || runs.length === 0) runs.push([]);
    runs[runs.length - 1]?.push(event);
  }
  return runs;
}

function traceViews(results: readonly LoadedResult[]): { groups: TraceGroupView[]; reliability: ModelReliabilityView[] } {
  const groups = new Map<string, TraceGroupView>();
  const models = new Map<string, ModelReliabilityView>();
  const modelEntry = (model: string): ModelReliabilityView => {
    const entry = models.get(model) ?? { model, calls: 0, retries: 0, failures: 0, cuts: 0, cacheHits: 0 };
    models.set(model, entry);
    return entry;
  };
  for (const result of results) {
    if (result.kind !== 'trace') continue;
    const group = groups.get(result.group) ?? { name: result.group, runs: 0, latenciesMs: [], ttftsMs: [] };
    groups.set(result.group, group);
    for (const run of runsOf(result.events)) {
      group.runs++;
      const end = run.find((event) => event.type === 'run-end' || event.type === 'run-error');
      if (end && (end.type === 'run-end' || end.type === 'run-error')) group.latenciesMs.push(end.latencyMs);
      const ttft = end?.type === 'run-end' ? traceTtftMs(run) : undefined;
      if (ttft !== undefined) group.ttftsMs.push(ttft);
      for (const event of run) {
        if (event.type === 'agent-start') modelEntry(event.model).calls++;
        else if (event.type === 'agent-retry') modelEntry(event.model).retries++;
        else if (event.type === 'agent-error') {
          if (event.cut) modelEntry(event.model).cuts++;
          else modelEntry(event.model).failures++;
        } else if (event.type === 'agent-end' && event.cached) {
          modelEntry(event.model).cacheHits++;
        }
      }
    }
  }
  return { groups: [...groups.values()], reliability: [...models.values()].sort((left, right) => left.model.localeCompare(right.model)) };
}

export function buildReportModel(inputs: ReportInputs, context: ReportContext = {}, options: { title?: string; now?: Date } = {}): ReportModel {
  const { results } = inputs;
  const alpacaEvalNotes: string[] = [];
  const groups = alpacaEvalGroups(results, context, alpacaEvalNotes);
  if (groups.length > 0 && !context.lengthControlData)
    alpacaEvalNotes.push('no length-control data (instruction_difficulty.csv, df_gamed.csv): win rates only; pass --lc-data DIR or set MOA_BENCH_DATA');
  const references =
    groups.length > 0 || results.some((result) => result.kind === 'comparison' && result.comparison.benchmark === 'alpaca-eval')
      ? leaderboardRows(context, alpacaEvalNotes)
      : [];
  if (groups.length > 0 && !context.leaderboard) alpacaEvalNotes.push('no leaderboard file: no reference rows (pass --leaderboard FILE or set MOA_BENCH_DATA)');
  const mtBench = mtBenchViews(results, context);
  const flask = flaskViews(results);
  const traces = traceViews(results);
  return {
    title: options.title ?? 'MoA evaluation report',
    generatedAt: (options.now ?? new Date()).toISOString(),
    inputs: results.map((result) => ({ file: result.file, kind: result.kind })),
    skipped: inputs.skipped,
    notes: [...(context.notes ?? [])],
    alpacaEval: [...groups.map((group) => group.row), ...references],
    alpacaEvalNotes,
    comparisons: comparisonViews(results, context),
    mtBench,
    flask,
    configurations: configurationViews(results, groups, mtBench.models, flask),
    traceGroups: traces.groups,
    reliability: traces.reliability,
  };
}
