/**
 * A response cache the engine consults before each model call
 * (`RunOptions.cache`). The engine only knows this interface; the persistent
 * SQLite store lives in `src/batch/response-cache.ts`.
 *
 * The key is a SHA-256 of everything that determines the answer: provider,
 * model id, the full prompt sent (system message with the synthesis
 * instruction and references included), temperature, max tokens, and the
 * sample index (the agent's occurrence among same-model agents of its layer,
 * so a Self-MoA's N samples of one model are N distinct entries), and the
 * number of top log-probabilities asked for, when any. Only
 * successful answers are stored; nothing secret is part of a key or a value.
 */
// A pure-JS SHA-256: the engine runs where node:crypto does not (browsers, edge runtimes), and the key stays synchronous.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { FinishReason, ToolCall, Usage } from './events.js';

export interface CachedResponse {
  text: string;
  usage: Usage;
  finishReason: FinishReason;
  /**
   * The first token's top log-probabilities, stored when the call asked for them (an empty list:
   * asked, none returned). A stored answer without this field cannot serve a call that asks.
   */
  topLogprobs?: Array<{ token: string; logprob: number }>;
  toolCalls?: ToolCall[];
}

export interface ResponseCache {
  get(key: string): CachedResponse | undefined | Promise<CachedResponse | undefined>;
  set(key: string, value: CachedResponse): void | Promise<void>;
}

export interface CacheKeyParts {
  provider: string;
  modelId: string;
  /** The prompt exactly as sent to the provider. */
  prompt: unknown;
  temperature?: number;
  maxTokens?: number;
  sample: number;
  /** Top log-probabilities asked for (part of the key only when set: other keys are unchanged). */
  topLogprobs?: number;
  /** The final aggregator's tools, response format and sampling settings (part of the key only when set). */
  settings?: unknown;
}

/** Bump when the key's recipe changes, so old entries are never read with a new meaning. */
const KEY_VERSION = 1;

export function responseCacheKey(parts: CacheKeyParts): string {
  const material = JSON.stringify([
    KEY_VERSION,
    parts.provider,
    parts.modelId,
    parts.prompt,
    parts.temperature ?? null,
    parts.maxTokens ?? null,
    parts.sample,
    ...(parts.topLogprobs !== undefined ? [{ topLogprobs: parts.topLogprobs }] : []),
    ...(parts.settings !== undefined ? [{ settings: parts.settings }] : []),
  ]);
  return bytesToHex(sha256(utf8ToBytes(material)));
}

/** An in-memory cache (library use, tests). */
export function createMemoryResponseCache(): ResponseCache & { readonly size: number } {
  const entries = new Map<string, CachedResponse>();
  return {
    get: (key) => entries.get(key),
    set: (key, value) => void entries.set(key, value),
    get size() {
      return entries.size;
    },
  };
}
