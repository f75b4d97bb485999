// Tests clean up after themselves: run the CLI's tests that make temp folders (models folders,
// config folders, workspaces) with a temp dir of their own, and look at it afterwards.
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const vitest = join(repository, 'node_modules', 'vitest', 'vitest.mjs');
const ownTemp = mkdtempSync(join(tmpdir(), 'moa-temp-check-'));
afterAll(() => rmSync(ownTemp, { recursive: true, force: true }));

/** The test files that create folders in os.tmpdir() (directly or through run-cli.ts). */
const FILES = ['src/cli/choose-preset.test.ts', 'src/cli/prepare-preset.test.ts', 'test/e2e/config.e2e.test.ts'];

describe('temp folders', () => {
  it('the tests leave nothing behind in the temp dir', async () => {
    const result = await new Promise<{ code: number | null; output: string }>((resolve, reject) => {
      const child = spawn(process.execPath, [vitest, 'run', ...FILES, '--reporter=dot'], {
        cwd: repository,
        env: { ...process.env, TMPDIR: ownTemp, TMP: ownTemp, TEMP: ownTemp },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (text: string) => (output += text));
      child.stderr.setEncoding('utf8').on('data', (text: string) => (output += text));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, output }));
    });
    expect(result.code, result.output).toBe(0);
    expect(readdirSync(ownTemp)).toEqual([]);
  }, 120_000);
});
