/**
 * The CLI wiring of the batch runner (src/batch/run-batch.ts), shared by every command that runs
 * on it — `moa batch`, `moa eval …`, `moa judge …` — so they behave alike:
 *
 * - the runner options (`addBatchRunnerOptions`): --concurrency, --traces, --cache / --no-cache,
 *   --budget-usd, --no-retry-failed, --json, -q;
 * - `runBatchForCli`: --budget-usd needs a price for every model (exit 2 naming the missing ones);
 *   one model registry for the whole batch on the node:http fetch (models/node-http-fetch.ts: a
 *   third of the client CPU per call), every model resolved before any call (an unknown provider
 *   or a missing key is exit 2); items in flight by default twice the call slots of the providers
 *   used; the SQLite response cache unless --no-cache; the config's timeoutMs / maxRetries as the
 *   runs' defaults; progress and the summary line on stderr; SIGINT/SIGTERM → no new item starts
 *   and the calls in flight are cancelled; the exit code (0 every item done, 1 failed or not
 *   started items, 130 interrupted; 2 is a ConfigError thrown to the caller).
 *
 * What a command does with the outcome (its --json, an official-format file) stays its own.
 */
import { resolve as resolvePath } from 'node:path';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { Command } from 'commander';
import { batchSummaryLine, createBatchProgress, type BatchProgressView } from './batch-progress.js';
import { unpricedModels } from '../core/cost.js';
import { defaultCachePath, openResponseCache, type SqliteResponseCache } from '../batch/response-cache.js';
import { DEFAULT_BATCH_CONCURRENCY, runBatch, type BatchItem, type BatchItemContext, type BatchSource, type BatchSummary } from '../batch/run-batch.js';
import type { LoadedConfig } from '../node/load-config.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import { createNodeHttpFetch } from '../models/node-http-fetch.js';
import { AUTO_CONCURRENCY } from '../models/call-scheduler.js';
import { createModelRegistry } from '../models/registry.js';
import { ConfigError } from '../util/errors.js';
import type { QueueJob } from '../batch/queue/queued-batch.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import { decimal, integer } from './options.js';
import type { CliStreams } from './run-for-cli.js';
import { colorsFor, type Colors } from './terminal.js';
import '../models/local/register-local-provider.js'; // the local: provider (GGUF through node-llama-cpp) in this Node face's registries

/** The runner options, as commander parses them. */
export interface BatchRunnerFlags {
  /** redis://HOST:PORT[/DB]: enqueue the items for `moa worker`s instead of running them here. */
  queue?: string;
  concurrency?: number;
  traces?: string;
  /** A path, false for --no-cache, undefined for the default path. */
  cache?: string | false;
  budgetUsd?: number;
  /** False with --no-retry-failed. */
  retryFailed?: boolean;
  json?: boolean;
  quiet?: boolean;
}

/** The words that differ between commands in the runner options' help. */
export interface BatchRunnerOptionTexts {
  /** What an item's line in the output is called: "result line" (moa batch), "progress line" (eval, judge). */
  outputLine: string;
  /** What --json prints. */
  json: string;
}

const MAX_DEFAULT_CONCURRENCY = 1024;

/** Items in flight by default: twice the providers' summed call slots, at least DEFAULT_BATCH_CONCURRENCY. */
export function defaultItemConcurrency(providerSlots: readonly number[]): number {
  const slots = providerSlots.reduce((sum, value) => sum + value, 0);
  return Math.min(MAX_DEFAULT_CONCURRENCY, Math.max(DEFAULT_BATCH_CONCURRENCY, 2 * slots));
}

export function addBatchRunnerOptions(command: Command, texts: BatchRunnerOptionTexts): Command {
  return command
    .option(
      '--concurrency <n>',
      `items in flight at once (default: twice the call slots (maxConcurrency) of the providers used, at least ${DEFAULT_BATCH_CONCURRENCY}); provider limits still apply underneath`,
      integer('--concurrency', 1, 100_000),
    )
    .option('--traces <dir>', "write each item's event stream to <dir>/<id>.jsonl (an item's second run to <id>.2.jsonl, …)")
    .option('--cache <path>', 'response cache file (default $MOA_CACHE_DIR/cache.sqlite or ~/.cache/moa/cache.sqlite)')
    .option('--no-cache', 'neither read nor write the response cache')
    .option('--budget-usd <usd>', 'stop starting new items once this much has been spent (needs prices for every model)', decimal('--budget-usd', 0, 1e9))
    .option('--no-retry-failed', `treat items whose ${texts.outputLine} holds an error as done instead of retrying them`)
    .option(
      '--queue <url>',
      'redis://HOST:PORT[/DB]: enqueue the items for "moa worker --queue URL" processes (any number, on any machine) and collect their results here (docs/scale-out.md)',
    )
    .option('--json', texts.json)
    .option('-q, --quiet', 'no progress or summary on stderr');
}

