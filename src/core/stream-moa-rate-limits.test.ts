// Rate limits and deadlines: a Retry-After longer than a run waits (or than the agent's
// time left) gives the model up at once instead of hanging; the per-model timeoutMs covers
// time spent queued; events report the delays really applied; calls are counted when sent.
import { describe, expect, it } from 'vitest';
import { apiError, hangUntilAborted, mockModel, mockRegistry } from '../../test/support/engine-mocks.js';
import { createModelRegistry } from '../models/registry.js';
import type { MoAEvent } from './events.js';
import { MoARunError, streamMoA } from './stream-moa.js';

const ofType = <T extends MoAEvent['type']>(events: readonly MoAEvent[], type: T) =>
  events.filter((event): event is Extract<MoAEvent, { type: T }> => event.type === type);

const fast = { retryBaseDelayMs: 1, retryMaxDelayMs: 1, random: () => 0 };
const rateLimited = (seconds: number) => apiError(429, 'Rate limit reached for requests', { 'retry-after': String(seconds) });

describe('Retry-After and deadlines', () => {
  it('a Retry-After longer than 60 s fails that model at once, and its fallback answers', async () => {
    const limited = mockModel('together:big', () => {
      throw rateLimited(3600);
    });
    const backup = mockModel('groq:backup', 'answer from the backup');
    const registry = mockRegistry({ 'together:big': limited, 'groq:backup': backup });
    const run = streamMoA({ layers: 1, aggregator: { model: 'together:big', fallbacks: ['groq:backup'] } }, 'Q', { ...fast, registry });
    const result = await run.result;

    expect(result.text).toBe('answer from the backup');
    expect(limited.calls).toHaveLength(1); // not retried: the wait is longer than a run waits
    const [fallback] = ofType(run.events, 'agent-retry');
    expect(fallback).toMatchObject({ nextModel: 'groq:backup', delayMs: 0 });
    expect(fallback!.error.message).toBe('together:big: rate-limited by together for 3600 s, longer than the 60 s a run waits for a rate limit (maxRetryAfterMs)');
    expect(result.warnings.map((warning) => warning.message)).toEqual([expect.stringContaining('rate-limited by together for 3600 s')]);
  });

  it('without a fallback, the agent fails at once with that error and the others answer', async () => {
    const limited = mockModel('together:big', () => {
      throw rateLimited(3600);
    });
    const run = streamMoA({ layers: 2, proposers: [limited, mockModel('mock:ok', 'fine')], aggregator: mockModel('mock:agg', 'final') }, 'Q', fast);
    const result = await run.result;
    expect(result.text).toBe('final');
    expect(result.layers[0]!.agents[0]).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'rate_limited', status: 429 } });
    expect(result.layers[0]!.agents[0]!.error!.message).toContain('rate-limited by together for 3600 s');
  });

  it('a Retry-After longer than what is left of timeoutMs gives the model up at once too', async () => {
    const limited = mockModel('together:big', () => {
      throw rateLimited(30);
    });
    const run = streamMoA({ layers: 1, aggregator: limited, timeoutMs: 5_000 }, 'Q', fast);
    const error = (await run.result.catch((caught: unknown) => caught)) as MoARunError;
    expect(error).toBeInstanceOf(MoARunError);
    expect(limited.calls).toHaveLength(1);
    expect(error.result.layers[0]!.agents[0]!.error!.message).toBe('together:big: rate-limited by together for 30 s, longer than what is left of timeoutMs');
  });

  it('agent-retry reports the delay really applied: the Retry-After the provider sent, not the backoff cap', async () => {
    const flaky = mockModel('mock:flaky', ({ index }) => {
      if (index === 0) throw apiError(429, 'slow down', { 'retry-after-ms': '40' });
      return 'second time lucky';
    });
    const run = streamMoA({ layers: 1, aggregator: flaky }, 'Q', fast); // backoff capped at 1 ms
    const result = await run.result;
    expect(result.text).toBe('second time lucky');
    expect(ofType(run.events, 'agent-retry').map((event) => event.delayMs)).toEqual([40]);
  });

  it("a pause after another call's 429 that outlasts the wait a run allows fails the queued agent at once", async () => {
    // One model object, one slot: agent 0 gets the 429 (Retry-After 3600 pauses the model), agent 1 waits behind it.
    const shared = mockModel('mock:shared', ({ index }) => {
      if (index === 0) throw rateLimited(3600);
      return 'never asked';
    });
    const registry = createModelRegistry({ defaultMaxConcurrency: 1 });
    const run = streamMoA({ layers: 2, proposers: [shared, shared, mockModel('mock:ok', 'fine')], aggregator: mockModel('mock:agg', 'final') }, 'Q', {
      ...fast,
      registry,
    });
    const result = await run.result;
    expect(result.text).toBe('final');
    expect(shared.calls).toHaveLength(1); // agent 1 never reached the provider
    const second = result.layers[0]!.agents[1]!;
    expect(second).toMatchObject({ status: 'failed', error: { code: 'rate_limited' } });
    expect(second.error!.message).toMatch(/^mock:shared: rate-limited by mock for 3\d{3}(\.\d)? s, longer than the 60 s a run waits/);
    expect(second.calls).toBeUndefined();
  });

  it('timeoutMs covers time spent queued: an agent stuck behind a hung call fails when its budget is spent, unsent', async () => {
    // Another run holds the model's only slot with a call that never answers.
    const model = mockModel('mock:slow', (call) => (call.index === 0 ? hangUntilAborted(call.options) : 'late answer'));
    const registry = createModelRegistry({ defaultMaxConcurrency: 1 });
    const blocker = streamMoA({ layers: 1, aggregator: model }, 'first', { ...fast, registry, timeoutMs: 60_000 });
    const run = streamMoA(
      { layers: 2, proposers: [model, mockModel('mock:ok', 'fine')], aggregator: mockModel('mock:agg', 'final'), timeoutMs: 150, maxRetries: 0 },
      'Q',
      { ...fast, registry },
    );
    const result = await run.result;
    blocker.abort();
    await blocker.result.catch(() => undefined);
    expect(result.text).toBe('final');
    expect(model.calls).toHaveLength(1); // before the fix, the queued agent waited for the slot, then had a fresh 150 ms
    expect(result.layers[0]!.agents.map((agent) => [agent.status, agent.error?.code, agent.calls])).toEqual([
      ['failed', 'timeout', undefined],
      ['done', undefined, 1],
    ]);
    expect(result.layers[0]!.agents[0]!.error!.message).toContain('no complete answer within 150 ms');
    // The limit in force per provider at its last call is part of the result (and of --json).
    expect(result.concurrency).toEqual({ mock: 1 });
  });
});

