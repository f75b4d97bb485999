/**
 * Weighted logistic regression with soft labels and an L1 penalty, no intercept: the model
 * AlpacaEval fits for its length-controlled win rate (scikit-learn `LogisticRegression(penalty="l1",
 * solver="liblinear", fit_intercept=False)` with sample weights). liblinear minimises
 *
 *     ‖θ‖₁ + C · Σᵢ sᵢ · log(1 + exp(−ỹᵢ θ·xᵢ))        (ỹᵢ ∈ {−1, +1})
 *
 * and AlpacaEval feeds it every row twice (label 1 with weight w·y, label 0 with weight w·(1−y)),
 * which is exactly the soft-label cross-entropy Σᵢ wᵢ · (softplus(zᵢ) − yᵢ zᵢ) with zᵢ = θ·xᵢ.
 * This file minimises that objective directly, to high precision, with a proximal Newton method
 * (the same family as liblinear's newGLMNET): a coordinate-descent solve of the penalised quadratic
 * model, then a backtracking line search on the true objective. Only dependency-free arithmetic.
 */

export interface SoftLabelData {
  /** One row of features per example (every row the same length). */
  features: number[][];
  /** Soft labels in [0, 1]: the probability that the example is "positive". */
  labels: number[];
  /** Non-negative sample weights. */
  weights: number[];
}

export interface LogisticFit {
  coefficients: number[];
  /** Value of ‖θ‖₁ + C·loss at the solution. */
  objective: number;
  iterations: number;
  converged: boolean;
}

export function sigmoid(value: number): number {
  // exp(−log(1 + e^{−x})), stable on both sides (numpy's `exp(-logaddexp(0, -x))`).
  return value >= 0 ? 1 / (1 + Math.exp(-value)) : Math.exp(value) / (1 + Math.exp(value));
}

/** log(1 + e^x) without overflow. */
function softplus(value: number): number {
  return value > 0 ? value + Math.log1p(Math.exp(-value)) : Math.log1p(Math.exp(value));
}

function dot(left: readonly number[], right: readonly number[]): number {
  let sum = 0;
  for (let index = 0; index < left.length; index++) sum += (left[index] ?? 0) * (right[index] ?? 0);
  return sum;
}

function l1Norm(vector: readonly number[]): number {
  return vector.reduce((sum, value) => sum + Math.abs(value), 0);
}

/** Σ wᵢ (softplus(zᵢ) − yᵢ zᵢ): the weighted soft-label cross-entropy (natural log). */
export function weightedCrossEntropy(data: SoftLabelData, coefficients: readonly number[]): number {
  let loss = 0;
  for (let row = 0; row < data.features.length; row++) {
    const weight = data.weights[row] ?? 0;
    if (weight === 0) continue;
    const z = dot(data.features[row] ?? [], coefficients);
    loss += weight * (softplus(z) - (data.labels[row] ?? 0) * z);
  }
  return loss;
}

function checkData(data: SoftLabelData): number {
  const rows = data.features.length;
  if (rows === 0) throw new Error('logistic regression needs at least one row');
  if (data.labels.length !== rows || data.weights.length !== rows) throw new Error('features, labels and weights must have the same number of rows');
  const width = data.features[0]?.length ?? 0;
  for (let row = 0; row < rows; row++) {
    const features = data.features[row] ?? [];
    if (features.length !== width) throw new Error(`row ${row} has ${features.length} features, expected ${width}`);
    if (!features.every(Number.isFinite)) throw new Error(`row ${row} has a feature that is not a finite number`);
    const label = data.labels[row] ?? Number.NaN;
    if (!(label >= 0 && label <= 1)) throw new Error(`row ${row}: label ${label} is not in [0, 1]`);
    const weight = data.weights[row] ?? Number.NaN;
    if (!(weight >= 0) || !Number.isFinite(weight)) throw new Error(`row ${row}: weight ${weight} is not a non-negative number`);
  }
  return width;
}

