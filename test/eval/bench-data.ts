/**
 * Where the tests find the benchmark files (never copied into the project: research-only
 * licences). `MOA_BENCH_DATA` overrides the default ../shared/data beside the repository. A test that needs a file
 * that is absent is skipped, and says so loudly on stderr.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** $MOA_BENCH_DATA, else ../shared/data beside the repository. */
export const BENCH_DATA_DIRECTORY = process.env.MOA_BENCH_DATA
  ? resolve(process.env.MOA_BENCH_DATA)
  : resolve(fileURLToPath(new URL('../..', import.meta.url)), '..', 'shared', 'data');

export function benchFile(...parts: string[]): string {
  return join(BENCH_DATA_DIRECTORY, ...parts);
}

/** True when every file exists; otherwise warns (once per call) naming what is missing. */
export function haveBenchFiles(...files: string[]): boolean {
  const missing = files.filter((file) => !existsSync(file));
  if (missing.length > 0) {
    process.stderr.write(
      `\n*** SKIPPING benchmark-data tests: missing ${missing.join(', ')}.\n*** Set MOA_BENCH_DATA to the folder holding alpaca_eval/, mt_bench/ and flask/ to run them.\n\n`,
    );
    return false;
  }
  return true;
}
