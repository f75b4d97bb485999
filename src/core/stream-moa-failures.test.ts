import { describe, it, expect } from 'vitest';
import { apiError, mockModel, mockRegistry, systemText } from '../../test/support/engine-mocks.js';
import { RunFailedError } from '../util/errors.js';
import type { MoAEvent } from './events.js';
import { reduceEvents } from './reducer.js';
import { MoARunError, runMoA, streamMoA } from './stream-moa.js';

const ofType = <T extends MoAEvent['type']>(events: readonly MoAEvent[], type: T) =>
  events.filter((event): event is Extract<MoAEvent, { type: T }> => event.type === type);

/** Fails with `error` for the first `times` calls, then answers `text`. */
const flaky = (name: string, times: number, error: () => unknown, text = `${name} ok`) =>
  mockModel(name, ({ index }) => {
    if (index < times) throw error();
    return text;
  });

const fast = { retryBaseDelayMs: 1, retryMaxDelayMs: 5, random: () => 0 };

describe('failing proposers', () => {
  it('leaves a failed proposer out with an agent-failed warning and answers from the rest', async () => {
    const bad = flaky('mock:bad', 99, () => apiError(400, 'unsupported parameter: top_k'));
    const agg = mockModel('mock:agg', 'final');
    const run = streamMoA({ layers: 2, proposers: [mockModel('mock:a', 'A'), bad, mockModel('mock:c', 'C')], aggregator: agg }, 'Q', fast);
    const result = await run.result;

    expect(result.status).toBe('done');
    expect(result.text).toBe('final');
    expect(bad.calls).toHaveLength(1); // a 400 is not retried
    expect(result.layers[0]!.agents[1]).toMatchObject({ status: 'failed', attempts: 1, error: { status: 400, retryable: false } });
    expect(result.layers[0]!.agents[1]!.error!.message).toContain('unsupported parameter: top_k');
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'agent-failed', layer: 0, agent: 1 })]);
    expect(ofType(run.events, 'layer-end')[0]).toMatchObject({ succeeded: [0, 2], failed: [1], cut: [] });
    expect(systemText(agg.calls[0]!.options)).toMatch(/\[1\]\nA\n\n\[2\]\nC$/);
  });

  it('fails the run with layer_failed when fewer than minSuccessful proposers answer, keeping the answers', async () => {
    const events: MoAEvent[] = [];
    const agg = mockModel('mock:agg', 'never');
    const preset = {
      layers: 2,
      minSuccessful: 2,
      proposers: [
        flaky('mock:x', 99, () => apiError(400, 'x is broken')),
        mockModel('mock:good', 'the good answer'),
        flaky('mock:y', 99, () => apiError(401, 'bad key')),
      ],
      aggregator: agg,
    };
    const error: unknown = await runMoA(preset, 'Q', { ...fast, onEvent: (event) => events.push(event) }).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(MoARunError);
    const failure = error as MoARunError;
    expect(failure.code).toBe('layer_failed');
    expect(failure.result.status).toBe('failed');
    expect(failure.result.error).toMatchObject({ name: RunFailedError.name, code: 'layer_failed' });
    expect(failure.result.error!.message).toContain('only 1 of 3');
    expect(failure.result.error!.message).toContain('x is broken');
    expect(failure.result.layers[0]!.agents[1]).toMatchObject({ status: 'done', text: 'the good answer' });
    expect(agg.calls).toHaveLength(0);
    expect(events[events.length - 1]!.type).toBe('run-error');
    expect(reduceEvents(events)).toEqual(failure.result);
  });
});

