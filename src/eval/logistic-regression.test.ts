import { describe, expect, it } from 'vitest';
import { defaultInverseRegularizationGrid, fitL1LogisticRegression, sigmoid, type SoftLabelData } from './logistic-regression.js';

/** A deterministic data set whose soft labels come from known coefficients. */
function syntheticData(truth: number[], rows = 600): SoftLabelData {
  const data: SoftLabelData = { features: [], labels: [], weights: [] };
  for (let row = 0; row < rows; row++) {
    const features = [Math.sin(row * 1.3), Math.cos(row * 0.7) * 2, row % 4 === 0 ? 0 : 1];
    data.features.push(features);
    data.labels.push(sigmoid(features.reduce((sum, value, index) => sum + value * (truth[index] ?? 0), 0)));
    data.weights.push(row % 4 === 0 ? 0.1 : 1);
  }
  return data;
}

function gradient(data: SoftLabelData, coefficients: number[]): number[] {
  const result = coefficients.map(() => 0);
  data.features.forEach((features, row) => {
    const z = features.reduce((sum, value, index) => sum + value * (coefficients[index] ?? 0), 0);
    const residual = (data.weights[row] ?? 0) * (sigmoid(z) - (data.labels[row] ?? 0));
    features.forEach((value, index) => (result[index] = (result[index] ?? 0) + residual * value));
  });
  return result;
}

describe('L1-penalised soft-label logistic regression', () => {
  it('recovers the generating coefficients without a penalty', () => {
    const truth = [1.5, -0.8, -1.2];
    const fit = fitL1LogisticRegression(syntheticData(truth), Number.POSITIVE_INFINITY);
    expect(fit.converged).toBe(true);
    fit.coefficients.forEach((value, index) => expect(value).toBeCloseTo(truth[index] ?? 0, 6));
  });

  it('meets the L1 optimality conditions at every C of the grid', () => {
    const data = syntheticData([1.5, -0.8, -1.2]);
    for (const inverseRegularization of defaultInverseRegularizationGrid()) {
      const fit = fitL1LogisticRegression(data, inverseRegularization);
      expect(fit.converged).toBe(true);
      const lossGradient = gradient(data, fit.coefficients);
      const penalty = 1 / inverseRegularization;
      fit.coefficients.forEach((value, index) => {
        const slope = lossGradient[index] ?? 0;
        // Zero coefficient: |∂loss| ≤ 1/C. Non-zero: ∂loss = −sign(θ)/C.
        if (value === 0) expect(Math.abs(slope)).toBeLessThanOrEqual(penalty * (1 + 1e-6));
        else expect(Math.abs(slope + Math.sign(value) * penalty)).toBeLessThan(1e-6 * Math.max(1, penalty));
      });
    }
  });

  it('shrinks to exactly zero under a strong penalty', () => {
    const fit = fitL1LogisticRegression(syntheticData([1.5, -0.8, -1.2]), 1e-4);
    expect(fit.coefficients).toEqual([0, 0, 0]);
  });

  it("uses scikit-learn's default C grid", () => {
    const grid = defaultInverseRegularizationGrid();
    expect(grid).toHaveLength(10);
    expect(grid[0]).toBeCloseTo(1e-4, 12);
    expect(grid[5]).toBeCloseTo(2.782559402207126, 12);
    expect(grid[9]).toBeCloseTo(1e4, 8);
  });

  it('rejects labels outside [0, 1]', () => {
    expect(() => fitL1LogisticRegression({ features: [[1]], labels: [1.5], weights: [1] }, 1)).toThrow(/not in \[0, 1\]/);
  });
});
