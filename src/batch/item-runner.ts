/**
 * One item of a batch: its work run with the batch's registry (limits), cache, prices, traces and
 * signal, and the line it leaves in the results — `{ id, ...record }` when it succeeds,
 * `{ id, error: { code, message }, usage, latencyMs, costUsd? }` when its work throws, nothing
 * when the batch's signal cut it short (it runs again next time). `runBatch` runs its items
 * through this; so does a queue worker (one item per job), so an item's line is the same however
 * it was run.
 *
 * Every call of every item is reported as it happens (`onCall`, `onAnswer`) for batch-wide
 * counters and progress; what one item used is in its outcome.
 */
import { join } from 'node:path';
import type { ModelPrice, PresetInput } from '../core/config-schema.js';
import { addUsage, ZERO_USAGE, type MoAEvent, type Usage } from '../core/events.js';
import type { MoAResult } from '../core/reducer.js';
import type { ResponseCache } from '../core/response-cache.js';
import { resolvePreset, type ResolvedPreset } from '../core/resolve-preset.js';
import { MoARunError, streamMoA, type MoAInput, type RunOptions } from '../core/stream-moa.js';
import { createTraceWriter } from '../node/trace-file.js';
import type { ModelRegistry } from '../models/registry.js';
import { toErrorInfo, type ErrorInfo } from '../util/errors.js';
import { callCost, roundUsd } from '../core/cost.js';
import type { BatchItem, BatchItemContext, ItemRunOptions } from './batch-item.js';

/** Defaults of every run of an item (a preset's own settings win). */
export type ItemRunDefaults = Pick<RunOptions, 'timeoutMs' | 'maxRetries' | 'retryBaseDelayMs' | 'retryMaxDelayMs' | 'maxRetryAfterMs'>;

export interface ItemRunnerOptions {
  registry: ModelRegistry;
  cache?: ResponseCache;
  prices?: Readonly<Record<string, ModelPrice>>;
  /** One trace JSONL per item run (`<dir>/<id>.jsonl`, the item's second run `<id>.2.jsonl`, …); the folder must exist. */
  tracesDir?: string;
  runDefaults?: ItemRunDefaults;
  /** Cuts every item in flight; an item cut short leaves no line. */
  signal: AbortSignal;
  clock?: () => number;
  /** A call reached a provider (retries included), with its provider's concurrency limit then. */
  onCall?: (call: { provider: string; concurrency?: number }) => void;
  /**
   * An agent ended (answered, from the cache or not, or failed) with this usage; `costUsd` is
   * undefined when the model has no price (0 for a cache hit or a call that used no tokens).
   */
  onAnswer?: (answer: { model: string; usage: Usage; cached: boolean; costUsd: number | undefined }) => void;
}

/** What one item used, whatever its outcome. */
export interface ItemAccount {
  usage: Usage;
  /** USD spent by the item (cache hits are free); undefined when a model it used has no price. */
  costUsd: number | undefined;
  calls: number;
  cacheHits: number;
  latencyMs: number;
  /** Models it used that have no price. */
  unpricedModels: string[];
  /** Each provider's concurrency limit in force at the item's latest call to it (an `auto` limit moves). */
  concurrency?: Record<string, number>;
}

export type ItemOutcome =
  | { status: 'done'; line: { id: string } & Record<string, unknown>; account: ItemAccount }
  | { status: 'failed'; line: { id: string } & Record<string, unknown>; error: ErrorInfo; account: ItemAccount }
  | { status: 'interrupted'; account: ItemAccount };

export interface ItemRunner {
  run<Item extends BatchItem, Output extends object>(item: Item, work: (item: Item, context: BatchItemContext) => Promise<Output>): Promise<ItemOutcome>;
}

/** A file name for an id: safe characters kept, anything else replaced, a hash suffix when it changed. */
export function traceFileName(id: string, run: number): string {
  const safe = id
    .replace(/[^A-Za-z0-9._-]/g, '_')
    .replace(/^\.+/, '_')
    .slice(0, 120);
  let suffix = '';
  if (safe !== id) {
    let hash = 2166136261;
    for (let index = 0; index < id.length; index++) hash = Math.imul(hash ^ id.charCodeAt(index), 16777619) >>> 0;
    suffix = `-${hash.toString(16).padStart(8, '0')}`;
  }
  return `${safe}${suffix}${run > 1 ? `.${run}` : ''}.jsonl`;
}

/** The record without an `id` of its own: the item's id always wins and comes first. */
function stripId(record: object): object {
  if (!('id' in record)) return record;
  const { id: _ignored, ...rest } = record as { id?: unknown };
  return rest;
}

/** "together:meta-llama/…" → "together" (model objects passed from code are labelled the same way). */
function providerOf(model: string): string {
  const colon = model.indexOf(':');
  return colon < 0 ? model : model.slice(0, colon);
}

