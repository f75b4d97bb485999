/**
 * AlpacaEval 2.0's metrics from pairwise annotations: the win rate (with its standard error and
 * counts, as `get_winrate` reports them) and the length-controlled win rate, computed as
 * `get_length_controlled_winrate` (glm `length_controlled_v1`) defines it:
 *
 *   P(model preferred on i) = σ(θ_len·tanh(Δᵢ/sd(Δ)) + θ_diff·dᵢ + θ_m·g)
 *
 * with Δᵢ = len(baseline output) − len(model output) in code points, sd the sample standard
 * deviation over the model's rows, dᵢ the fixed instruction difficulty, g = 1 on the model's rows
 * and 0 on the gamed-baseline rows (df_gamed, weight λ/2 = 0.1 each) that regularise θ_len and
 * θ_diff. Fitted per model (L1 penalty, C chosen by 5-fold grouped cross-validation over
 * logspace(−4, 4, 10), no intercept); LC = 100·mean σ(θ_diff·dᵢ + θ_m), i.e. the length term zeroed.
 */
import type { AlpacaEvalAnnotation, LengthControlData } from './alpaca-eval-data.js';
import { crossValidatedL1LogisticRegression, defaultInverseRegularizationGrid, sigmoid, type SoftLabelData } from './logistic-regression.js';

export interface WinRateMetrics {
  /** Mean of (preference − 1), in percent. */
  win_rate: number;
  /** Standard error of that mean (sample sd / √n), in percent. */
  standard_error: number;
  n_wins: number;
  n_wins_base: number;
  n_draws: number;
  /** Annotations with a valid preference. */
  n_total: number;
  /** Win rate after rounding every preference to a win, a loss or a draw, in percent. */
  discrete_win_rate: number;
}

export interface LengthControlledMetrics extends WinRateMetrics {
  length_controlled_winrate: number;
  lc_standard_error: number;
}

export interface LengthControlledFit {
  metrics: LengthControlledMetrics;
  /** θ_len, θ_diff, θ_m, as AlpacaEval stores them in its weights CSV. */
  coefficients: { length: number; instructionDifficulty: number; model: number };
  /** The C chosen by cross-validation (null for the baseline against itself: no fit). */
  inverseRegularization: number | null;
  /** The per-instruction predicted preference with the length term zeroed (AlpacaEval's `glm_preference`). */
  lengthControlledPreferences: number[];
  model: string;
  baseline: string;
}

/** AlpacaEval's `regularize_to_baseline_lambda` for `length_controlled_v1`. */
export const REGULARIZE_TO_BASELINE_LAMBDA = 0.2;
export const CROSS_VALIDATION_FOLDS = 5;

function mean(values: readonly number[]): number {
  return values.reduce((sum, value) => sum + value, 0) / values.length;
}

/** pandas `Series.sem()`: sample standard deviation (ddof = 1) / √n; NaN below two values. */
export function standardErrorOfMean(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const average = mean(values);
  const variance = values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}

function sampleStandardDeviation(values: readonly number[]): number {
  if (values.length < 2) return Number.NaN;
  const average = mean(values);
  return Math.sqrt(values.reduce((sum, value) => sum + (value - average) ** 2, 0) / (values.length - 1));
}

/** The legacy draw encoding 0 becomes 1.5; null (unparsed) stays null. */
function normalizedPreference(preference: number | null): number | null {
  if (preference === null || Number.isNaN(preference)) return null;
  return preference === 0 ? 1.5 : preference;
}

function isValidPreference(preference: number | null): preference is number {
  return preference !== null && preference >= 1 && preference <= 2;
}

