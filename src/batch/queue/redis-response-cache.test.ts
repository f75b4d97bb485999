// The shared response cache in a real Redis: what one worker stored, another reads.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRedisServer, type TestRedisServer } from '../../../test/support/redis-server.js';
import { responseCacheKey } from '../../core/response-cache.js';
import { createRedisResponseCache, RESPONSE_CACHE_PREFIX } from './redis-response-cache.js';

let redis: TestRedisServer;
let first: Redis;
let second: Redis;
beforeAll(async () => {
  redis = await startRedisServer();
  first = new Redis(redis.url);
  second = new Redis(redis.url);
});
afterAll(async () => {
  await Promise.all([first?.quit(), second?.quit()]);
  await redis?.stop();
});

describe('Redis response cache', () => {
  it('an answer stored by one client is found by another, tool calls and log-probabilities included; a damaged entry is a miss', async () => {
    const key = responseCacheKey({ provider: 'fake', modelId: 'm', prompt: [{ role: 'user', content: 'hi' }], sample: 0 });
    const writer = createRedisResponseCache(first, 'redis://127.0.0.1/0');
    const reader = createRedisResponseCache(second, 'redis://127.0.0.1/0');
    expect(await reader.get(key)).toBeUndefined();
    const value = {
      text: 'hello',
      usage: { inputTokens: 3, outputTokens: 1 },
      finishReason: 'stop' as const,
      topLogprobs: [{ token: 'hello', logprob: -0.1 }],
      toolCalls: [{ id: 'c1', name: 'look', arguments: '{}' }],
    };
    await writer.set(key, value);
    expect(await reader.get(key)).toEqual(value);
    await first.set(`${RESPONSE_CACHE_PREFIX}${key}`, '{not json');
    expect(await reader.get(key)).toBeUndefined();
  });
});