export function createItemRunner(options: ItemRunnerOptions): ItemRunner {
  const clock = options.clock ?? (() => performance.now());
  const prices = options.prices ?? {};
  const { registry, signal } = options;

  return {
    async run(item, work) {
      const itemStart = clock();
      let usage: Usage = { ...ZERO_USAGE };
      let cost = 0;
      let costKnown = true;
      let calls = 0;
      let cacheHits = 0;
      let runs = 0;
      const unpriced = new Set<string>();
      let concurrency: Record<string, number> | undefined;
      const account = (event: MoAEvent): void => {
        // Count what was sent: an agent cut or cancelled while queued, or answered from the cache, sent nothing.
        if (event.type === 'agent-call') {
          calls++;
          const provider = providerOf(event.model);
          if (event.concurrency !== undefined) (concurrency ??= {})[provider] = event.concurrency;
          options.onCall?.({ provider, ...(event.concurrency !== undefined ? { concurrency: event.concurrency } : {}) });
        } else if (event.type === 'agent-end' || event.type === 'agent-error') {
          usage = addUsage(usage, event.usage);
          const cached = event.type === 'agent-end' && event.cached === true;
          let spent: number | undefined = 0;
          if (cached) cacheHits++;
          else if (event.usage.inputTokens !== 0 || event.usage.outputTokens !== 0) {
            spent = callCost(prices, event.model, event.usage);
            if (spent === undefined) {
              costKnown = false;
              unpriced.add(event.model);
            } else cost += spent;
          }
          options.onAnswer?.({ model: event.model, usage: event.usage, cached, costUsd: spent });
        }
      };
      const itemAccount = (): ItemAccount => ({
        usage,
        costUsd: costKnown ? roundUsd(cost) : undefined,
        calls,
        cacheHits,
        latencyMs: Math.round(clock() - itemStart),
        unpricedModels: [...unpriced].sort(),
        ...(concurrency ? { concurrency: { ...concurrency } } : {}),
      });

      const runMoA = async (preset: PresetInput | ResolvedPreset, input: MoAInput, runOptions: ItemRunOptions = {}): Promise<MoAResult> => {
        runs++;
        const trace = options.tracesDir ? createTraceWriter(join(options.tracesDir, traceFileName(item.id, runs))) : undefined;
        const userOnEvent = runOptions.onEvent;
        const run = streamMoA(preset, input, {
          stream: 'none',
          ...options.runDefaults,
          ...runOptions,
          registry,
          ...(options.cache ? { cache: options.cache } : {}),
          signal,
          onEvent: (event) => {
            account(event);
            trace?.write(event);
            userOnEvent?.(event);
          },
        });
        try {
          return await run.result;
        } finally {
          await trace?.close().catch(() => undefined);
        }
      };

      const context: BatchItemContext = {
        id: item.id,
        signal,
        registry,
        runMoA,
        async callModel(model, input, callOptions = {}) {
          const preset = resolvePreset(
            {
              layers: 1,
              aggregator: {
                model,
                ...(callOptions.temperature !== undefined ? { temperature: callOptions.temperature } : {}),
                ...(callOptions.maxTokens !== undefined ? { maxTokens: callOptions.maxTokens } : {}),
                ...(callOptions.system !== undefined ? { system: callOptions.system } : {}),
              },
              ...(callOptions.timeoutMs !== undefined ? { timeoutMs: callOptions.timeoutMs } : {}),
              ...(callOptions.maxRetries !== undefined ? { maxRetries: callOptions.maxRetries } : {}),
            },
            { name: 'call' },
          );
          const result = await runMoA(preset, input, callOptions.topLogprobs !== undefined ? { final: { topLogprobs: callOptions.topLogprobs } } : {});
          const agent = result.layers[0]?.agents[0];
          return {
            text: result.text,
            usage: result.usage,
            cached: agent?.cached === true,
            latencyMs: result.latencyMs,
            ...(agent?.topLogprobs ? { topLogprobs: agent.topLogprobs } : {}),
          };
        },
        get usage() {
          return usage;
        },
        get costUsd() {
          return costKnown ? roundUsd(cost) : undefined;
        },
        get cacheHits() {
          return cacheHits;
        },
        elapsedMs: () => Math.round(clock() - itemStart),
      };

      try {
        const record = await work(item, context);
        return { status: 'done', line: { id: item.id, ...stripId(record) }, account: itemAccount() };
      } catch (error) {
        if (signal.aborted) return { status: 'interrupted', account: itemAccount() };
        const info = error instanceof MoARunError ? (error.result.error ?? toErrorInfo(error)) : toErrorInfo(error);
        const spent = itemAccount();
        return {
          status: 'failed',
          error: info,
          line: {
            id: item.id,
            error: { code: info.code, message: info.message },
            usage: spent.usage,
            latencyMs: spent.latencyMs,
            ...(spent.costUsd !== undefined ? { costUsd: spent.costUsd } : {}),
          },
          account: spent,
        };
      }
    },
  };
}
