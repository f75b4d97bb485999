/**
 * The response cache in Redis (`--cache redis://HOST:PORT[/DB]`): one string per answer under
 * `moa:cache:<key>`, the key being `responseCacheKey`'s SHA-256 (core/response-cache.ts), so
 * workers on several machines share what any of them was answered; an item retried after its
 * worker died costs nothing for the calls that had finished. Values are the answer, its usage,
 * finish reason, log-probabilities and tool calls: never a key or a header. A damaged value is a
 * miss (the next answer replaces it). The SQLite file stays the local default.
 */
import type { Redis } from 'ioredis';
import type { CachedResponse, ResponseCache } from '../../core/response-cache.js';
import { QUEUE_PREFIX } from './queued-batch.js';

export const RESPONSE_CACHE_PREFIX = `${QUEUE_PREFIX}:cache:`;

export interface RedisResponseCache extends ResponseCache {
  /** The URL without credentials, for messages. */
  readonly path: string;
  get(key: string): Promise<CachedResponse | undefined>;
  set(key: string, value: CachedResponse): Promise<void>;
}

export function createRedisResponseCache(client: Redis, display: string): RedisResponseCache {
  return {
    path: display,
    async get(key) {
      const text = await client.get(`${RESPONSE_CACHE_PREFIX}${key}`);
      if (text === null) return undefined;
      try {
        const value = JSON.parse(text) as CachedResponse;
        return typeof value.text === 'string' && value.usage ? value : undefined;
      } catch {
        return undefined;
      }
    },
    async set(key, value) {
      await client.set(
        `${RESPONSE_CACHE_PREFIX}${key}`,
        JSON.stringify({
          text: value.text,
          usage: value.usage,
          finishReason: value.finishReason,
          ...(value.topLogprobs !== undefined ? { topLogprobs: value.topLogprobs } : {}),
          ...(value.toolCalls !== undefined ? { toolCalls: value.toolCalls } : {}),
        }),
      );
    },
  };
}