/** numpy's round (half to even), as pandas `.round()` applies it. */
function roundHalfToEven(value: number): number {
  const floor = Math.floor(value);
  const difference = value - floor;
  if (difference > 0.5) return floor + 1;
  if (difference < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}

/** `get_winrate`: soft win rate, its standard error, and counts (preferences outside [1, 2] or null are dropped). */
export function computeWinRate(preferences: readonly (number | null)[]): WinRateMetrics {
  const n_draws = preferences.filter((preference) => preference === 1.5 || preference === 0).length;
  const valid = preferences
    .map(normalizedPreference)
    .filter(isValidPreference)
    .map((preference) => preference - 1);
  // Zero-one rule: 1.5 counts as a draw, everything else is rounded to a win or a loss.
  const discrete = preferences
    .map((preference) => (preference === 1.5 || preference === 0 ? 1.5 : preference === null || Number.isNaN(preference) ? null : roundHalfToEven(preference)))
    .filter(isValidPreference)
    .map((preference) => preference - 1);
  return {
    win_rate: valid.length > 0 ? mean(valid) * 100 : Number.NaN,
    standard_error: standardErrorOfMean(valid) * 100,
    n_wins: valid.filter((value) => value > 0.5).length,
    n_wins_base: valid.filter((value) => value < 0.5).length,
    n_draws,
    n_total: valid.length,
    discrete_win_rate: discrete.length > 0 ? mean(discrete) * 100 : Number.NaN,
  };
}

/** Python's `len(str)`: Unicode code points, not UTF-16 units. */
export function codePointLength(text: string): number {
  let length = 0;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdbff && index + 1 < text.length) {
      const next = text.charCodeAt(index + 1);
      if (next >= 0xdc00 && next <= 0xdfff) index++;
    }
    length++;
  }
  return length;
}

export interface LengthControlOptions {
  /**
   * The evaluation set's instructions in evaluation order: each annotation's difficulty is then
   * looked up by its instruction. Without it, row i of the annotations is instruction i (what
   * AlpacaEval does: its annotations are always in evaluation order).
   */
  evaluationInstructions?: readonly string[];
  /** The C grid (default scikit-learn's logspace(−4, 4, 10)). */
  inverseRegularizationGrid?: readonly number[];
  /**
   * Weight λ of the gamed-baseline rows (each gets λ/2); default 0.2 (`length_controlled_v1`).
   * 0 leaves them out (upstream's `length_controlled_noreg`).
   */
  regularizeToBaselineLambda?: number;
}

/** Position of each annotation in the evaluation order (the key into instruction difficulty). */
function evaluationIndices(annotations: readonly AlpacaEvalAnnotation[], difficultyCount: number, options: LengthControlOptions): number[] {
  if (options.evaluationInstructions) {
    const positions = new Map(options.evaluationInstructions.map((instruction, index) => [instruction, index]));
    return annotations.map((annotation, row) => {
      const position = positions.get(annotation.instruction);
      if (position === undefined) throw new Error(`annotation ${row + 1}: its instruction is not in the evaluation set ("${annotation.instruction.slice(0, 60)}")`);
      if (position >= difficultyCount) throw new Error(`annotation ${row + 1}: evaluation position ${position} has no instruction difficulty (only ${difficultyCount})`);
      return position;
    });
  }
  if (annotations.length > difficultyCount) {
    throw new Error(
      `${annotations.length} annotations but instruction difficulty for only ${difficultyCount} instructions: the length-controlled win rate is defined for AlpacaEval's evaluation set, in its order`,
    );
  }
  return annotations.map((_, row) => row);
}

function singleName(values: readonly string[], what: string): string {
  const names = [...new Set(values)];
  if (names.length !== 1) throw new Error(`the annotations must compare one ${what}, found ${names.length}: ${names.slice(0, 5).join(', ')}`);
  return names[0] ?? '';
}

/**
 * Win rate and length-controlled win rate of one model against its baseline, from its
 * AlpacaEval annotations (output_1 = baseline, output_2 = model).
 */
