/**
 * The batch runner: many items, each some MoA runs or model calls, written to a
 * results JSONL that survives a crash and resumes. `moa batch` is one user;
 * `moa eval` and `moa judge` are others. Everything shares one scheduler (one
 * model registry: per-provider concurrency, requests/tokens per minute, the
 * pause after a 429), one response cache, one cost meter and one progress stream.
 *
 * ```ts
 * const summary = await runBatch<Item, Output>({
 *   items,              // Iterable | AsyncIterable of { id: string, ... } (or InvalidInput: reported, skipped)
 *   outputPath,         // results JSONL: one line per id, `{ id, ...record }`
 *   work: async (item, context) => {
 *     const result = await context.runMoA(preset, item.messages);      // shared registry, cache, signal, traces
 *     const verdict = await context.callModel('openai:gpt-4o', judgePrompt, { temperature: 0 }); // one model, same limits
 *     return { text: result.text, usage: context.usage, latencyMs: context.elapsedMs(), costUsd: context.costUsd };
 *   },
 *   registry,           // or providers + env (the runner then builds and closes its own)
 *   cache,              // a ResponseCache (openResponseCache(path) for SQLite) — optional
 *   prices,             // config.prices, for cost and budgetUsd
 *   concurrency: 32,    // items in flight at once (provider limits apply underneath)
 *   budgetUsd, tracesDir, retryFailed: true, strict: false, signal,
 *   total,              // items in the source (for progress and ETA), when known
 *   onEvent,            // progress: batch-start, item-start, item-end, item-error, input-error, batch-end
 * });
 * ```
 *
 * Rules:
 * - Resume: ids already in the output are skipped. The output holds exactly
 *   one line per id at every moment: a failed item's line (`{ id, error: {
 *   code, message }, usage, latencyMs, costUsd? }`) is removed and the item
 *   retried by the next run (`retryFailed: false` keeps it as done).
 * - An item's work may be several sequential runs (turn 2 sees turn 1); its
 *   record is the caller's choice (the runner writes `{ id, ...record }`).
 *   A work that throws is a failed item; nothing is written for an item cut
 *   short by `signal` (it runs again next time).
 * - `budgetUsd`: once the money spent by this run (calls answered from the
 *   cache are free) reaches it, no new item starts; items in flight finish.
 * - `strict`: an invalid input stops starting items; the ones in flight finish,
 *   then runBatch rejects with a ConfigError naming the line.
 * - Memory stays flat: items are pulled from the source only as slots free up,
 *   and nothing of a finished item is kept but its id.
 */
import { setMaxListeners } from 'node:events';
import { mkdirSync } from 'node:fs';
import type { ModelPrice, ProviderSettings } from '../core/config-schema.js';
import { addUsage, ZERO_USAGE, type Usage } from '../core/events.js';
import type { ResponseCache } from '../core/response-cache.js';
import { createNodeHttpFetch, type NodeHttpFetch } from '../models/node-http-fetch.js';
import { createModelRegistry, type ModelRegistry } from '../models/registry.js';
import { AbortedError, type ErrorInfo } from '../util/errors.js';
import { roundUsd } from '../core/cost.js';
import { createItemRunner, type ItemRunDefaults } from './item-runner.js';
import { openResultsAppender, prepareResultsFile } from './results-file.js';
import '../models/local/register-local-provider.js'; // the local: provider (GGUF through node-llama-cpp) in this Node face's registries

export { traceFileName } from './item-runner.js';
export type { BatchItem, BatchItemContext, BatchSource, InvalidInput, ItemRunOptions, ModelAnswer, ModelCallOptions } from './batch-item.js';
import type { BatchItem, BatchItemContext, BatchSource } from './batch-item.js';
import { itemsToRun, type SourceReading } from './items-to-run.js';

export interface BatchStats {
  /** Items in the source, when known (`total` option). */
  total?: number;
  /** Items found already done in the output and skipped. */
  alreadyDone: number;
  /** Failed items removed from the output to be retried by this run. */
  retrying: number;
  started: number;
  succeeded: number;
  failed: number;
  /** Invalid input entries (reported and skipped). */
  invalid: number;
  inFlight: number;
  /** Model calls made (attempts that reached a provider, retries included) and answers served from the cache. */
  calls: number;
  /** Each provider's concurrency limit in force at its latest call (an `auto` limit moves: this is where it stands). */
  concurrency?: Record<string, number>;
  cacheHits: number;
  usage: Usage;
  /** USD spent by this run on priced models. */
  costUsd: number;
  /** Models used without a price (their cost is not counted). */
  unpricedModels: string[];
  elapsedMs: number;
}

