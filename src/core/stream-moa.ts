/**
 * The engine's entry points. `streamMoA` returns the ordered event stream and a
 * promise of the result; `runMoA` just awaits the result. The result is always
 * the fold of the events (`reduceEvents`), so a trace replays to the same result.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { createModelRegistry, type ModelRegistry, type ResolvedModel } from '../models/registry.js';
import type { FetchFunction } from '../models/create-provider.js';
import { AbortedError, MoAError, toErrorInfo } from '../util/errors.js';
import type { ProviderSettings } from './config-schema.js';
import { EventChannel } from './event-channel.js';
import { normalizeInput, type MoAInput } from './conversation-input.js';
import type { MoAEvent, StreamMode } from './events.js';

export { normalizeInput, type MoAInput };
import { applyEvent, initialResult, type MoAResult } from './reducer.js';
import { isResolvedPreset, planLayers, resolvePreset, type ResolvedPreset } from './resolve-preset.js';
import type { PresetInput } from './config-schema.js';
import type { ResponseCache } from './response-cache.js';
import type { RunContext } from './run-context.js';
import { runGraph } from './run-graph.js';
import type { CallSettings } from '../models/call-settings.js';
import { involvesTools } from './conversation-view.js';
import { processReferenceMemory, type ReferenceMemory } from './reference-memory.js';
import { withFinalSamples, checkFinalTools } from './final-options.js';
import { randomUUID } from '../util/random-id.js';

export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_RETRIES = 2;
/** The AI SDK and openai-node wait at most 60 s for a Retry-After; so do we. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

/** The final aggregator's tools, response format and sampling settings, and how many answers it writes. */
export interface FinalCallOptions extends CallSettings {
  /** Answers over one set of references (OpenAI's `n`): the final layer runs this many times (default 1). */
  samples?: number;
  /**
   * Ask for the top N (1–20) log-probabilities of the answer's first token (openai and openai-compatible
   * providers; the others answer without): `agent-end.topLogprobs`. A judge's soft preference reads them.
   */
  topLogprobs?: number;
}

export interface RunOptions {
  signal?: AbortSignal;
  /** Which agents stream tokens as agent-delta events. streamMoA: 'final'; runMoA: 'none'. */
  stream?: StreamMode;
  /** Resolves "provider:model" names; built from `providers` and `env` when absent. */
  registry?: ModelRegistry;
  providers?: Record<string, ProviderSettings>;
  env?: Record<string, string | undefined>;
  fetch?: FetchFunction;
  /**
   * Time budget of each model of an agent (default 600 000 ms): waiting for a slot and for rate limits,
   * retries and the calls all count; a fallback model starts with its own. A preset's or provider's own setting wins.
   */
  timeoutMs?: number;
  /** Longest one call may take before it is abandoned and retried, within `timeoutMs` (default: no own limit). */
  attemptTimeoutMs?: number;
  /** Retries after the first attempt on 408/409/429/5xx/network errors (default 2). */
  maxRetries?: number;
  retryBaseDelayMs?: number;
  /** Cap of the exponential backoff between retries when the provider did not say when to retry (default 60 000 ms). */
  retryMaxDelayMs?: number;
  /**
   * The longest Retry-After an agent waits for (default 60 000 ms, the cap the AI SDK and openai-node use).
   * A provider asking for longer (or for more than the agent's timeoutMs has left) fails that model at once,
   * with a "rate-limited by … for N s" error, and the agent moves on to its fallback if it has one.
   */
  maxRetryAfterMs?: number;
  random?: () => number;
  /** Milliseconds from an arbitrary origin; default performance.now. */
  clock?: () => number;
  runId?: string;
  /** Called synchronously for every event, before async iterators see it. */
  onEvent?: (event: MoAEvent) => void;
  /**
   * Answers already known: consulted before every call (a hit emits the usual
   * agent-start/agent-end, marked `cached: true`, and makes no call); every
   * successful answer is stored. See core/response-cache.ts for the key.
   */
  cache?: ResponseCache;
  /**
   * Only for the final aggregator (and its fallbacks): tools, response format, stop sequences, seed,
   * top-p/top-k, penalties, provider options, and `samples`. Every other agent advises in plain text.
   */
  final?: FinalCallOptions;
  /**
   * Inside a client's tool loop (the conversation ends with tool results): 'reuse' (default) gives the
   * final aggregator the references of that user turn again instead of running the proposers; 'rerun'
   * runs every layer each step. A preset's own `toolLoop` wins.
   */
  toolLoop?: 'reuse' | 'rerun';
  /** Where the references of each user turn are kept for tool loops (default: one per process). */
  referenceMemory?: ReferenceMemory;
  /**
   * Stream the fastest proposer's answer (agent-delta events of layer 1, announced by `draft-start`) as a
   * labelled draft while the real answer is made. For the native event stream and the page, never the final text.
   */
  draft?: boolean;
}