export function computeLengthControlledWinRate(
  annotations: readonly AlpacaEvalAnnotation[],
  lengthControlData: LengthControlData,
  options: LengthControlOptions = {},
): LengthControlledFit {
  if (annotations.length === 0) throw new Error('no annotations');
  const winRate = computeWinRate(annotations.map((annotation) => annotation.preference));
  const model = singleName(
    annotations.map((annotation) => annotation.generator_2),
    'model (generator_2)',
  );
  const baseline = singleName(
    annotations.map((annotation) => annotation.generator_1),
    'baseline (generator_1)',
  );

  if (model === baseline) {
    const lengthControlledPreferences = annotations.map(() => 0.5);
    return {
      metrics: { ...winRate, length_controlled_winrate: 50, lc_standard_error: 0 },
      coefficients: { length: 0, instructionDifficulty: 0, model: 0 },
      inverseRegularization: null,
      lengthControlledPreferences,
      model,
      baseline,
    };
  }

  const { instructionDifficulty, gamedBaselineRows } = lengthControlData;
  const positions = evaluationIndices(annotations, instructionDifficulty.length, options);
  const lengthDifferences = annotations.map((annotation) => codePointLength(annotation.output_1) - codePointLength(annotation.output_2));
  const spread = sampleStandardDeviation(lengthDifferences);
  const standardized = lengthDifferences.map((difference) => (spread > 0 ? difference / spread : 0));
  const difficulties = positions.map((position) => instructionDifficulty[position] ?? 0);

  // Training rows: the gamed baselines first (g = 0, weight λ/2), then the model's rows with a preference (g = 1, weight 1).
  const data: SoftLabelData = { features: [], labels: [], weights: [] };
  const lambda = options.regularizeToBaselineLambda ?? REGULARIZE_TO_BASELINE_LAMBDA;
  if (lambda > 0) {
    for (const row of gamedBaselineRows) {
      data.features.push([Math.tanh(row.standardizedLengthDifference), row.instructionDifficulty, 0]);
      data.labels.push(row.preference);
      data.weights.push(lambda / 2);
    }
  }
  annotations.forEach((annotation, row) => {
    const preference = normalizedPreference(annotation.preference);
    if (preference === null) return; // unparsed judgments are left out of the fit (but predicted)
    data.features.push([Math.tanh(standardized[row] ?? 0), difficulties[row] ?? 0, 1]);
    data.labels.push(preference - 1);
    data.weights.push(1);
  });

  // GroupKFold(5) over the rows (each row's two label copies share a group). Every group has the
  // same size, so groups are dealt round-robin in the order of a stable descending argsort.
  const rowCount = data.features.length;
  const foldOfRow = Array.from({ length: rowCount }, (_, row) => (rowCount - 1 - row) % CROSS_VALIDATION_FOLDS);
  const fit = crossValidatedL1LogisticRegression(data, {
    foldOfRow,
    inverseRegularizationGrid: options.inverseRegularizationGrid ?? defaultInverseRegularizationGrid(),
    // AlpacaEval's scorer: minus the weighted soft log-loss (probabilities clipped to [1e-15, 1 − 1e-15]), averaged over the held-out rows.
    score: (coefficients, testRows) => {
      let total = 0;
      for (const row of testRows) {
        const features = data.features[row] ?? [];
        const probability = Math.min(Math.max(sigmoid(features.reduce((sum, value, index) => sum + value * (coefficients[index] ?? 0), 0)), 1e-15), 1 - 1e-15);
        const label = data.labels[row] ?? 0;
        total += (data.weights[row] ?? 0) * (label * Math.log(probability) + (1 - label) * Math.log(1 - probability));
      }
      return total / testRows.length;
    },
  });
  const [length = 0, difficultyWeight = 0, modelWeight = 0] = fit.coefficients;
  const lengthControlledPreferences = difficulties.map((difficulty) => sigmoid(difficultyWeight * difficulty + modelWeight));
  return {
    metrics: {
      ...winRate,
      length_controlled_winrate: mean(lengthControlledPreferences) * 100,
      lc_standard_error: standardErrorOfMean(lengthControlledPreferences) * 100,
    },
    coefficients: { length, instructionDifficulty: difficultyWeight, model: modelWeight },
    inverseRegularization: fit.inverseRegularization,
    lengthControlledPreferences,
    model,
    baseline,
  };
}

/** The five numbers `moa judge alpaca-eval --json` prints, in AlpacaEval's leaderboard units (percent). */
export interface AlpacaEvalSummary {
  win_rate: number;
  standard_error: number;
  length_controlled_winrate: number;
  lc_standard_error: number;
  n_total: number;
}

export function summarizeAlpacaEval(metrics: LengthControlledMetrics): AlpacaEvalSummary {
  return {
    win_rate: metrics.win_rate,
    standard_error: metrics.standard_error,
    length_controlled_winrate: metrics.length_controlled_winrate,
    lc_standard_error: metrics.lc_standard_error,
    n_total: metrics.n_total,
  };
}
