/**
 * The statistics of a pairwise comparison of A against B: each compared instance carries A's
 * preference in [0, 1] (1 = A better, 0 = B better, 0.5 = a tie; soft values in between when the
 * judge gave probabilities). The win rate of A is 100 · mean(preference) — AlpacaEval's soft win
 * rate, and FastChat's `win_rate_adjusted` (a tie counts half) for hard verdicts. Its 95%
 * confidence interval is a percentile bootstrap over instances with a seeded generator, so a
 * rerun gives the same interval.
 */
import { PythonRandom } from './python-random.js';

export interface PairwiseOutcome {
  /** The compared instance (an instruction, or a question and turn). */
  id: string;
  /** Its category (AlpacaEval's `dataset`, MT-Bench's category). */
  category: string;
  /** A's preference over B in [0, 1]. */
  preference: number;
}

export interface WinRateInterval {
  /** 100 · mean preference of A. */
  winRate: number;
  /** Standard error of that mean (sample sd / √n), in percent; NaN below two instances. */
  standardError: number;
  /** Percentile bootstrap 95% interval of the win rate, in percent ([NaN, NaN] without instances). */
  interval: [number, number];
  /** Preference above / below / at 0.5. */
  wins: number;
  losses: number;
  ties: number;
  n: number;
}

export interface BootstrapOptions {
  /** Resamples (default 2000). */
  resamples?: number;
  /** A uniform generator in [0, 1); default Python's `random.Random(seed)` (MT19937). */
  random?: () => number;
  /** Seed of the default generator (default "moa-compare"). */
  seed?: string;
  /** Two-sided confidence level (default 0.95). */
  confidence?: number;
}

export const DEFAULT_BOOTSTRAP_RESAMPLES = 2000;
export const DEFAULT_BOOTSTRAP_SEED = 'moa-compare';

/** numpy's default percentile (linear interpolation between closest ranks) of sorted values, q in [0, 100]. */
export function percentileOfSorted(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const position = (q / 100) * (sorted.length - 1);
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

function mean(values: readonly number[]): number {
  let sum = 0;
  for (const value of values) sum += value;
  return sum / values.length;
}

function standardError(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const average = mean(values);
  let squares = 0;
  for (const value of values) squares += (value - average) ** 2;
  return Math.sqrt(squares / (values.length - 1) / values.length);
}

/**
 * Percentile bootstrap of the mean: `resamples` times, draw n values with replacement (index
 * floor(random() · n), n draws per resample), take the mean; the interval is the
 * (1 − confidence)/2 and (1 + confidence)/2 percentiles of those means.
 */
export function bootstrapMeanInterval(values: readonly number[], options: BootstrapOptions = {}): [number, number] {
  const n = values.length;
  if (n === 0) return [Number.NaN, Number.NaN];
  const resamples = options.resamples ?? DEFAULT_BOOTSTRAP_RESAMPLES;
  const confidence = options.confidence ?? 0.95;
  const random = options.random ?? randomFromSeed(options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const means = new Float64Array(resamples);
  for (let resample = 0; resample < resamples; resample++) {
    let sum = 0;
    for (let draw = 0; draw < n; draw++) sum += values[Math.floor(random() * n)] as number;
    means[resample] = sum / n;
  }
  means.sort();
  const sorted = Array.from(means);
  return [percentileOfSorted(sorted, ((1 - confidence) / 2) * 100), percentileOfSorted(sorted, ((1 + confidence) / 2) * 100)];
}

/** The default generator: Python's `random.Random(seed).random`. */
export function randomFromSeed(seed: string): () => number {
  const generator = new PythonRandom(seed);
  return () => generator.random();
}

/** Win rate, standard error, bootstrap interval and counts of A's preferences. */
export function winRateWithInterval(preferences: readonly number[], options: BootstrapOptions = {}): WinRateInterval {
  for (const preference of preferences) {
    if (!(preference >= 0 && preference <= 1)) throw new Error(`a preference must be in [0, 1], got ${preference}`);
  }
  const [low, high] = bootstrapMeanInterval(preferences, options);
  return {
    winRate: preferences.length > 0 ? mean(preferences) * 100 : Number.NaN,
    standardError: standardError(preferences) * 100,
    interval: [low * 100, high * 100],
    wins: preferences.filter((preference) => preference > 0.5).length,
    losses: preferences.filter((preference) => preference < 0.5).length,
    ties: preferences.filter((preference) => preference === 0.5).length,
    n: preferences.length,
  };
}

export interface PairwiseSummary {
  overall: WinRateInterval;
  /** Per category, categories sorted by name. */
  categories: Record<string, WinRateInterval>;
}

/**
 * The comparison's statistics: overall, then per category (in name order). One generator serves
 * every interval, in that order, so the whole summary is reproducible from the seed.
 */
export function summarizePairwise(outcomes: readonly PairwiseOutcome[], options: BootstrapOptions = {}): PairwiseSummary {
  const random = options.random ?? randomFromSeed(options.seed ?? DEFAULT_BOOTSTRAP_SEED);
  const shared = { ...options, random };
  const overall = winRateWithInterval(
    outcomes.map((outcome) => outcome.preference),
    shared,
  );
  const categories: Record<string, WinRateInterval> = {};
  for (const category of [...new Set(outcomes.map((outcome) => outcome.category))].sort()) {
    categories[category] = winRateWithInterval(
      outcomes.filter((outcome) => outcome.category === category).map((outcome) => outcome.preference),
      shared,
    );
  }
  return { overall, categories };
}
