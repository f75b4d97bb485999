// `context.callModel(..., { topLogprobs })` through the batch runner and the response cache:
// the log-probabilities come back on the answer, are stored with it, are part of the cache key,
// and an entry stored without them never serves a call that asks for them.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runBatch, type ModelAnswer, type ModelCallOptions } from '../../src/batch/run-batch.js';
import { createMemoryResponseCache, responseCacheKey, type CachedResponse, type ResponseCache } from '../../src/core/response-cache.js';
import { createModelRegistry, type ModelRegistry } from '../../src/models/registry.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';

const topList = [
  { token: 'M', logprob: Math.log(0.6) },
  { token: 'm', logprob: Math.log(0.35) },
  { token: 'Output', logprob: Math.log(0.05) },
];

let server: FakeLLMServer;
let registry: ModelRegistry;
let directory: string;
let runs = 0;

beforeAll(async () => {
  server = await startFakeLLMServer();
  registry = createModelRegistry({ env: { OA_KEY: 'sk-test-cache-000' }, providers: { oa: { type: 'openai', baseURL: server.url, apiKeyEnv: 'OA_KEY' } } });
  directory = mkdtempSync(join(tmpdir(), 'moa-logprobs-'));
});
afterAll(async () => {
  await registry?.close();
  await server?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});
beforeEach(() => {
  server.reset();
  server.setBehavior('judge', { text: 'M', logprobs: topList });
});

/** One batch of one item making one judge call; returns the answer. */
async function judgeOnce(cache: ResponseCache, options: ModelCallOptions): Promise<ModelAnswer> {
  let answer: ModelAnswer | undefined;
  runs++;
  await runBatch({
    items: [{ id: 'item' }],
    outputPath: join(directory, `run-${runs}.jsonl`),
    registry,
    cache,
    work: async (_item, context) => {
      answer = await context.callModel('oa:judge', [{ role: 'user', content: 'm or M?' }], { temperature: 1, maxTokens: 1, ...options });
      return { text: answer.text };
    },
  });
  if (!answer) throw new Error('the item did not run');
  return answer;
}

describe('callModel with topLogprobs through the batch runner', () => {
  it('returns the log-probabilities, stores them with the answer, and serves them from the cache', async () => {
    const cache = createMemoryResponseCache();
    const first = await judgeOnce(cache, { topLogprobs: 3 });
    expect(first).toMatchObject({ text: 'M', cached: false, topLogprobs: topList });
    expect(server.log).toHaveLength(1);
    expect(server.log[0]).toMatchObject({ logprobs: true, topLogprobs: 3 });

    const second = await judgeOnce(cache, { topLogprobs: 3 });
    expect(second).toMatchObject({ text: 'M', cached: true, topLogprobs: topList });
    expect(server.log).toHaveLength(1);
  });

  it("keys the cache on topLogprobs: a call without them, or with another count, is not served the other's entry", async () => {
    const cache = createMemoryResponseCache();
    const without = await judgeOnce(cache, {});
    expect(without.topLogprobs).toBeUndefined();
    expect(server.log[0]?.logprobs).toBeUndefined();
    const withThem = await judgeOnce(cache, { topLogprobs: 3 });
    expect(withThem).toMatchObject({ cached: false, topLogprobs: topList });
    const withTwo = await judgeOnce(cache, { topLogprobs: 2 });
    expect(withTwo).toMatchObject({ cached: false, topLogprobs: topList.slice(0, 2) });
    expect(server.log).toHaveLength(3);
    expect(cache.size).toBe(3);

    const base = { provider: 'oa', modelId: 'judge', prompt: ['p'], sample: 0 };
    expect(responseCacheKey({ ...base, topLogprobs: 5 })).not.toBe(responseCacheKey(base));
    // A call that asks for none keeps the key it always had.
    expect(responseCacheKey(base)).toBe(responseCacheKey({ ...base, topLogprobs: undefined }));
  });

  it('does not serve a call that asks for log-probabilities from an entry stored without them', async () => {
    // A store that keeps only text, usage and finish reason.
    const entries = new Map<string, CachedResponse>();
    const lossy: ResponseCache = {
      get: (key) => entries.get(key),
      set: (key, value) => void entries.set(key, { text: value.text, usage: value.usage, finishReason: value.finishReason }),
    };
    await judgeOnce(lossy, { topLogprobs: 3 });
    const again = await judgeOnce(lossy, { topLogprobs: 3 });
    expect(again).toMatchObject({ cached: false, topLogprobs: topList });
    expect(server.log).toHaveLength(2);
  });

  it('caches "asked, none returned" so a provider without logprobs is still served from the cache', async () => {
    server.setBehavior('judge', { text: 'm' });
    const cache = createMemoryResponseCache();
    const first = await judgeOnce(cache, { topLogprobs: 3 });
    expect(first.topLogprobs).toBeUndefined();
    const second = await judgeOnce(cache, { topLogprobs: 3 });
    expect(second).toMatchObject({ text: 'm', cached: true });
    expect(second.topLogprobs).toBeUndefined();
    expect(server.log).toHaveLength(1);
  });
});