export type BatchStopReason = 'budget' | 'interrupted' | 'invalid-input';

export interface BatchSummary extends BatchStats {
  /** Why the run stopped before the source ended; absent when every item was attempted. */
  stoppedBy?: BatchStopReason;
  /** Items of the source neither done before nor attempted now (when `total` is known). */
  notStarted?: number;
  outputPath: string;
  /** What resuming repaired in the output (torn last line, duplicate lines). */
  repairs: string[];
}

export type BatchEvent =
  | { type: 'batch-start'; stats: BatchStats }
  | { type: 'item-start'; id: string; stats: BatchStats }
  | { type: 'item-end'; id: string; costUsd?: number; stats: BatchStats }
  | { type: 'item-error'; id: string; error: ErrorInfo; stats: BatchStats }
  | { type: 'input-error'; line: number; message: string; stats: BatchStats }
  | { type: 'batch-end'; summary: BatchSummary };

export interface RunBatchOptions<Item extends BatchItem, Output extends object> {
  items: BatchSource<Item>;
  outputPath: string;
  work: (item: Item, context: BatchItemContext) => Promise<Output>;
  /**
   * Shared by every run of the batch. Without one, built from `providers` + `env` (with the
   * node:http fetch of models/node-http-fetch.ts) and closed at the end.
   */
  registry?: ModelRegistry;
  providers?: Record<string, ProviderSettings>;
  env?: Record<string, string | undefined>;
  cache?: ResponseCache;
  prices?: Readonly<Record<string, ModelPrice>>;
  /** Items in flight at once (default 32). */
  concurrency?: number;
  budgetUsd?: number;
  /** One trace JSONL per item run. */
  tracesDir?: string;
  /** Retry items whose output line holds an error (default true). */
  retryFailed?: boolean;
  strict?: boolean;
  signal?: AbortSignal;
  total?: number;
  /** Defaults of every run (a preset's own settings win). */
  runDefaults?: ItemRunDefaults;
  onEvent?: (event: BatchEvent) => void;
  clock?: () => number;
}

export const DEFAULT_BATCH_CONCURRENCY = 32;

/**
 * Run `work` on every item of `items`, writing `{ id, ...output }` per finished item to
 * `outputPath` (JSONL): resumable (ids already there are skipped), cached, with one registry
 * (provider limits), budget, traces and progress events for the whole batch.
 *
 * @example
 * ```ts
 * import { runBatch } from 'moa-engine/batch';
 *
 * const preset = { layers: 2, proposers: ['openai:gpt-4o-mini', 'groq:llama-3.3-70b-versatile'], aggregator: 'openai:gpt-4o' };
 * const questions = [
 *   { id: 'q1', prompt: 'Name three prime numbers.' },
 *   { id: 'q2', prompt: 'Why is the sky blue?' },
 * ];
 * const summary = await runBatch({
 *   items: questions,
 *   outputPath: 'answers.jsonl', // a rerun skips the ids already answered there
 *   work: async (item, context) => ({ answer: (await context.runMoA(preset, item.prompt)).text, costUsd: context.costUsd }),
 *   concurrency: 8,
 *   budgetUsd: 1,
 * });
 * console.log(summary.succeeded, summary.failed, summary.costUsd);
 * ```
 */
