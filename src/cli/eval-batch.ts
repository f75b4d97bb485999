/**
 * What every `moa eval …` / `moa judge …` command shares: one batch-runner pass over the
 * benchmark's items (src/batch/run-batch.ts) with the same scheduler, response cache, cost and
 * budget, traces, progress and Ctrl-C handling as `moa batch`, writing crash-safe progress to a
 * JSONL sidecar (`<output>.progress.jsonl`, one line per finished item, the resume state), and
 * then the official-format file written from it (temp file + rename, so it is never half
 * written). A rerun skips the ids already in the sidecar; a rerun of a finished command makes no
 * model call at all.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { batchSummaryLine, createBatchProgress, type BatchProgressView } from '../batch/batch-progress.js';
import { roundUsd, unpricedModels } from '../batch/cost.js';
import { defaultCachePath, openResponseCache, type SqliteResponseCache } from '../batch/response-cache.js';
import {
  DEFAULT_BATCH_CONCURRENCY,
  runBatch,
  type BatchItem,
  type BatchItemContext,
  type BatchSource,
  type BatchSummary,
} from '../batch/run-batch.js';
import type { LoadedConfig } from '../core/load-config.js';
import type { ResponseCache } from '../core/response-cache.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import { createModelRegistry, type ModelRegistry } from '../models/registry.js';
import { ConfigError } from '../util/errors.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import { decimal, integer } from './options.js';
import type { CliStreams } from './run-for-cli.js';
import { colorsFor, type Colors } from './terminal.js';

/** The runner options every eval and judge command accepts. */
export interface EvalRunFlags {
  concurrency?: number;
  traces?: string;
  /** A path, false for --no-cache, undefined for the default path. */
  cache?: string | false;
  budgetUsd?: number;
  retryFailed?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** The progress sidecar of an output file: the runner's results JSONL, which is the resume state. */
export function progressPathFor(outputPath: string): string {
  return `${outputPath}.progress.jsonl`;
}

export function addRunnerOptions(command: Command): Command {
  return command
    .option('--concurrency <n>', `items in flight at once (default ${DEFAULT_BATCH_CONCURRENCY}); provider limits still apply underneath`, integer('--concurrency', 1, 100_000))
    .option('--traces <dir>', 'write each item\'s event streams to <dir>/<id>.jsonl')
    .option('--cache <path>', 'response cache file (default $MOA_CACHE_DIR/cache.sqlite or ~/.cache/moa/cache.sqlite)')
    .option('--no-cache', 'neither read nor write the response cache')
    .option('--budget-usd <usd>', 'stop starting new items once this much has been spent (needs prices for every model)', decimal('--budget-usd', 0, 1e9))
    .option('--no-retry-failed', 'treat items whose progress line holds an error as done instead of retrying them')
    .option('--json', 'print the result as JSON on stdout')
    .option('-q, --quiet', 'no progress or summary on stderr');
}

/** Every model a preset may call (agents and their fallbacks). */
export function presetModels(preset: ResolvedPreset): string[] {
  return preset.layers.flatMap((layer) => layer.agents.flatMap((agent) => [agent.label, ...agent.fallbacks]));
}

/** Resolves every model of the preset now: an unknown provider or a missing key is exit 2, before any call. */
export function resolvePresetModels(registry: ModelRegistry, preset: ResolvedPreset): void {
  for (const layer of preset.layers) {
    for (const agent of layer.agents) {
      registry.resolve(agent.model, agent.path);
      agent.fallbacks.forEach((fallback, index) => registry.resolve(fallback, `${agent.path}.fallbacks[${index}]`));
    }
  }
}

/** `--budget-usd` is only meaningful when every model has a price. */
export function requirePricesForBudget(flags: EvalRunFlags, config: LoadedConfig, models: readonly string[]): boolean {
  const missing = unpricedModels(config.prices, models);
  if (flags.budgetUsd !== undefined && missing.length > 0) {
    throw new ConfigError(
      `--budget-usd needs a price for every model; missing: ${missing.join(', ')}. ` +
        `Add them under "prices:" in the config, e.g. prices: { "${missing[0]}": { input: 0.88, output: 0.88 } } (USD per million tokens)`,
      { code: 'usage', path: '--budget-usd' },
    );
  }
  return missing.length === 0;
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

export interface EvalBatchOptions<Item extends BatchItem, Output extends object> {
  /** "moa eval mt-bench": labels the progress and summary lines. */
  label: string;
  flags: EvalRunFlags;
  config: LoadedConfig;
  io: CliStreams;
  items: BatchSource<Item>;
  total: number;
  /** The progress sidecar (the runner's results JSONL). */
  progressPath: string;
  /** Models the items will call, checked for prices (needed by --budget-usd). */
  models: readonly string[];
  /** Resolves the models before the run (e.g. a preset's agents, a judge), with the batch's registry. */
  prepare?: (registry: ModelRegistry) => void;
  work: (item: Item, context: BatchItemContext, priced: boolean) => Promise<Output>;
}

export interface EvalBatchOutcome {
  summary: BatchSummary;
  /** The process exit code: 0 done, 1 failed or not started items (budget), 130 interrupted. */
  exitCode: number;
  colors: Colors;
  cachePath: string | null;
}

/**
 * One batch-runner pass, wired as `moa batch` wires it: one registry (shared provider limits),
 * the SQLite response cache unless --no-cache, prices and budget, traces, the progress view on
 * stderr, SIGINT/SIGTERM → stop starting items, let the ones in flight be cut, exit 130.
 */
export async function runEvalBatch<Item extends BatchItem, Output extends object>(options: EvalBatchOptions<Item, Output>): Promise<EvalBatchOutcome> {
  const { flags, config, io, label } = options;
  const colors = colorsFor(io.stderr, io.env);
  const priced = requirePricesForBudget(flags, config, options.models);
  const registry = createModelRegistry({ providers: config.providers, env: io.env });
  let cache: SqliteResponseCache | undefined;
  let progress: BatchProgressView | undefined;
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  try {
    // Resolve every model now: an unknown provider or a missing key is exit 2, before any call.
    options.prepare?.(registry);
    if (flags.cache !== false) {
      cache = openResponseCache(typeof flags.cache === 'string' ? resolvePath(flags.cache) : defaultCachePath(io.env));
    }
    if (!flags.quiet) progress = createBatchProgress(io.stderr, colors, { label });
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);
    const summary = await runBatch<Item, Output>({
      items: options.items,
      total: options.total,
      outputPath: options.progressPath,
      registry,
      ...(cache ? { cache: cache as ResponseCache } : {}),
      prices: config.prices,
      ...(flags.concurrency !== undefined ? { concurrency: flags.concurrency } : {}),
      ...(flags.budgetUsd !== undefined ? { budgetUsd: flags.budgetUsd } : {}),
      ...(flags.traces ? { tracesDir: resolvePath(flags.traces) } : {}),
      retryFailed: flags.retryFailed ?? true,
      signal: controller.signal,
      runDefaults: {
        ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
        ...(config.maxRetries !== undefined ? { maxRetries: config.maxRetries } : {}),
      },
      ...(progress ? { onEvent: (event) => progress!.onEvent(event) } : {}),
      work: (item, context) => options.work(item, context, priced),
    });
    progress?.finish();
    if (!flags.quiet) {
      for (const repair of summary.repairs) io.stderr.write(colors.yellow(`${label}: ${repair}\n`));
      io.stderr.write(`${batchSummaryLine({ ...summary, costUsd: roundUsd(summary.costUsd) }, colors, label)}\n`);
    }
    let exitCode = EXIT_OK;
    if (summary.stoppedBy === 'interrupted') exitCode = EXIT_INTERRUPTED;
    else if (summary.failed > 0 || (summary.notStarted ?? 0) > 0) exitCode = EXIT_RUN_FAILED;
    return { summary, exitCode, colors, cachePath: cache?.path ?? null };
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    progress?.finish();
    cache?.close();
    await registry.close().catch(() => undefined);
  }
}

/** The JSON summary of the runner pass (for `--json` outputs that report it). */
export function runnerSummaryJson(outcome: EvalBatchOutcome): Record<string, unknown> {
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
