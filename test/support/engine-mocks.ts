/**
 * Scriptable AI SDK mock models for the engine's unit tests. Each mock answers
 * both `doGenerate` and `doStream` from one responder, and records every call
 * (prompt, abort signal, mode) so tests can assert on what the engine sent.
 */
import { APICallError, type LanguageModelV3, type LanguageModelV3CallOptions, type LanguageModelV3StreamPart, type LanguageModelV3Usage } from '@ai-sdk/provider';
import { convertArrayToReadableStream, MockLanguageModelV3 } from 'ai/test';
import { CallScheduler, type Lane } from '../../src/models/call-scheduler.js';
import { providerCapabilities } from '../../src/models/provider-capabilities.js';
import type { ModelRegistry, ResolvedModel } from '../../src/models/registry.js';

export interface Reply {
  text: string;
  inputTokens?: number;
  outputTokens?: number;
  /** Function calls to answer with (finish reason 'tool-calls'); streamed as tool-input parts, arguments in two pieces. */
  toolCalls?: Array<{ id: string; name: string; arguments: string }>;
}

export interface MockCall {
  options: LanguageModelV3CallOptions;
  /** 0-based number of this call to this model. */
  index: number;
  mode: 'generate' | 'stream';
}

export type Responder = (call: MockCall) => Reply | string | Promise<Reply | string>;

export type MockModel = MockLanguageModelV3 & { calls: MockCall[] };

export function usageOf(inputTokens: number, outputTokens: number): LanguageModelV3Usage {
  return {
    inputTokens: { total: inputTokens, noCache: inputTokens, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: outputTokens, text: outputTokens, reasoning: undefined },
  };
}

/** "one two three" → ["one ", "two ", "three"]: the deltas a stream sends. */
export function chunksOf(text: string): string[] {
  return text.match(/\S+\s*|\s+/g) ?? [];
}

/**
 * A mock model named `provider:id`. `respond` is a fixed answer or a function of
 * the call (or a fixed Reply with token counts); a thrown error (e.g. `apiError(429)`) is what the provider throws.
 */
/** Timing of a mock's answers: a wait before the first token, and between tokens (streamed or not). */
export interface MockTiming {
  firstTokenDelayMs?: number;
  tokenDelayMs?: number;
}

/** Wait `ms`, rejecting with the signal's reason when it aborts first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Parts sent one by one with the timing's delays; the stream errors with the abort reason when the call is aborted. */
function timedStream(parts: LanguageModelV3StreamPart[], timing: MockTiming, signal: AbortSignal | undefined): ReadableStream<LanguageModelV3StreamPart> {
  let index = 0;
  return new ReadableStream<LanguageModelV3StreamPart>({
    async pull(controller) {
      const part = parts[index++];
      if (part === undefined) return controller.close();
      try {
        if (part.type === 'text-delta') await pause(index <= 3 ? (timing.firstTokenDelayMs ?? 0) : (timing.tokenDelayMs ?? 0), signal);
      } catch (error) {
        controller.error(error);
        return;
      }
      controller.enqueue(part);
    },
  });
}

export function mockModel(name: string, respond: Responder | Reply | string = name, timing: MockTiming = {}): MockModel {
  const [provider, modelId] = name.includes(':') ? (name.split(/:(.*)/s) as [string, string]) : ['mock', name];
  const calls: MockCall[] = [];
  const answer = async (options: LanguageModelV3CallOptions, mode: MockCall['mode']): Promise<Required<Omit<Reply, 'toolCalls'>> & Pick<Reply, 'toolCalls'>> => {
    const call: MockCall = { options, index: calls.length, mode };
    calls.push(call);
    const reply = typeof respond === 'function' ? await respond(call) : respond;
    const full = typeof reply === 'string' ? { text: reply } : reply;
    return { inputTokens: 10, outputTokens: chunksOf(full.text).length, ...full };
  };
  const model = new MockLanguageModelV3({
    provider,
    modelId,
    doGenerate: async (options) => {
      const reply = await answer(options, 'generate');
      if (timing.firstTokenDelayMs || timing.tokenDelayMs) {
        await pause((timing.firstTokenDelayMs ?? 0) + chunksOf(reply.text).length * (timing.tokenDelayMs ?? 0), options.abortSignal);
      }
      const calls = reply.toolCalls ?? [];
      return {
        content: [
          ...(reply.text ? [{ type: 'text' as const, text: reply.text }] : []),
          ...calls.map((call) => ({ type: 'tool-call' as const, toolCallId: call.id, toolName: call.name, input: call.arguments })),
        ],
        finishReason: calls.length > 0 ? { unified: 'tool-calls', raw: 'tool_calls' } : { unified: 'stop', raw: 'stop' },
        usage: usageOf(reply.inputTokens, reply.outputTokens),
        warnings: [],
      };
    },
    doStream: async (options) => {
      const reply = await answer(options, 'stream');
      const calls = reply.toolCalls ?? [];
      const half = (text: string) => Math.ceil(text.length / 2);
      const parts: LanguageModelV3StreamPart[] = [
        { type: 'stream-start', warnings: [] },
        { type: 'text-start', id: 't0' },
        ...chunksOf(reply.text).map((delta): LanguageModelV3StreamPart => ({ type: 'text-delta', id: 't0', delta })),
        { type: 'text-end', id: 't0' },
        ...calls.flatMap((call): LanguageModelV3StreamPart[] => [
          { type: 'tool-input-start', id: call.id, toolName: call.name },
          { type: 'tool-input-delta', id: call.id, delta: call.arguments.slice(0, half(call.arguments)) },
          { type: 'tool-input-delta', id: call.id, delta: call.arguments.slice(half(call.arguments)) },
          { type: 'tool-input-end', id: call.id },
          { type: 'tool-call', toolCallId: call.id, toolName: call.name, input: call.arguments },
        ]),
        {
          type: 'finish',
          usage: usageOf(reply.inputTokens, reply.outputTokens),
          finishReason: calls.length > 0 ? { unified: 'tool-calls', raw: 'tool_calls' } : { unified: 'stop', raw: 'stop' },
        },
      ];
      return { stream: timing.firstTokenDelayMs || timing.tokenDelayMs ? timedStream(parts, timing, options.abortSignal) : convertArrayToReadableStream(parts) };
    },
  });
  return Object.assign(model, { calls });
}

