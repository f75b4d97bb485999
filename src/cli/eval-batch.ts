/**
 * What is particular to the `moa eval …` / `moa judge …` commands on the batch runner (their
 * CLI wiring — scheduler, cache, budget, traces, progress, Ctrl-C, exit codes — is the one of
 * `moa batch`, in batch-runner-cli.ts): a job prepared by the library (src/eval/jobs/) is
 * estimated first (calls, tokens and, with prices, the cost; `--dry-run` stops there), then run
 * on the runner with its progress sidecar as the results JSONL, then finished (the official
 * files written from the sidecar). The benchmark files' default folder ($MOA_BENCH_DATA).
 */
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { roundUsd } from '../core/cost.js';
import type { BatchItem } from '../batch/run-batch.js';
import type { LoadedConfig } from '../node/load-config.js';
import { ASSUMED_OUTPUT_TOKENS } from '../eval/call-estimate.js';
import { estimateJob, type EvalJob, type JobEstimate } from '../eval/jobs/eval-job.js';
import { ConfigError } from '../util/errors.js';
import { addBatchRunnerOptions, runBatchForCli, type BatchForCliOutcome, type BatchRunnerFlags } from './batch-runner-cli.js';
import type { CliStreams } from './run-for-cli.js';
import { formatCount } from '../util/format.js';

export { contentId, readProgressRecords, writeFileAtomically, type ProgressRecord } from '../eval/jobs/progress-file.js';
export { progressPathFor } from '../eval/fastchat-layout.js';

/** The runner options every eval and judge command accepts. */
export interface EvalRunFlags extends BatchRunnerFlags {
  /** Print the calls and the estimated cost, then stop. */
  dryRun?: boolean;
}

export function addEvalRunnerOptions(command: Command): Command {
  return addBatchRunnerOptions(command, { outputLine: 'progress line', json: 'print the result as JSON on stdout' }).option(
    '--dry-run',
    'check every file and build every request, print the number of calls and (with prices) the estimated cost, then stop without calling any model',
  );
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

/** A benchmark file that is optional: the flag's value, else `$MOA_BENCH_DATA/<relative>` when the variable is set, else undefined. */
export function optionalBenchDataFile(value: string | undefined, relative: string, io: CliStreams): string | undefined {
  if (value !== undefined) return resolvePath(value);
  const directory = io.env[BENCH_DATA_ENV];
  return directory ? resolvePath(directory, relative) : undefined;
}

function formatUsd(value: number): string {
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
}

/** The estimate as the line printed before a run: "160 calls for 160 items: ≈ 254,000 input and ≤ 327,680 output tokens; estimated cost ≤ $1.23". */
export function describeEstimate(estimate: JobEstimate): string {
  const toRun = estimate.items - estimate.alreadyDone;
  const head = `${formatCount(estimate.calls)} call${estimate.calls === 1 ? '' : 's'} to make for ${formatCount(toRun)} item${toRun === 1 ? '' : 's'}${estimate.alreadyDone > 0 ? ` (${formatCount(estimate.alreadyDone)} already done)` : ''}`;
  if (estimate.calls === 0) return `${head}: nothing to call`;
  const bound = estimate.outputsBounded ? '≤' : '≈';
  const tokens = `≈ ${formatCount(estimate.inputTokens)} input and ${bound} ${formatCount(estimate.outputTokens)} output tokens`;
  const cost =
    estimate.costUsd !== null
      ? `estimated cost ${estimate.outputsBounded ? 'at most' : 'about'} ${formatUsd(estimate.costUsd)}`
      : `no cost estimate: no price for ${estimate.unpricedModels.join(', ')} (add it under "prices:" in the config)`;
  const assumption = estimate.outputsBounded ? '' : ` (outputs at ${formatCount(ASSUMED_OUTPUT_TOKENS)} tokens where no max tokens is set)`;
  return `${head}: ${tokens}${assumption}; ${cost}`;
}

function estimateDetails(estimate: JobEstimate): string[] {
  return estimate.byModel.map(
    (entry) =>
      `  ${entry.model}: ${formatCount(entry.calls)} calls, ≈ ${formatCount(entry.inputTokens)} in + ${formatCount(entry.outputTokens)} out tokens${entry.costUsd !== null ? `, ${formatUsd(entry.costUsd)}` : ', no price'}`,
  );
}

export type JobForCli<Result> = { dryRun: true; estimate: JobEstimate } | { dryRun: false; estimate: JobEstimate; outcome: BatchForCliOutcome; result: Result };

/**
 * Runs a prepared job from the CLI: the estimate first (on stderr; with --dry-run on stdout, and
 * nothing else happens), then the runner pass with every CLI behaviour of `moa batch`, then the
 * job's finish (official files, metrics).
 */
export async function runJobForCli<Item extends BatchItem, Output extends object, Result>(
  job: EvalJob<Item, Output, Result>,
  flags: EvalRunFlags,
  config: LoadedConfig,
  io: CliStreams,
  options: { modelsDescription?: string } = {},
): Promise<JobForCli<Result>> {
  const estimate = estimateJob(job, config.prices);
  if (flags.dryRun) {
    io.stdout.write(
      flags.json
        ? `${JSON.stringify({ dryRun: true, progress: job.progressPath, ...estimate }, null, 2)}\n`
        : `${job.label} (dry run, nothing called): ${describeEstimate(estimate)}\n${estimateDetails(estimate).join('\n')}${estimate.byModel.length > 0 ? '\n' : ''}`,
    );
    return { dryRun: true, estimate };
  }
  if (!flags.quiet) io.stderr.write(`${job.label}: ${describeEstimate(estimate)}\n`);
  const outcome = await runBatchForCli<Item, Output>({
    label: job.label,
    flags,
    config,
    io,
    models: job.models,
    ...(options.modelsDescription !== undefined ? { modelsDescription: options.modelsDescription } : {}),
    outputPath: job.progressPath,
    input: () => ({ items: job.items, total: job.items.length }),
    work: job.work,
    ...(job.queue ? { queueJob: job.queue } : {}),
  });
  return { dryRun: false, estimate, outcome, result: job.finish() };
}
