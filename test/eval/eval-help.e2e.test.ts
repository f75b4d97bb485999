// The help of the benchmark commands lists only what each command accepts (issue 9): the built CLI,
// no model and no benchmark file needed.
import { describe, expect, it } from 'vitest';
import { assertCliBuilt, cliEnv, describeRun, runCli } from '../e2e/run-cli.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The long options a command's help lists. */
function listedOptions(help: string): string[] {
  return [...help.matchAll(/^\s+(?:-\w, )?(--[a-z][a-z-]*)/gm)].map((match) => match[1] as string);
}

describe('moa eval … --help', () => {
  it('mt-bench does not offer --temperature (it fixes temperatures per category), yet explains the refusal when given', async () => {
    assertCliBuilt();
    const directory = mkdtempSync(join(tmpdir(), 'moa-eval-help-'));
    try {
      const mtBench = await runCli(['eval', 'mt-bench', '--help'], { cwd: directory, env: cliEnv() });
      expect(mtBench.code, describeRun(mtBench)).toBe(0);
      const alpaca = await runCli(['eval', 'alpaca-eval', '--help'], { cwd: directory, env: cliEnv() });
      expect(alpaca.code, describeRun(alpaca)).toBe(0);

      const mtBenchOptions = listedOptions(mtBench.stdout);
      const alpacaOptions = listedOptions(alpaca.stdout);
      expect(mtBenchOptions).not.toContain('--temperature');
      expect(mtBench.stdout).not.toMatch(/temperature <t>/);
      // The other preset options are still there, and alpaca-eval (which accepts it) lists --temperature.
      expect(mtBenchOptions).toEqual(expect.arrayContaining(['--preset', '--proposers', '--aggregator', '--layers', '--max-tokens', '--output', '--model-id']));
      expect(alpacaOptions).toContain('--temperature');
      // Exactly the difference: the per-command name option, and --temperature.
      expect(mtBenchOptions.filter((option) => option !== '--model-id').sort()).toEqual(
        alpacaOptions.filter((option) => option !== '--temperature' && option !== '--generator').sort(),
      );

      const refused = await runCli(['eval', 'mt-bench', '--output', 'x.jsonl', '--temperature', '0.3'], { cwd: directory, env: cliEnv() });
      expect(refused.code, describeRun(refused)).toBe(2);
      expect(refused.stderr).toContain('--temperature cannot be used with moa eval mt-bench');
      expect(refused.stderr).not.toContain('unknown option');
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