describe('retries', () => {
  it.each([
    ['retry-after-ms: 7', { 'retry-after-ms': '7' }, 7],
    ['retry-after: 0', { 'retry-after': '0' }, 0],
  ])('retries a 429 after the delay the provider asked for (%s)', async (_, headers, delayMs) => {
    const model = flaky('mock:limited', 1, () => apiError(429, 'slow down', headers), 'finally');
    // A backoff base of 10 s would be visible if Retry-After were ignored.
    const run = streamMoA({ layers: 1, aggregator: model }, 'Q', { retryBaseDelayMs: 10_000, random: () => 0 });
    const result = await run.result;

    const retries = ofType(run.events, 'agent-retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ attempt: 1, model: 'mock:limited', delayMs, error: { code: 'rate_limited', status: 429 } });
    expect(retries[0]!.nextModel).toBeUndefined();
    expect(result.text).toBe('finally');
    expect(result.layers[0]!.agents[0]).toMatchObject({ status: 'done', attempts: 2, errors: [expect.objectContaining({ code: 'rate_limited' })] });
    expect(model.calls).toHaveLength(2);
  });

  it('retries a 500 up to maxRetries times, then fails the agent', async () => {
    const broken = flaky('mock:broken', 99, () => apiError(500, 'internal meltdown'));
    const run = streamMoA({ layers: 2, proposers: [broken, mockModel('mock:ok', 'fine')], aggregator: mockModel('mock:agg', 'answer') }, 'Q', {
      ...fast,
      maxRetries: 3,
    });
    const result = await run.result;

    expect(broken.calls).toHaveLength(4);
    const retries = ofType(run.events, 'agent-retry');
    expect(retries.map((event) => event.attempt)).toEqual([1, 2, 3]);
    expect(retries.every((event) => event.layer === 0 && event.agent === 0 && event.error.status === 500)).toBe(true);
    expect(ofType(run.events, 'agent-start').filter((event) => event.layer === 0 && event.agent === 0)).toHaveLength(4);
    const agent = result.layers[0]!.agents[0]!;
    expect(agent).toMatchObject({ status: 'failed', attempts: 4, error: { status: 500, retryable: true } });
    expect(agent.errors).toHaveLength(4);
    expect(agent.error!.message).toContain('internal meltdown');
    expect(result.text).toBe('answer');
  });

  it('backs off exponentially when the provider gives no Retry-After', async () => {
    const broken = flaky('mock:broken', 3, () => apiError(503, 'busy'), 'recovered');
    const run = streamMoA({ layers: 1, aggregator: broken }, 'Q', { retryBaseDelayMs: 4, random: () => 1, maxRetries: 3 });
    await run.result;
    expect(ofType(run.events, 'agent-retry').map((event) => event.delayMs)).toEqual([4, 8, 16]);
  });

  it('does not retry a 400', async () => {
    const bad = flaky('mock:bad', 99, () => apiError(400, 'bad request'));
    const run = streamMoA({ layers: 1, aggregator: bad }, 'Q', { ...fast, maxRetries: 5 });
    await expect(run.result).rejects.toBeInstanceOf(MoARunError);
    expect(bad.calls).toHaveLength(1);
    expect(ofType(run.events, 'agent-retry')).toHaveLength(0);
  });
});

describe('aggregator fallbacks', () => {
  it('falls back to the next model when the aggregator fails, with a fallback warning', async () => {
    const primary = flaky('mock:primary', 99, () => apiError(400, 'context length exceeded'));
    const agg1 = flaky('mock:agg-1', 99, () => apiError(500, 'agg-1 exploded'));
    const agg2 = mockModel('mock:agg-2', 'rescued answer');
    const registry = mockRegistry({ 'mock:agg-1': agg1, 'mock:agg-2': agg2 });
    const preset = { layers: 2, proposers: [mockModel('mock:a', 'A')], aggregator: { model: primary, fallbacks: ['mock:agg-1', 'mock:agg-2'] } };
    const run = streamMoA(preset, 'Q', { ...fast, maxRetries: 1, registry });
    const result = await run.result;

    expect(result.text).toBe('rescued answer');
    expect(primary.calls).toHaveLength(1);
    expect(agg1.calls).toHaveLength(2); // its own retry, then the next fallback
    expect(systemText(agg2.calls[0]!.options)).toContain('[1]\nA');
    const aggregator = result.layers[1]!.agents[0]!;
    expect(aggregator).toMatchObject({ model: 'mock:agg-2', status: 'done', attempts: 4 });
    expect(aggregator.errors.map((error) => error.status)).toEqual([400, 500, 500]);
    expect(result.warnings.filter((warning) => warning.code === 'fallback')).toHaveLength(2);
    expect(result.warnings[0]!.message).toContain('mock:agg-1');
    const hops = ofType(run.events, 'agent-retry').filter((event) => event.nextModel !== undefined);
    expect(hops.map((event) => [event.model, event.nextModel])).toEqual([
      ['mock:primary', 'mock:agg-1'],
      ['mock:agg-1', 'mock:agg-2'],
    ]);
    // The fallback's answer streams like the aggregator's would have.
    const streamed = ofType(run.events, 'agent-delta').filter((event) => event.layer === 1);
    expect(streamed.map((event) => event.delta).join('')).toBe('rescued answer');
  });

  it("fails with aggregator_failed naming every provider's error when all of them fail, keeping the proposer answers", async () => {
    const registry = mockRegistry({
      'mock:agg-1': flaky('mock:agg-1', 99, () => apiError(503, 'agg-1 is overloaded')),
      'mock:agg-2': flaky('mock:agg-2', 99, () => apiError(404, 'agg-2 does not exist')),
    });
    const primary = flaky('mock:primary', 99, () => apiError(400, 'primary rejected the prompt'));
    const preset = {
      layers: 2,
      proposers: [mockModel('mock:a', 'answer A'), mockModel('mock:b', 'answer B')],
      aggregator: { model: primary, fallbacks: ['mock:agg-1', 'mock:agg-2'] },
    };
    const run = streamMoA(preset, 'Q', { ...fast, maxRetries: 0, registry });
    const error = (await run.result.catch((caught: unknown) => caught)) as MoARunError;

    expect(error).toBeInstanceOf(MoARunError);
    const runError = ofType(run.events, 'run-error');
    expect(runError).toHaveLength(1);
    expect(runError[0]!.error.code).toBe('aggregator_failed');
    for (const message of ['primary rejected the prompt', 'agg-1 is overloaded', 'agg-2 does not exist']) {
      expect(runError[0]!.error.message).toContain(message);
    }
    expect(error.code).toBe('aggregator_failed');
    expect(error.result.layers[0]!.agents.map((agent) => agent.text)).toEqual(['answer A', 'answer B']);
    expect(error.result.layers[1]!.agents[0]).toMatchObject({ status: 'failed', model: 'mock:agg-2', attempts: 3 });
    expect(error.result.text).toBe('');
  });
});