/** The error an AI SDK provider throws for an HTTP error response. */
export function apiError(statusCode: number, message = `upstream said ${statusCode}`, headers: Record<string, string> = {}): APICallError {
  return new APICallError({
    message: `Bad response (${statusCode})`,
    url: 'https://api.example.test/v1/chat/completions',
    requestBodyValues: {},
    statusCode,
    responseHeaders: headers,
    responseBody: JSON.stringify({ error: { message } }),
    isRetryable: statusCode === 429 || statusCode >= 500,
  });
}

/** Never answers; rejects with the abort reason once the call's signal aborts. */
export function hangUntilAborted(options: LanguageModelV3CallOptions): Promise<never> {
  return new Promise((_, reject) => {
    const signal = options.abortSignal;
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/**
 * Resolves once `count` callers have arrived. If they never all arrive (the
 * engine ran them one after another), it rejects after `timeoutMs` so the test
 * fails instead of hanging.
 */
export function barrier(count: number, timeoutMs = 2_000): { arrive(): Promise<void>; readonly arrived: number } {
  let arrived = 0;
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return {
    get arrived() {
      return arrived;
    },
    arrive() {
      arrived++;
      if (arrived >= count) open();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`barrier: only ${arrived} of ${count} arrived`)), timeoutMs);
        void opened.then(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    },
  };
}

/** The single system message's text ('' when the prompt has none). */
export function systemText(options: LanguageModelV3CallOptions): string {
  const systems = options.prompt.filter((message) => message.role === 'system');
  return systems.map((message) => message.content).join('\n---\n');
}

/** The conversation turns (system excluded) as role + text. */
export function turnsOf(options: LanguageModelV3CallOptions): Array<{ role: string; text: string }> {
  return options.prompt.flatMap((message) =>
    message.role === 'user' || message.role === 'assistant'
      ? [{ role: message.role, text: message.content.map((part) => (part.type === 'text' ? part.text : '')).join('') }]
      : [],
  );
}

/** A registry that serves "provider:model" names from a fixed table (and model objects as themselves). */
export function mockRegistry(named: Record<string, LanguageModelV3>): ModelRegistry {
  const scheduler = new CallScheduler();
  const lanes = new Map<string, Lane>();
  return {
    resolve(model): ResolvedModel {
      const label = typeof model === 'string' ? model : `${model.provider}:${model.modelId}`;
      const found = typeof model === 'string' ? named[model] : model;
      if (!found) throw new Error(`mockRegistry: no model named ${label}`);
      let lane = lanes.get(label);
      if (!lane) lanes.set(label, (lane = scheduler.lane(label, { maxConcurrency: 8 })));
      return { label, provider: found.provider, modelId: found.modelId, model: found, lane, capabilities: providerCapabilities('object', found.provider) };
    },
    resolveEmbedding(model) {
      throw new Error(`mockRegistry: no embedding model named ${model}`);
    },
    providerNames() {
      return [];
    },
    async close() {},
  };
}

/** A clock the test moves by hand. */
export function manualClock(start = 1_000): { now: () => number; advance: (ms: number) => void } {
  let current = start;
  return { now: () => current, advance: (ms) => void (current += ms) };
}