export async function runBatch<Item extends BatchItem, Output extends object>(options: RunBatchOptions<Item, Output>): Promise<BatchSummary> {
  const clock = options.clock ?? (() => performance.now());
  const startedAt = clock();
  const concurrency = Math.max(1, options.concurrency ?? DEFAULT_BATCH_CONCURRENCY);
  const prices = options.prices ?? {};
  const ownsRegistry = options.registry === undefined;
  const ownFetch: NodeHttpFetch | undefined = ownsRegistry ? createNodeHttpFetch() : undefined;
  const registry = options.registry ?? createModelRegistry({ providers: options.providers, env: options.env, fetch: ownFetch });
  if (options.tracesDir) mkdirSync(options.tracesDir, { recursive: true });

  const resume = prepareResultsFile(options.outputPath, { retryFailed: options.retryFailed ?? true });
  const output = openResultsAppender(options.outputPath);
  const unpriced = new Set<string>();
  const stats: BatchStats = {
    ...(options.total !== undefined ? { total: options.total } : {}),
    alreadyDone: 0,
    retrying: resume.retrying,
    started: 0,
    succeeded: 0,
    failed: 0,
    invalid: 0,
    inFlight: 0,
    calls: 0,
    cacheHits: 0,
    usage: { ...ZERO_USAGE },
    costUsd: 0,
    unpricedModels: [],
    elapsedMs: 0,
  };
  const emit = (event: BatchEvent): void => {
    stats.elapsedMs = clock() - startedAt;
    options.onEvent?.(event);
  };

  // The batch's own signal: the caller's, and nothing else (a budget stop lets items in flight finish).
  const controller = new AbortController();
  setMaxListeners(0, controller.signal); // every run in flight listens to it
  const onAbort = (): void => controller.abort(options.signal?.reason ?? new AbortedError('The batch was interrupted'));
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  let stopReason: BatchStopReason | undefined;
  const reading: SourceReading = {};
  const inFlight = new Set<Promise<void>>();

  const itemRunner = createItemRunner({
    registry,
    ...(options.cache ? { cache: options.cache } : {}),
    prices,
    ...(options.tracesDir ? { tracesDir: options.tracesDir } : {}),
    ...(options.runDefaults ? { runDefaults: options.runDefaults } : {}),
    signal: controller.signal,
    clock,
    onCall: ({ provider, concurrency }) => {
      stats.calls++;
      if (concurrency !== undefined) (stats.concurrency ??= {})[provider] = concurrency; // stats is one live object, as its counters are
    },
    onAnswer: ({ model, usage, cached, costUsd }) => {
      stats.usage = addUsage(stats.usage, usage);
      if (cached) stats.cacheHits++;
      if (costUsd !== undefined) stats.costUsd += costUsd;
      else if (!unpriced.has(model)) {
        unpriced.add(model);
        stats.unpricedModels = [...unpriced].sort();
      }
    },
  });

  const runItem = async (item: Item): Promise<void> => {
    stats.started++;
    stats.inFlight++;
    emit({ type: 'item-start', id: item.id, stats });
    const outcome = await itemRunner.run(item, options.work);
    stats.inFlight--;
    if (outcome.status === 'interrupted') return; // not written, runs again next time
    output.append(outcome.line);
    const costUsd = outcome.account.costUsd;
    if (outcome.status === 'done') {
      stats.succeeded++;
      emit({ type: 'item-end', id: item.id, ...(costUsd !== undefined ? { costUsd } : {}), stats });
    } else {
      stats.failed++;
      emit({ type: 'item-error', id: item.id, error: outcome.error, stats });
    }
  };

  emit({ type: 'batch-start', stats });
  try {
    for await (const item of itemsToRun(options.items, reading, {
      signal: controller.signal,
      strict: options.strict,
      done: resume.done,
      stats,
      onInvalid: (entry) => emit({ type: 'input-error', line: entry.line, message: entry.message, stats }),
    })) {
      while (inFlight.size >= concurrency) await Promise.race(inFlight);
      if (controller.signal.aborted) {
        stopReason = 'interrupted';
        break;
      }
      if (options.budgetUsd !== undefined && stats.costUsd >= options.budgetUsd) {
        stopReason = 'budget';
        break;
      }
      const running: Promise<void> = runItem(item).finally(() => inFlight.delete(running));
      inFlight.add(running);
    }
    stopReason ??= reading.stoppedBy;
    await Promise.all(inFlight);
  } finally {
    // An error from the source (e.g. an unreadable input) still lets the items in flight finish and be written.
    await Promise.allSettled(inFlight);
    output.close();
    options.signal?.removeEventListener('abort', onAbort);
    if (ownsRegistry) await registry.close().catch(() => undefined);
    ownFetch?.close();
  }
  if (controller.signal.aborted && stopReason === undefined) stopReason = 'interrupted';

  stats.costUsd = roundUsd(stats.costUsd);
  stats.elapsedMs = clock() - startedAt;
  const attempted = stats.alreadyDone + stats.succeeded + stats.failed;
  const summary: BatchSummary = {
    ...stats,
    usage: { ...stats.usage },
    unpricedModels: [...stats.unpricedModels],
    ...(stats.concurrency ? { concurrency: { ...stats.concurrency } } : {}),
    ...(stopReason ? { stoppedBy: stopReason } : {}),
    ...(options.total !== undefined ? { notStarted: Math.max(0, options.total - attempted) } : {}),
    outputPath: options.outputPath,
    repairs: resume.repairs,
  };
  emit({ type: 'batch-end', summary });
  if (reading.strictError) throw reading.strictError;
  return summary;
}