function softThreshold(value: number, threshold: number): number {
  if (value > threshold) return value - threshold;
  if (value < -threshold) return value + threshold;
  return 0;
}

/**
 * Minimise ‖θ‖₁ + C·Σᵢ wᵢ(softplus(θ·xᵢ) − yᵢ θ·xᵢ). `inverseRegularization` is scikit-learn's C;
 * `Infinity` drops the penalty (a plain maximum-likelihood fit).
 */
export function fitL1LogisticRegression(data: SoftLabelData, inverseRegularization: number, options: { maxIterations?: number; tolerance?: number } = {}): LogisticFit {
  const width = checkData(data);
  const maxIterations = options.maxIterations ?? 200;
  const tolerance = options.tolerance ?? 1e-10;
  const penaltyScale = Number.isFinite(inverseRegularization) ? 1 / inverseRegularization : 0;
  if (!(inverseRegularization > 0)) throw new Error(`C must be positive (got ${inverseRegularization})`);
  // Work with the objective divided by C: penaltyScale·‖θ‖₁ + loss (same minimiser, better scaled).
  const objectiveOf = (coefficients: readonly number[]): number => penaltyScale * l1Norm(coefficients) + weightedCrossEntropy(data, coefficients);

  let coefficients = new Array<number>(width).fill(0);
  let objective = objectiveOf(coefficients);
  let converged = false;
  let iteration = 0;
  for (; iteration < maxIterations; iteration++) {
    // Gradient and Hessian of the smooth part.
    const gradient = new Array<number>(width).fill(0);
    const hessian = Array.from({ length: width }, () => new Array<number>(width).fill(0));
    for (let row = 0; row < data.features.length; row++) {
      const weight = data.weights[row] ?? 0;
      if (weight === 0) continue;
      const features = data.features[row] ?? [];
      const probability = sigmoid(dot(features, coefficients));
      const residual = weight * (probability - (data.labels[row] ?? 0));
      const curvature = weight * probability * (1 - probability);
      for (let left = 0; left < width; left++) {
        const featureLeft = features[left] ?? 0;
        gradient[left] = (gradient[left] ?? 0) + residual * featureLeft;
        const hessianRow = hessian[left] ?? [];
        for (let right = 0; right < width; right++) hessianRow[right] = (hessianRow[right] ?? 0) + curvature * featureLeft * (features[right] ?? 0);
      }
    }
    const trace = hessian.reduce((sum, row, index) => sum + (row[index] ?? 0), 0);
    const ridge = 1e-12 * Math.max(trace, 1e-300);

    // Coordinate descent on the penalised quadratic model: min_d g·d + ½dᵀHd + λ‖θ + d‖₁.
    const step = new Array<number>(width).fill(0);
    for (let sweep = 0; sweep < 10_000; sweep++) {
      let largestChange = 0;
      for (let index = 0; index < width; index++) {
        const hessianRow = hessian[index] ?? [];
        const diagonal = (hessianRow[index] ?? 0) + ridge;
        const linear = (gradient[index] ?? 0) + dot(hessianRow, step) - (hessianRow[index] ?? 0) * (step[index] ?? 0);
        const current = coefficients[index] ?? 0;
        const updated = softThreshold(current - linear / diagonal, penaltyScale / diagonal);
        const newStep = updated - current;
        largestChange = Math.max(largestChange, Math.abs(newStep - (step[index] ?? 0)));
        step[index] = newStep;
      }
      if (largestChange <= 1e-15 * (1 + l1Norm(coefficients))) break;
    }

    const stepSize = Math.max(...step.map(Math.abs));
    if (stepSize <= tolerance * (1 + Math.max(...coefficients.map(Math.abs)))) {
      converged = true;
      break;
    }
    // Backtracking line search (Armijo rule on the penalised objective).
    const candidate = coefficients.map((value, index) => value + (step[index] ?? 0));
    const predictedDecrease = dot(gradient, step) + penaltyScale * (l1Norm(candidate) - l1Norm(coefficients));
    if (-predictedDecrease <= 1e-15 * (1 + Math.abs(objective))) {
      // The model predicts no decrease beyond rounding noise: optimal to machine precision.
      converged = true;
      break;
    }
    let scale = 1;
    let accepted = false;
    for (let attempt = 0; attempt < 60; attempt++) {
      const trial = coefficients.map((value, index) => value + scale * (step[index] ?? 0));
      const trialObjective = objectiveOf(trial);
      if (trialObjective <= objective + 0.01 * scale * predictedDecrease) {
        coefficients = trial;
        objective = trialObjective;
        accepted = true;
        break;
      }
      scale /= 2;
    }
    if (!accepted) {
      // No decrease is possible along the Newton direction: we are at the optimum to machine precision.
      converged = true;
      break;
    }
  }
  return {
    coefficients,
    objective: Number.isFinite(inverseRegularization) ? inverseRegularization * objective : objective,
    iterations: iteration,
    converged,
  };
}