/** One model the batch may call: resolved before any call, and checked for a price. */
export interface BatchModel {
  model: string | LanguageModelV3;
  /** "provider:model-id": the key of its price. */
  label: string;
  /** Where it was named, for the error when it cannot be resolved ("layers[0].agents[1]", "--judge"). */
  path: string;
}

/** Every model a preset may call: its agents and their fallbacks. */
export function presetBatchModels(preset: ResolvedPreset): BatchModel[] {
  return preset.layers.flatMap((layer) =>
    layer.agents.flatMap((agent) => [
      { model: agent.model, label: agent.label, path: agent.path },
      ...agent.fallbacks.map((fallback, index) => ({ model: fallback, label: fallback, path: `${agent.path}.fallbacks[${index}]` })),
    ]),
  );
}

/** The items of a batch, and how many there are (for progress, ETA and `notStarted`). */
export interface BatchInput<Item extends BatchItem> {
  items: BatchSource<Item>;
  total?: number;
}

export interface BatchForCliOptions<Item extends BatchItem, Output extends object> {
  /** "moa batch", "moa eval mt-bench": labels the progress, the summary and the messages. */
  label: string;
  flags: BatchRunnerFlags;
  config: LoadedConfig;
  io: CliStreams;
  models: readonly BatchModel[];
  /** Names the models in the --budget-usd error, e.g. "of the preset". */
  modelsDescription?: string;
  /** The results JSONL (the resume state). */
  outputPath: string;
  /** The items: read once every model is resolved (a configuration error comes first), before the cache is opened. */
  input: () => BatchInput<Item> | Promise<BatchInput<Item>>;
  /** Stop at the first invalid input entry (runBatch's `strict`). */
  strict?: boolean;
  /** `priced`: every model has a price (so the item's costUsd is complete). */
  work: (item: Item, context: BatchItemContext, priced: boolean) => Promise<Output>;
  /**
   * With --queue: the job kind whose work is `work` (a worker runs it), its settings (plain JSON:
   * what `work` takes from this command besides the item), and what of an item the job carries.
   */
  queueJob?: (priced: boolean) => QueueJob<Item>;
}

export interface BatchForCliOutcome {
  summary: BatchSummary;
  /** The process exit code: 0 every item done, 1 failed or not started items (budget), 130 interrupted. */
  exitCode: number;
  colors: Colors;
  /** The response cache file used, or null with --no-cache. */
  cachePath: string | null;
}

/** `--budget-usd` is only meaningful when every model has a price; returns whether every model has one. */
function checkPrices(flags: BatchRunnerFlags, config: LoadedConfig, models: readonly BatchModel[], description: string | undefined): boolean {
  const missing = unpricedModels(
    config.prices,
    models.map((model) => model.label),
  );
  if (flags.budgetUsd !== undefined && missing.length > 0) {
    throw new ConfigError(
      `--budget-usd needs a price for every model${description ? ` ${description}` : ''}; missing: ${missing.join(', ')}. ` +
        `Add them under "prices:" in the config, e.g. prices: { "${missing[0]}": { input: 0.88, output: 0.88 } } (USD per million tokens)`,
      { code: 'usage', path: '--budget-usd' },
    );
  }
  return missing.length === 0;
}

