// The built `moa judge alpaca-eval` on real AlpacaEval annotations: the leaderboard values of
// gpt-3.5-turbo-1106 (win rate 9.18, LC 19.30) within 0.3 points, and the usage errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, cliEnv, describeRun, makeWorkspace, runCli, type Workspace } from '../e2e/run-cli.js';
import { BENCH_DATA_DIRECTORY, benchFile, haveBenchFiles } from './bench-data.js';

const annotationsFile = benchFile('alpaca_eval', 'validation', 'gpt-3.5-turbo-1106_annotations.json');
const lcDirectory = benchFile('alpaca_eval', 'lc');
const haveData = haveBenchFiles(annotationsFile, benchFile('alpaca_eval', 'lc', 'df_gamed.csv'), benchFile('alpaca_eval', 'lc', 'instruction_difficulty.csv'));

let workspace: Workspace;
beforeAll(() => {
  assertCliBuilt();
  workspace = makeWorkspace(null);
});
afterAll(() => workspace?.remove());

describe.skipIf(!haveData)('moa judge alpaca-eval --annotations (real annotations)', () => {
  it('--json prints exactly the five leaderboard numbers, matching the official ones', async () => {
    const result = await runCli(['judge', 'alpaca-eval', '--annotations', annotationsFile, '--lc-data', lcDirectory, '--json'], { cwd: workspace.dir });
    expect(result.code, describeRun(result)).toBe(0);
    const metrics = JSON.parse(result.stdout) as Record<string, number>;
    expect(Object.keys(metrics)).toEqual(['win_rate', 'standard_error', 'length_controlled_winrate', 'lc_standard_error', 'n_total']);
    expect(Math.abs((metrics.win_rate ?? Number.NaN) - 9.18)).toBeLessThan(0.3);
    expect(Math.abs((metrics.length_controlled_winrate ?? Number.NaN) - 19.3)).toBeLessThan(0.3);
    expect(metrics.standard_error).toBeCloseTo(0.89, 2);
    expect(metrics.lc_standard_error).toBeGreaterThan(0);
    expect(metrics.n_total).toBe(805);
  });

  it('finds the lc files through MOA_BENCH_DATA and prints a readable summary', async () => {
    const result = await runCli(['judge', 'alpaca-eval', '--annotations', annotationsFile], {
      cwd: workspace.dir,
      env: cliEnv({ MOA_BENCH_DATA: BENCH_DATA_DIRECTORY }),
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout).toContain('gpt-3.5-turbo-1106 vs gpt4_1106_preview');
    expect(result.stdout).toMatch(/length-controlled win rate\s+19\.\d\d ± 0\.\d\d/);
    expect(result.stdout).toMatch(/win rate\s+9\.18 ± 0\.89/);
    expect(result.stdout).toContain('805 (64 wins, 737 losses, 4 draws)');
  });
});

describe('moa judge alpaca-eval usage errors', () => {
  it('needs --annotations (exit 2)', async () => {
    const result = await runCli(['judge', 'alpaca-eval', '--json'], { cwd: workspace.dir });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain('needs --annotations FILE');
    expect(result.stdout).toBe('');
  });

  it('a bad annotations file is a clear error naming file, line and field (exit 2)', async () => {
    const file = workspace.write('annotations.json', JSON.stringify([{ instruction: 'i', output_1: 'a', generator_1: 'b', output_2: 'c', generator_2: 'm' }], null, 2));
    const result = await runCli(['judge', 'alpaca-eval', '--annotations', file, '--lc-data', workspace.dir], { cwd: workspace.dir });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain(`${file}:2 (field "preference"): missing`);
  });

  it('missing lc data is explained (exit 2)', async () => {
    const file = workspace.write('ok.json', JSON.stringify([{ instruction: 'i', output_1: 'a', generator_1: 'b', output_2: 'c', generator_2: 'm', preference: 1.2 }]));
    const result = await runCli(['judge', 'alpaca-eval', '--annotations', file], { cwd: workspace.dir });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain('--lc-data');
    const missingDirectory = await runCli(['judge', 'alpaca-eval', '--annotations', file, '--lc-data', workspace.path('nowhere')], { cwd: workspace.dir });
    expect(missingDirectory.code).toBe(2);
    expect(missingDirectory.stderr).toMatch(/instruction_difficulty\.csv: file not found/);
  });
});
