import { describe, expect, it } from 'vitest';
import { apiError, hangUntilAborted, mockModel } from '../../test/support/engine-mocks.js';
import { createMemoryResponseCache } from '../core/response-cache.js';
import { createModelRegistry } from '../models/registry.js';
import { createItemRunner } from './item-runner.js';

const prices = { 'mock:a': { input: 1_000_000, output: 1_000_000 } }; // 1 USD per token

describe('createItemRunner', () => {
  it('turns a finished item into its result line {id, ...record}, with what it used', async () => {
    const model = mockModel('mock:a', { text: 'an answer', inputTokens: 2, outputTokens: 3 });
    const answers: unknown[] = [];
    let calls = 0;
    const runner = createItemRunner({
      registry: createModelRegistry(),
      prices,
      signal: new AbortController().signal,
      onCall: () => calls++,
      onAnswer: (answer) => answers.push(answer),
    });
    const outcome = await runner.run({ id: 'q1' }, async (item, context) => {
      const answer = await context.callModel(model, 'hello');
      return { id: 'ignored', text: answer.text, usage: context.usage, costUsd: context.costUsd };
    });
    expect(outcome.status).toBe('done');
    if (outcome.status !== 'done') return;
    expect(outcome.line).toEqual({ id: 'q1', text: 'an answer', usage: expect.objectContaining({ inputTokens: 2, outputTokens: 3 }), costUsd: 5 });
    expect(Object.keys(outcome.line)[0]).toBe('id');
    expect(outcome.account).toMatchObject({ calls: 1, cacheHits: 0, costUsd: 5, unpricedModels: [] });
    expect(calls).toBe(1);
    expect(answers).toEqual([{ model: 'mock:a', usage: expect.objectContaining({ inputTokens: 2 }), cached: false, costUsd: 5 }]);
  });

  it('a work that throws leaves an error line with its code, message, usage and latency', async () => {
    const runner = createItemRunner({ registry: createModelRegistry(), signal: new AbortController().signal });
    const broken = mockModel('mock:b', () => {
      throw apiError(400, 'bad request from the fake');
    });
    const outcome = await runner.run({ id: 'q2' }, async (_item, context) => ({ text: (await context.callModel(broken, 'hi', { maxRetries: 0 })).text }));
    expect(outcome.status).toBe('failed');
    if (outcome.status !== 'failed') return;
    expect(outcome.line).toMatchObject({ id: 'q2', error: { code: expect.any(String), message: expect.stringContaining('bad request from the fake') } });
    expect(outcome.line).toHaveProperty('usage');
    expect(outcome.line).toHaveProperty('latencyMs');
    // A failed call that used no tokens costs nothing, priced or not.
    expect(outcome.line).toMatchObject({ costUsd: 0 });
    expect(outcome.account.unpricedModels).toEqual([]);
  });

  it('an item cut short by the signal leaves no line', async () => {
    const controller = new AbortController();
    const runner = createItemRunner({ registry: createModelRegistry(), signal: controller.signal });
    const slow = mockModel('mock:slow', (call) => hangUntilAborted(call.options));
    const pending = runner.run({ id: 'q3' }, async (_item, context) => ({ text: (await context.callModel(slow, 'hi')).text }));
    setTimeout(() => controller.abort(), 10);
    expect((await pending).status).toBe('interrupted');
  });

  it('counts answers served from the cache as free hits', async () => {
    const model = mockModel('mock:a', { text: 'cached answer', inputTokens: 2, outputTokens: 3 });
    const cache = createMemoryResponseCache();
    const runner = createItemRunner({ registry: createModelRegistry(), cache, prices, signal: new AbortController().signal });
    const work = async (_item: { id: string }, context: Parameters<Parameters<typeof runner.run>[1]>[1]) => ({
      text: (await context.callModel(model, 'same prompt')).text,
      costUsd: context.costUsd,
    });
    await runner.run({ id: 'first' }, work);
    const second = await runner.run({ id: 'second' }, work);
    expect(model.calls).toHaveLength(1);
    expect(second.account).toMatchObject({ cacheHits: 1, calls: 0, costUsd: 0 });
  });
});