/** scikit-learn's default grid for `LogisticRegressionCV(Cs=10)`: `np.logspace(-4, 4, 10)`. */
export function defaultInverseRegularizationGrid(count = 10): number[] {
  return Array.from({ length: count }, (_, index) => 10 ** (-4 + (8 * index) / (count - 1)));
}

export interface CrossValidatedFit extends LogisticFit {
  /** The chosen C. */
  inverseRegularization: number;
  /** Sum over folds of the held-out score, per C of the grid (higher is better). */
  scoresByInverseRegularization: Array<{ inverseRegularization: number; score: number }>;
}

/**
 * `LogisticRegressionCV` semantics: for each C of the grid and each fold, fit on the other folds
 * and score the held-out fold; pick the C with the highest sum of fold scores (the first one on
 * ties), then refit on every row with it.
 */
export function crossValidatedL1LogisticRegression(
  data: SoftLabelData,
  options: {
    /** Fold number (0 … folds−1) of every row. */
    foldOfRow: readonly number[];
    inverseRegularizationGrid?: readonly number[];
    /** Held-out score of a fit (higher is better). */
    score(coefficients: readonly number[], testRows: readonly number[]): number;
  },
): CrossValidatedFit {
  checkData(data);
  if (options.foldOfRow.length !== data.features.length) throw new Error('foldOfRow must give a fold for every row');
  const grid = options.inverseRegularizationGrid ?? defaultInverseRegularizationGrid();
  const folds = [...new Set(options.foldOfRow)].sort((left, right) => left - right);
  const subset = (rows: readonly number[]): SoftLabelData => ({
    features: rows.map((row) => data.features[row] ?? []),
    labels: rows.map((row) => data.labels[row] ?? 0),
    weights: rows.map((row) => data.weights[row] ?? 0),
  });
  const scores = grid.map((inverseRegularization) => ({ inverseRegularization, score: 0 }));
  for (const fold of folds) {
    const trainRows: number[] = [];
    const testRows: number[] = [];
    options.foldOfRow.forEach((rowFold, row) => (rowFold === fold ? testRows : trainRows).push(row));
    const train = subset(trainRows);
    grid.forEach((inverseRegularization, index) => {
      const fit = fitL1LogisticRegression(train, inverseRegularization);
      const entry = scores[index];
      if (entry) entry.score += options.score(fit.coefficients, testRows);
    });
  }
  let best = scores[0];
  for (const entry of scores) if (best === undefined || entry.score > best.score) best = entry;
  if (best === undefined) throw new Error('the C grid is empty');
  const fit = fitL1LogisticRegression(data, best.inverseRegularization);
  return { ...fit, inverseRegularization: best.inverseRegularization, scoresByInverseRegularization: scores };
}
