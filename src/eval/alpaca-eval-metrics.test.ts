import { describe, expect, it } from 'vitest';
import { benchFile, haveBenchFiles } from '../../test/eval/bench-data.js';
import { loadAlpacaEvalAnnotations, loadLengthControlData, type AlpacaEvalAnnotation } from './alpaca-eval-data.js';
import { codePointLength, computeLengthControlledWinRate, computeWinRate, standardErrorOfMean } from './alpaca-eval-metrics.js';
import { readSimpleCsv } from './read-data-file.js';

const annotationsFile = benchFile('alpaca_eval', 'validation', 'gpt-3.5-turbo-1106_annotations.json');
const lcDirectory = benchFile('alpaca_eval', 'lc');
const weightsFile = benchFile('alpaca_eval', 'lc', 'baseline_gpt4_1106_preview.csv');
const leaderboardFile = benchFile('alpaca_eval', 'leaderboard', 'weighted_alpaca_eval_gpt4_turbo_leaderboard.csv');
const haveData = haveBenchFiles(
  annotationsFile,
  benchFile('alpaca_eval', 'lc', 'df_gamed.csv'),
  benchFile('alpaca_eval', 'lc', 'instruction_difficulty.csv'),
  weightsFile,
  leaderboardFile,
);

/** The leaderboard row and stored GLM weights of a model, read from the official files at run time. */
function officialValues(model: string) {
  const leaderboard = readSimpleCsv(leaderboardFile);
  const row = leaderboard.rows.find((candidate) => candidate.cells[0] === model);
  if (!row) throw new Error(`${model} is not on the leaderboard`);
  const column = (name: string) => Number(row.cells[leaderboard.header.indexOf(name)]);
  const weights = readSimpleCsv(weightsFile);
  const weightRow = weights.rows.find((candidate) => candidate.cells[0] === model);
  if (!weightRow) throw new Error(`${model} has no stored weights`);
  return {
    winRate: column('win_rate'),
    standardError: column('standard_error'),
    lengthControlled: column('length_controlled_winrate'),
    discreteWinRate: column('discrete_win_rate'),
    nWins: column('n_wins'),
    nWinsBase: column('n_wins_base'),
    nDraws: column('n_draws'),
    weights: weightRow.cells.slice(1).map(Number),
  };
}

describe.skipIf(!haveData)('AlpacaEval 2.0 metrics on real annotations (gpt-3.5-turbo-1106)', () => {
  const annotations = haveData ? loadAlpacaEvalAnnotations(annotationsFile) : [];
  const lengthControlData = haveData ? loadLengthControlData(lcDirectory) : { instructionDifficulty: [], gamedBaselineRows: [] };

  it('reproduces the leaderboard win rate, standard error and counts', () => {
    const official = officialValues('gpt-3.5-turbo-1106');
    const metrics = computeWinRate(annotations.map((annotation) => annotation.preference));
    expect(official.winRate).toBeCloseTo(9.18, 1);
    expect(Math.abs(metrics.win_rate - official.winRate)).toBeLessThan(1e-9);
    expect(Math.abs(metrics.standard_error - official.standardError)).toBeLessThan(1e-9);
    expect(Math.abs(metrics.discrete_win_rate - official.discreteWinRate)).toBeLessThan(1e-9);
    expect([metrics.n_wins, metrics.n_wins_base, metrics.n_draws, metrics.n_total]).toEqual([official.nWins, official.nWinsBase, official.nDraws, 805]);
  });

  it('reproduces the leaderboard length-controlled win rate (19.30) within 0.3 points, from its own GLM fit', () => {
    const official = officialValues('gpt-3.5-turbo-1106');
    expect(official.lengthControlled).toBeCloseTo(19.3, 1);
    const fit = computeLengthControlledWinRate(annotations, lengthControlData);
    expect(Math.abs(fit.metrics.length_controlled_winrate - official.lengthControlled)).toBeLessThan(0.3);
    expect(Math.abs(fit.metrics.win_rate - 9.18)).toBeLessThan(0.3);
    // Tighter: the fitted coefficients match the official stored weights (θ_len, θ_diff, θ_m) to 0.01,
    // and LC to 0.05 points: the cross-validation picked the same C as scikit-learn did.
    const [length = Number.NaN, difficulty = Number.NaN, model = Number.NaN] = official.weights;
    expect(Math.abs(fit.coefficients.length - length)).toBeLessThan(0.01);
    expect(Math.abs(fit.coefficients.instructionDifficulty - difficulty)).toBeLessThan(0.01);
    expect(Math.abs(fit.coefficients.model - model)).toBeLessThan(0.01);
    expect(Math.abs(fit.metrics.length_controlled_winrate - official.lengthControlled)).toBeLessThan(0.05);
    expect(fit.inverseRegularization).toBeCloseTo(2.7826, 3);
    expect(fit.metrics.lc_standard_error).toBeGreaterThan(0.5);
    expect(fit.metrics.lc_standard_error).toBeLessThan(1.0);
    expect(fit.metrics.lc_standard_error).toBeCloseTo(standardErrorOfMean(fit.lengthControlledPreferences) * 100, 12);
  });

  it('the 0.3-point check discriminates: plausible mistakes land outside it', () => {
    const official = officialValues('gpt-3.5-turbo-1106').lengthControlled;
    const off = (value: number) => Math.abs(value - official);
    // No gamed-baseline regulariser.
    expect(off(computeLengthControlledWinRate(annotations, lengthControlData, { regularizeToBaselineLambda: 0 }).metrics.length_controlled_winrate)).toBeGreaterThan(0.3);
    // Difficulty looked up in the wrong order.
    const reversed = { ...lengthControlData, instructionDifficulty: [...lengthControlData.instructionDifficulty].reverse() };
    expect(off(computeLengthControlledWinRate(annotations, reversed).metrics.length_controlled_winrate)).toBeGreaterThan(0.3);
    // Length difference taken the wrong way round.
    const flipped = annotations.map((annotation) => ({ ...annotation, output_1: annotation.output_2, output_2: annotation.output_1 }));
    expect(off(computeLengthControlledWinRate(flipped, lengthControlData).metrics.length_controlled_winrate)).toBeGreaterThan(0.3);
  });

  it('looks difficulty up by instruction when the evaluation order is given (same fit, any row order)', () => {
    const order = annotations.map((annotation) => annotation.instruction);
    const shuffled = [...annotations].reverse();
    // One C, so the cross-validation folds (which follow row order, as upstream's do) play no part.
    const grid = { inverseRegularizationGrid: [2.782559402207126] };
    const byRow = computeLengthControlledWinRate(annotations, lengthControlData, grid);
    const byInstruction = computeLengthControlledWinRate(shuffled, lengthControlData, { ...grid, evaluationInstructions: order });
    expect(byInstruction.metrics.length_controlled_winrate).toBeCloseTo(byRow.metrics.length_controlled_winrate, 6);
  });
});