/** The process's peak resident memory so far, in MB (one decimal). */
export function peakRssMb(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** One batch-runner pass wired to the CLI (see the file comment). A ConfigError (exit 2) is thrown before any call. */
export async function runBatchForCli<Item extends BatchItem, Output extends object>(options: BatchForCliOptions<Item, Output>): Promise<BatchForCliOutcome> {
  const { flags, config, io, label } = options;
  // Should the event loop ever run dry before the batch ends, the process must not exit 0.
  process.exitCode = EXIT_RUN_FAILED;
  const colors = colorsFor(io.stderr, io.env);
  if (flags.queue !== undefined) checkQueueFlags(flags, options.queueJob !== undefined, label);
  const priced = checkPrices(flags, config, options.models, options.modelsDescription);
  if (flags.queue !== undefined) return runQueuedForCli(options, flags.queue, priced, colors);

  // One registry for the whole batch: every item and layer shares its provider limits.
  const fetch = createNodeHttpFetch();
  const registry = createModelRegistry({ providers: config.providers, env: io.env, fetch });
  let cache: SqliteResponseCache | undefined;
  let progress: BatchProgressView | undefined;
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  try {
    const providerSlots = new Map<string, number>();
    for (const { model, path } of options.models) {
      const resolved = registry.resolve(model, path);
      providerSlots.set(resolved.provider, resolved.lane.adaptive ? AUTO_CONCURRENCY.max : resolved.lane.limit);
    }
    // Enough items in flight to keep every provider's slots busy even while items wait on their aggregator.
    const concurrency = flags.concurrency ?? defaultItemConcurrency([...providerSlots.values()]);
    const input = await options.input();

    if (flags.cache !== false) {
      cache = openResponseCache(typeof flags.cache === 'string' ? resolvePath(flags.cache) : defaultCachePath(io.env));
    }
    if (!flags.quiet) progress = createBatchProgress(io.stderr, colors, { label });
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);
    const summary = await runBatch<Item, Output>({
      items: input.items,
      ...(input.total !== undefined ? { total: input.total } : {}),
      outputPath: options.outputPath,
      registry,
      ...(cache ? { cache } : {}),
      prices: config.prices,
      concurrency,
      ...(flags.budgetUsd !== undefined ? { budgetUsd: flags.budgetUsd } : {}),
      ...(flags.traces ? { tracesDir: resolvePath(flags.traces) } : {}),
      retryFailed: flags.retryFailed ?? true,
      strict: options.strict ?? false,
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
      io.stderr.write(`${batchSummaryLine(summary, colors, label)}\n`);
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
    fetch.close();
  }
}

/** Options that belong to the workers with --queue: refused, naming where they go instead. */
function checkQueueFlags(flags: BatchRunnerFlags, supported: boolean, label: string): void {
  if (!supported) throw new ConfigError(`--queue is not available for ${label}`, { code: 'usage', path: '--queue' });
  const workerFlag =
    flags.concurrency !== undefined
      ? '--concurrency'
      : flags.traces !== undefined
        ? '--traces'
        : flags.cache !== undefined
          ? flags.cache === false
            ? '--no-cache'
            : '--cache'
          : undefined;
  if (workerFlag) {
    throw new ConfigError(
      `${workerFlag} cannot be used with --queue: the workers run the items, so it is a worker's option — start them with "moa worker --queue ${flags.queue} ${workerFlag}${workerFlag === '--no-cache' ? '' : ' …'}"`,
      { code: 'usage', path: workerFlag },
    );
  }
}

/** `--queue`: enqueue for the workers and collect their results (run-queued-batch.ts), with this command's progress, summary and exit codes. */
async function runQueuedForCli<Item extends BatchItem, Output extends object>(
  options: BatchForCliOptions<Item, Output>,
  url: string,
  priced: boolean,
  colors: Colors,
): Promise<BatchForCliOutcome> {
  const { flags, config, io, label } = options;
  const job = options.queueJob!(priced);
  // Loaded only here: BullMQ and ioredis take a second to import, which no other command should pay.
  const { openRedis } = await import('../batch/queue/redis-connection.js');
  const { runQueuedBatch } = await import('../batch/queue/run-queued-batch.js');
  // Unreachable, not a Redis, too old: exit 2 before anything is enqueued.
  const connection = await openRedis(url, '--queue');
  const input = await options.input();
  let progress: BatchProgressView | undefined;
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  try {
    if (!flags.quiet) progress = createBatchProgress(io.stderr, colors, { label });
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);
    const summary = await runQueuedBatch<Item>({
      connection,
      kind: job.kind,
      settings: job.settings,
      ...(job.jobItem ? { jobItem: job.jobItem } : {}),
      label,
      items: input.items,
      ...(input.total !== undefined ? { total: input.total } : {}),
      outputPath: options.outputPath,
      prices: config.prices,
      runDefaults: {
        ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
        ...(config.maxRetries !== undefined ? { maxRetries: config.maxRetries } : {}),
      },
      ...(flags.budgetUsd !== undefined ? { budgetUsd: flags.budgetUsd } : {}),
      retryFailed: flags.retryFailed ?? true,
      strict: options.strict ?? false,
      signal: controller.signal,
      onEnqueued: (queued) => {
        if (flags.quiet) return;
        const say = (text: string): void => {
          progress?.note(text);
        };
        say(
          `${label}: batch ${queued.batchId} on ${connection.target.display}: ${queued.enqueued} job(s) enqueued` +
            (queued.alreadyQueued ? `, ${queued.alreadyQueued} already queued` : '') +
            (queued.workersAlive === 0
              ? colors.yellow(` — no worker is running yet: start "moa worker --queue ${connection.target.display}"`)
              : ` — ${queued.workersAlive} worker(s) alive`),
        );
      },
      ...(progress ? { onEvent: (event) => progress!.onEvent(event) } : {}),
    });
    progress?.finish();
    if (!flags.quiet) {
      for (const repair of summary.repairs) io.stderr.write(colors.yellow(`${label}: ${repair}\n`));
      io.stderr.write(`${batchSummaryLine(summary, colors, label)}\n`);
      if (summary.stoppedBy === 'interrupted') {
        io.stderr.write(colors.yellow(`${label}: the jobs still queued stay queued and the workers go on; rerun the same command to collect their results\n`));
      }
    }
    let exitCode = EXIT_OK;
    if (summary.stoppedBy === 'interrupted') exitCode = EXIT_INTERRUPTED;
    else if (summary.failed > 0 || (summary.notStarted ?? 0) > 0) exitCode = EXIT_RUN_FAILED;
    return { summary, exitCode, colors, cachePath: null };
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    progress?.finish();
  }
}
