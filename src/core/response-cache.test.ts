import { describe, expect, it } from 'vitest';
import { createMemoryResponseCache, responseCacheKey } from './response-cache.js';

const parts = { provider: 'together', modelId: 'm', prompt: [{ role: 'user', content: 'Why is the sky blue? ✓' }], temperature: 0.7, maxTokens: 512, sample: 0 };

describe('response cache keys', () => {
  it('are the keys earlier releases wrote (a cache filled before still answers)', () => {
    // SHA-256 of the key material, as node:crypto computed it in 0.1.
    expect(responseCacheKey(parts)).toBe('27a785fa2706d4e04033ca6c9b26f38252c7ef008a12dc75bace8c5728eaa4dc');
  });

  it('differ by every part that changes the answer', () => {
    const keys = new Set([
      responseCacheKey(parts),
      responseCacheKey({ ...parts, modelId: 'n' }),
      responseCacheKey({ ...parts, temperature: 0 }),
      responseCacheKey({ ...parts, sample: 1 }),
      responseCacheKey({ ...parts, prompt: [{ role: 'user', content: 'Why is the sky green?' }] }),
      responseCacheKey({ ...parts, topLogprobs: 5 }),
      responseCacheKey({ ...parts, settings: { stop: ['\n'] } }),
    ]);
    expect(keys.size).toBe(7);
  });

  it('the memory cache gives back what was stored under a key', async () => {
    const cache = createMemoryResponseCache();
    const key = responseCacheKey(parts);
    await cache.set(key, { text: 'Rayleigh scattering.', usage: { inputTokens: 5, outputTokens: 3 }, finishReason: 'stop' });
    expect(await cache.get(key)).toMatchObject({ text: 'Rayleigh scattering.' });
    expect(await cache.get(responseCacheKey({ ...parts, sample: 1 }))).toBeUndefined();
  });
});