export interface MoARun extends AsyncIterable<MoAEvent> {
  readonly runId: string;
  /** Resolves with the result; rejects with MoARunError (carrying the partial result) when the run fails. */
  readonly result: Promise<MoAResult>;
  /** Every event emitted so far. */
  readonly events: readonly MoAEvent[];
  abort(reason?: unknown): void;
}

/** A failed run; `result` still holds every answer that was produced. */
export class MoARunError extends MoAError {
  readonly result: MoAResult;
  constructor(result: MoAResult) {
    super(result.error?.code ?? 'run_failed', result.error?.message ?? 'MoA run failed');
    this.name = 'MoARunError';
    this.result = result;
  }
}

/** Runs started in this process, in order: the scheduler serves older runs' calls first. */
let runsStarted = 0;

/**
 * Run MoA, streaming its events: an async-iterable of every event (layer, agent, deltas, the
 * final answer), plus `result` (a promise) and `abort()`. Configuration problems throw
 * ConfigError before any call; a failed run rejects `result` with MoARunError.
 *
 * @example
 * ```ts
 * import { streamMoA } from 'moa-engine';
 *
 * const run = streamMoA(
 *   { layers: 2, proposers: ['openai:gpt-4o-mini', 'groq:llama-3.3-70b-versatile'], aggregator: 'openai:gpt-4o' },
 *   'What is the capital of Australia?',
 *   { stream: 'final', signal: AbortSignal.timeout(60_000) }, // 'final': the last aggregator emits agent-delta
 * );
 * for await (const event of run) {
 *   if (event.type === 'agent-delta') process.stdout.write(event.delta);
 * }
 * const result = await run.result;
 * console.log(result.usage, result.layers.map((layer) => layer.agents.length));
 * ```
 */
