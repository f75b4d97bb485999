/**
 * The engine's entry points. `streamMoA` returns the ordered event stream and a
 * promise of the result; `runMoA` just awaits the result. The result is always
 * the fold of the events (`reduceEvents`), so a trace replays to the same result.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { createModelRegistry, type ModelRegistry, type ResolvedModel } from '../models/registry.js';
import type { FetchFunction } from '../models/create-provider.js';
import { AbortedError, ConfigError, MoAError, toErrorInfo } from '../util/errors.js';
import type { ProviderSettings } from './config-schema.js';
import { EventChannel } from './event-channel.js';
import type { ChatMessage, MoAEvent, StreamMode } from './events.js';
import { applyEvent, initialResult, type MoAResult } from './reducer.js';
import { isResolvedPreset, planLayers, resolvePreset, type ResolvedPreset } from './resolve-preset.js';
import type { PresetInput } from './config-schema.js';
import type { ResponseCache } from './response-cache.js';
import type { RunContext } from './run-context.js';
import { runLayer } from './run-layer.js';

export type MoAInput = string | readonly ChatMessage[] | { messages: readonly ChatMessage[] };

export const DEFAULT_TIMEOUT_MS = 600_000;
export const DEFAULT_MAX_RETRIES = 2;
/** The AI SDK and openai-node wait at most 60 s for a Retry-After; so do we. */
export const DEFAULT_MAX_RETRY_AFTER_MS = 60_000;

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

export function normalizeInput(input: MoAInput): ChatMessage[] {
  const list = typeof input === 'string' ? [{ role: 'user' as const, content: input }] : 'messages' in input ? input.messages : input;
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError('The conversation is empty: give a prompt or at least one user message', {
      code: 'invalid_input',
      path: 'messages',
    });
  }
  const messages = list.map((message, index) => {
    if (!message || !['system', 'user', 'assistant'].includes(message.role)) {
      throw new ConfigError(`messages[${index}].role must be "system", "user" or "assistant"`, {
        code: 'invalid_input',
        path: `messages[${index}].role`,
      });
    }
    if (typeof message.content !== 'string') {
      throw new ConfigError(`messages[${index}].content must be a string`, { code: 'invalid_input', path: `messages[${index}].content` });
    }
    return { role: message.role, content: message.content };
  });
  const last = messages[messages.length - 1]!;
  if (last.role !== 'user') {
    throw new ConfigError(`The last message must be the user's turn (found "${last.role}" at messages[${messages.length - 1}])`, {
      code: 'invalid_input',
      path: `messages[${messages.length - 1}].role`,
    });
  }
  if (!last.content.trim()) {
    throw new ConfigError('The prompt is empty', { code: 'invalid_input', path: `messages[${messages.length - 1}].content` });
  }
  return messages;
}

/** Runs started in this process, in order: the scheduler serves older runs' calls first. */
let runsStarted = 0;

export function streamMoA(preset: PresetInput | ResolvedPreset, input: MoAInput, options: RunOptions = {}): MoARun {
  const resolved = isResolvedPreset(preset) ? preset : resolvePreset(preset);
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

  const clock = options.clock ?? (() => performance.now());
  const start = clock();
  const now = (): number => Math.round(clock() - start);
  const runId = options.runId ?? `run_${globalThis.crypto.randomUUID()}`;
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
    runOrder: runsStarted++,
    synthesisPrompt: resolved.synthesisPrompt,
    stream,
    signal: controller.signal,
    timeoutMs: resolved.timeoutMs ?? options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: resolved.maxRetries ?? options.maxRetries ?? DEFAULT_MAX_RETRIES,
    maxRetryAfterMs: options.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS,
    ...((resolved.attemptTimeoutMs ?? options.attemptTimeoutMs) !== undefined
      ? { attemptTimeoutMs: resolved.attemptTimeoutMs ?? options.attemptTimeoutMs }
      : {}),
    backoff: {
      baseDelayMs: options.retryBaseDelayMs ?? 500,
      maxDelayMs: options.retryMaxDelayMs ?? 60_000,
      ...(options.random ? { random: options.random } : {}),
    },
    ...(options.cache ? { cache: options.cache } : {}),
  };

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
      let references: string[] = [];
      for (let index = 0; index <= lastLayer; index++) {
        const outcome = await runLayer(context, index, resolved.layers[index]!, references);
        references = outcome.answers;
      }
      channel.emit({ type: 'run-end', text: references[0] ?? '', usage: state.usage, latencyMs: now() });
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

/** Run MoA and return the result (rejects with MoARunError, which carries the partial result). */
export async function runMoA(preset: PresetInput | ResolvedPreset, input: MoAInput, options: RunOptions = {}): Promise<MoAResult> {
  return streamMoA(preset, input, { stream: 'none', ...options }).result;
}