describe('calls are counted when sent', () => {
  it('an agent cut while still queued sent nothing and is reported as not started', async () => {
    const shared = mockModel('mock:shared', (call) => (call.index === 0 ? hangUntilAborted(call.options) : 'an answer'));
    const registry = createModelRegistry({ defaultMaxConcurrency: 1 });
    const blocker = streamMoA({ layers: 1, aggregator: shared }, 'first', { ...fast, registry });
    const run = streamMoA(
      { layers: [{ proposers: [mockModel('mock:free', 'free answer'), shared, shared], quorum: 1, graceMs: 0 }], aggregator: mockModel('mock:agg', 'final') },
      'Q',
      { ...fast, registry },
    );
    const result = await run.result;
    blocker.abort();
    await blocker.result.catch(() => undefined);
    expect(shared.calls).toHaveLength(1); // the blocker's
    expect(ofType(run.events, 'agent-call').map((event) => [event.layer, event.agent])).toEqual([
      [0, 0],
      [1, 0],
    ]);
    expect(result.layers[0]!.agents.map((agent) => agent.status)).toEqual(['done', 'cut', 'cut']);
    expect(result.layers[0]!.agents[1]!.error!.message).toBe("mock:shared: not started: cut while still queued (the straggler policy's quorum was reached)");
    expect(result.warnings.map((warning) => warning.message)).toEqual([
      'layer 1: mock:shared was not started: cut while still queued (quorum of 1 reached, 0 ms of grace over)',
      'layer 1: mock:shared was not started: cut while still queued (quorum of 1 reached, 0 ms of grace over)',
    ]);
  });
});