export function streamMoA(preset: PresetInput | ResolvedPreset, input: MoAInput, options: RunOptions = {}): MoARun {
  const { samples = 1, topLogprobs, ...finalSettings } = options.final ?? {};
  const resolved = withFinalSamples(isResolvedPreset(preset) ? preset : resolvePreset(preset), samples);
  const messages = normalizeInput(input);
  const ownsRegistry = options.registry === undefined;
  const registry = options.registry ?? createModelRegistry({ providers: options.providers, env: options.env, fetch: options.fetch });

  // Resolve every model up front: an unknown provider or a missing key is a
  // configuration error before any call is made, not a failure mid-run.
  const models = new Map<string | LanguageModelV3, ResolvedModel>();
  for (const layer of resolved.layers) {
    for (const agent of layer.agents) {
      if (!models.has(agent.model)) models.set(agent.model, registry.resolve(agent.model, agent.path));
      agent.fallbacks.forEach((fallback, index) => {
        if (!models.has(fallback)) models.set(fallback, registry.resolve(fallback, `${agent.path}.fallbacks[${index}]`));
      });
    }
  }

  const hasTools = (finalSettings.tools?.length ?? 0) > 0;
  if (hasTools) checkFinalTools(resolved, models);
  const embeddingModel = resolved.stopWhen?.embeddingModel ? registry.resolveEmbedding(resolved.stopWhen.embeddingModel, 'stopWhen.embeddingModel') : undefined;

  const clock = options.clock ?? (() => performance.now());
  const start = clock();
  const now = (): number => Math.round(clock() - start);
  const runId = options.runId ?? `run_${randomUUID()}`;
  const channel = new EventChannel(runId, now);
  const state = initialResult(runId);
  channel.onEvent((event) => applyEvent(state, event));
  if (options.onEvent) channel.onEvent(options.onEvent);

  const controller = new AbortController();
  const onCallerAbort = (): void => controller.abort(options.signal?.reason ?? new AbortedError());
  if (options.signal?.aborted) onCallerAbort();
  else options.signal?.addEventListener('abort', onCallerAbort, { once: true });

  const stream = options.stream ?? 'final';
  const lastLayer = resolved.layers.length - 1;
  const context: RunContext = {
    emit: (body) => channel.emit(body),
    now,
    resolveModel: (model) => models.get(model) ?? registry.resolve(model),
    isFinalLayer: (layer) => layer === lastLayer,
    messages,
    ...(options.final && Object.keys(finalSettings).length > 0 ? { final: finalSettings } : {}),
    ...(topLogprobs !== undefined ? { topLogprobs } : {}),
    toolsInPlay: hasTools || involvesTools(messages),
    runOrder: runsStarted++,
    synthesisPrompt: resolved.synthesisPrompt,
    stream,
    signal: controller.signal,
    timeoutMs: resolved.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: resolved.maxRetries ?? options.maxRetries ?? DEFAULT_MAX_RETRIES,
    maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
    ...((resolved.attemptTimeoutMs ?? options.attemptTimeoutMs) !== undefined ? { attemptTimeoutMs: resolved.attemptTimeoutMs ?? options.attemptTimeoutMs } : {}),
    backoff: {
      baseDelayMs: options.retryBaseDelayMs ?? 500,
      maxDelayMs: options.retryMaxDelayMs ?? 60_000,
      ...(options.random ? { random: options.random } : {}),
    },
    ...(options.cache ? { cache: options.cache } : {}),
    random: options.random ?? Math.random,
  };

  // Time to first token: the first streamed token of the final answer (its event's t), or, when nobody
  // watches it stream, the moment its first text was committed.
  let ttftMs: number | undefined;
  channel.onEvent((event) => {
    if (ttftMs === undefined && event.type === 'agent-delta' && event.layer === lastLayer && event.delta) ttftMs = event.t;
  });

  const work = (async (): Promise<MoAResult> => {
    await Promise.resolve(); // let the caller subscribe before the first event
    channel.emit({
      type: 'run-start',
      ...(resolved.name !== undefined ? { preset: resolved.name } : {}),
      layers: planLayers(resolved),
      stream,
      messages,
    });
    try {
      const answer = await runGraph(context, resolved, {
        stream,
        draft: options.draft === true,
        toolLoop: resolved.toolLoop ?? options.toolLoop ?? 'reuse',
        referenceMemory: options.referenceMemory ?? processReferenceMemory,
        ...(embeddingModel ? { embeddingModel } : {}),
        samples,
      });
      channel.emit({
        type: 'run-end',
        text: answer.text,
        usage: state.usage,
        latencyMs: now(),
        ...(answer.finishReason ? { finishReason: answer.finishReason } : {}),
        ...(answer.toolCalls ? { toolCalls: answer.toolCalls } : {}),
        ...(answer.choices ? { choices: answer.choices } : {}),
        ...((ttftMs ?? answer.firstTextMs) !== undefined ? { ttftMs: ttftMs ?? answer.firstTextMs } : {}),
      });
    } catch (error) {
      const info = controller.signal.aborted ? toErrorInfo(new AbortedError()) : toErrorInfo(error);
      channel.emit({ type: 'run-error', error: info, usage: state.usage, latencyMs: now() });
    } finally {
      options.signal?.removeEventListener('abort', onCallerAbort);
      // A registry this run made is this run's to release (local models unload here).
      if (ownsRegistry) await registry.close().catch(() => undefined);
      channel.close();
    }
    if (state.status === 'failed') throw new MoARunError(state);
    return state;
  })();
  work.catch(() => undefined); // the caller may only iterate events; the error is also a run-error event

  return {
    runId,
    result: work,
    get events() {
      return channel.events;
    },
    abort: (reason?: unknown) => controller.abort(reason ?? new AbortedError()),
    [Symbol.asyncIterator]: () => channel[Symbol.asyncIterator](),
  };
}

/**
 * Run MoA and return the result (rejects with MoARunError, which carries the partial result).
 *
 * @example
 * ```ts
 * import { MoARunError, runMoA } from 'moa-engine';
 * import { loadConfig } from 'moa-engine/node';
 *
 * const config = loadConfig(); // ./moa.config.yaml or $MOA_CONFIG, merged over the built-in presets
 * try {
 *   const result = await runMoA(config.resolve('moa-lite'), 'Why is the sky blue?', { providers: config.providers });
 *   console.log(result.text);
 * } catch (error) {
 *   if (!(error instanceof MoARunError)) throw error;
 *   console.error(error.message, error.result.degraded); // the answers produced before it failed are in error.result
 * }
 * ```
 */
export async function runMoA(preset: PresetInput | ResolvedPreset, input: MoAInput, options: RunOptions = {}): Promise<MoAResult> {
  return streamMoA(preset, input, { stream: 'none', ...options }).result;
}