function annotation(preference: number | null, output1 = 'aaaa', output2 = 'bb', generator2 = 'model'): AlpacaEvalAnnotation {
  return { instruction: `i${Math.random()}`, output_1: output1, generator_1: 'base', output_2: output2, generator_2: generator2, preference };
}

describe('win rate', () => {
  it('scales preferences to [0, 1], reads the legacy 0 as a draw, drops null', () => {
    const metrics = computeWinRate([1, 2, 1.5, 0, null, 1.75]);
    expect(metrics.n_total).toBe(5);
    expect(metrics.win_rate).toBeCloseTo(((0 + 1 + 0.5 + 0.5 + 0.75) / 5) * 100, 10);
    expect(metrics.n_draws).toBe(2);
    expect(metrics.n_wins).toBe(2);
    expect(metrics.n_wins_base).toBe(1);
    expect(metrics.discrete_win_rate).toBeCloseTo(((0 + 1 + 0.5 + 0.5 + 1) / 5) * 100, 10);
    expect(metrics.standard_error).toBeCloseTo(standardErrorOfMean([0, 1, 0.5, 0.5, 0.75]) * 100, 10);
  });

  it('counts code points like Python len()', () => {
    expect(codePointLength('a😀b')).toBe(3);
    expect(codePointLength('é')).toBe(1);
  });
});

describe('length-controlled win rate: edge cases', () => {
  const lengthControlData = {
    instructionDifficulty: [0.1, -0.2, 0.3, 0.0],
    gamedBaselineRows: [{ preference: 0.9, index: 0, standardizedLengthDifference: -1, instructionDifficulty: 0.1, model: 'verbose' }],
  };

  it('is 50 for the baseline judged against itself', () => {
    const same = [annotation(1.5, 'x', 'x', 'base'), annotation(1.5, 'y', 'y', 'base')];
    const fit = computeLengthControlledWinRate(same, lengthControlData);
    expect(fit.metrics.length_controlled_winrate).toBe(50);
    expect(fit.inverseRegularization).toBeNull();
  });

  it('refuses annotations of several models, and more rows than difficulties', () => {
    expect(() => computeLengthControlledWinRate([annotation(1, 'a', 'b', 'm1'), annotation(2, 'a', 'b', 'm2')], lengthControlData)).toThrow(/one model/);
    expect(() =>
      computeLengthControlledWinRate(
        Array.from({ length: 5 }, () => annotation(1)),
        lengthControlData,
      ),
    ).toThrow(/instruction difficulty for only 4/);
  });
});
