/**
 * What is particular to the `moa eval …` / `moa judge …` commands on the batch runner (their
 * CLI wiring — scheduler, cache, budget, traces, progress, Ctrl-C, exit codes — is the one of
 * `moa batch`, in batch-runner-cli.ts): the runner's results JSONL is a progress sidecar
 * (`<output>.progress.jsonl`, one line per finished item, the resume state), read back once the
 * pass ends to write the official-format file (temp file + rename, so it is never half
 * written); content-derived resume ids; the benchmark files' default folder ($MOA_BENCH_DATA).
 * A rerun skips the ids already in the sidecar; a rerun of a finished command makes no model
 * call at all.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { roundUsd } from '../batch/cost.js';
import { ConfigError } from '../util/errors.js';
import { addBatchRunnerOptions, type BatchForCliOutcome, type BatchRunnerFlags } from './batch-runner-cli.js';
import type { CliStreams } from './run-for-cli.js';

/** The runner options every eval and judge command accepts. */
export type EvalRunFlags = BatchRunnerFlags;

/** The progress sidecar of an output file: the runner's results JSONL, which is the resume state. */
export function progressPathFor(outputPath: string): string {
  return `${outputPath}.progress.jsonl`;
}

export function addEvalRunnerOptions(command: Command): Command {
  return addBatchRunnerOptions(command, { outputLine: 'progress line', json: 'print the result as JSON on stdout' });
}

/** A progress line as read back: `{ id, ...record }` or `{ id, error }` for a failed item. */
export type ProgressRecord<Record> = Record & { id: string };

/**
 * The finished records of a progress sidecar, by id (the last line of an id wins; failed items'
 * lines and a torn last line are left out: the next run redoes them).
 */
export function readProgressRecords<Record extends object>(path: string): Map<string, ProgressRecord<Record>> {
  const records = new Map<string, ProgressRecord<Record>>();
  if (!existsSync(path)) return records;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue; // a torn line (the process died mid-write); runBatch repairs it on the next run
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const record = value as { id?: unknown; error?: unknown };
    if (typeof record.id !== 'string' || (record.error !== undefined && record.error !== null)) continue;
    records.set(record.id, value as ProgressRecord<Record>);
  }
  return records;
}

/** Writes a whole file so that readers see either the old or the new content (temp file + rename). */
export function writeFileAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** The JSON summary of the runner pass (for `--json` outputs that report it). */
export function runnerSummaryJson(outcome: BatchForCliOutcome): Record<string, unknown> {
  const { summary } = outcome;
  return {
    done: summary.alreadyDone + summary.succeeded,
    succeeded: summary.succeeded,
    alreadyDone: summary.alreadyDone,
    failed: summary.failed,
    notStarted: summary.notStarted ?? 0,
    calls: summary.calls,
    cacheHits: summary.cacheHits,
    usage: summary.usage,
    costUsd: roundUsd(summary.costUsd),
    ...(summary.stoppedBy ? { stoppedBy: summary.stoppedBy } : {}),
    cache: outcome.cachePath,
  };
}

/** A short stable id from some texts (16 hex digits of their SHA-256): resume keys that change when their content does. */
export function contentId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

/** Benchmark files live outside the project; this variable names the folder holding alpaca_eval/, mt_bench/, flask/. */
export const BENCH_DATA_ENV = 'MOA_BENCH_DATA';

/**
 * A benchmark file: the flag's value, else `$MOA_BENCH_DATA/<relative>`; exit 2 naming both when
 * neither is there.
 */
export function benchDataFile(value: string | undefined, flag: string, relative: string, io: CliStreams, what: string): string {
  if (value !== undefined) return resolvePath(value);
  const directory = io.env[BENCH_DATA_ENV];
  if (directory) return resolvePath(directory, relative);
  throw new ConfigError(`${flag} FILE is required (${what}), or set ${BENCH_DATA_ENV} to the folder holding ${relative.split('/')[0]}/ to use ${relative} from it`, {
    code: 'usage',
    path: flag,
  });
}
