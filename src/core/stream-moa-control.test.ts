import { describe, it, expect } from 'vitest';
import { barrier, hangUntilAborted, mockModel, systemText, type MockCall } from '../../test/support/engine-mocks.js';
import { ConfigError } from '../util/errors.js';
import type { MoAEvent } from './events.js';
import { MoARunError, runMoA, streamMoA } from './stream-moa.js';

const ofType = <T extends MoAEvent['type']>(events: readonly MoAEvent[], type: T) =>
  events.filter((event): event is Extract<MoAEvent, { type: T }> => event.type === type);

const signalOf = (call: MockCall | undefined): AbortSignal => {
  expect(call?.options.abortSignal).toBeInstanceOf(AbortSignal);
  return call!.options.abortSignal!;
};

describe('straggler policy (quorum + graceMs)', () => {
  it('cuts the slow proposer once the quorum answered and the grace period is over', async () => {
    const fast = mockModel('mock:fast', ({ index }) => `fast answer ${index + 1}`);
    const slow = mockModel('mock:slow', ({ options }) => hangUntilAborted(options));
    const agg = mockModel('mock:agg', 'final');
    const run = streamMoA({ layers: [{ proposers: [fast, fast, slow], quorum: 2, graceMs: 20 }], aggregator: agg }, 'Q', { maxRetries: 0 });
    const result = await run.result;

    expect(result.status).toBe('done');
    expect(result.text).toBe('final');
    expect(slow.calls).toHaveLength(1);
    expect(signalOf(slow.calls[0]).aborted).toBe(true);
    expect(result.layers[0]!.agents.map((agent) => agent.status)).toEqual(['done', 'done', 'cut']);
    expect(result.layers[0]!.agents[2]!.error).toMatchObject({ code: 'cut' });
    expect(result.warnings).toEqual([expect.objectContaining({ code: 'agent-cut', layer: 0, agent: 2 })]);
    expect(ofType(run.events, 'layer-end')[0]).toMatchObject({ succeeded: [0, 1], failed: [], cut: [2] });
    const agentError = ofType(run.events, 'agent-error')[0]!;
    expect(agentError.cut).toBe(true);
    // The grace period ran from the second answer to the cut.
    const secondEnd = ofType(run.events, 'agent-end')[1]!;
    expect(agentError.t - secondEnd.t).toBeGreaterThanOrEqual(15);
    expect(systemText(agg.calls[0]!.options)).toMatch(/\[1\]\nfast answer \d\n\n\[2\]\nfast answer \d$/);
  });

  it('waits for a straggler that answers within the grace period', async () => {
    const fast = mockModel('mock:fast', 'quick');
    const late = mockModel('mock:late', async () => {
      await new Promise((resolve) => setTimeout(resolve, 10));
      return 'late but in time';
    });
    const run = streamMoA({ layers: [{ proposers: [fast, fast, late], quorum: 2, graceMs: 1_000 }], aggregator: mockModel('mock:agg', 'ok') }, 'Q');
    const result = await run.result;
    expect(result.layers[0]!.agents.map((agent) => agent.status)).toEqual(['done', 'done', 'done']);
    expect(result.layers[0]!.agents[2]!.text).toBe('late but in time');
    expect(result.warnings).toEqual([]);
  });
});

describe('per-call timeout', () => {
  it('timeoutMs is the budget of the model: a call still running when it is spent is aborted, not retried', async () => {
    const hung = mockModel('mock:hung', ({ options }) => hangUntilAborted(options));
    const run = streamMoA({ layers: 2, proposers: [hung, mockModel('mock:ok', 'ok')], aggregator: mockModel('mock:agg', 'final') }, 'Q', {
      timeoutMs: 50,
      maxRetries: 2,
      retryBaseDelayMs: 1,
    });
    const result = await run.result;

    expect(result.text).toBe('final');
    expect(hung.calls).toHaveLength(1);
    expect(signalOf(hung.calls[0]).aborted).toBe(true);
    const agent = result.layers[0]!.agents[0]!;
    expect(agent).toMatchObject({ status: 'failed', attempts: 1, error: { code: 'timeout', retryable: true } });
    expect(agent.error!.message).toContain('no complete answer within 50 ms');
    expect(ofType(run.events, 'agent-retry')).toHaveLength(0);
  });

  it('aborts a call that takes longer than attemptTimeoutMs and retries it maxRetries times within the budget', async () => {
    const hung = mockModel('mock:hung', ({ options }) => hangUntilAborted(options));
    const run = streamMoA({ layers: 2, proposers: [hung, mockModel('mock:ok', 'ok')], aggregator: mockModel('mock:agg', 'final') }, 'Q', {
      timeoutMs: 60_000,
      attemptTimeoutMs: 50,
      maxRetries: 2,
      retryBaseDelayMs: 1,
    });
    const result = await run.result;

    expect(result.text).toBe('final');
    expect(hung.calls).toHaveLength(3);
    for (const call of hung.calls) expect(signalOf(call).aborted).toBe(true);
    const agent = result.layers[0]!.agents[0]!;
    expect(agent).toMatchObject({ status: 'failed', attempts: 3, error: { code: 'timeout', retryable: true } });
    expect(agent.error!.message).toContain('50 ms');
    expect(agent.errors.map((error) => error.code)).toEqual(['timeout', 'timeout', 'timeout']);
    expect(ofType(run.events, 'agent-retry')).toHaveLength(2);
    expect(agent.latencyMs).toBeGreaterThanOrEqual(140);
  });

  it("lets a preset's timeoutMs win over the run option", async () => {
    const hung = mockModel('mock:hung', ({ options }) => hangUntilAborted(options));
    const started = performance.now();
    const error = (await runMoA({ layers: 1, aggregator: hung, timeoutMs: 30, maxRetries: 0 }, 'Q', { timeoutMs: 60_000 }).catch(
      (caught: unknown) => caught,
    )) as MoARunError;
    expect(error).toBeInstanceOf(MoARunError);
    expect(error.result.layers[0]!.agents[0]!.error).toMatchObject({ code: 'timeout' });
    expect(performance.now() - started).toBeLessThan(5_000);
  });
});

describe('cancellation', () => {
  const hangingPreset = (gate: ReturnType<typeof barrier>) => {
    const hang = async ({ options }: MockCall): Promise<never> => {
      void gate.arrive().catch(() => undefined);
      return hangUntilAborted(options);
    };
    const proposers = ['a', 'b', 'c'].map((id) => mockModel(`mock:${id}`, hang));
    return { preset: { layers: 2, proposers, aggregator: mockModel('mock:agg', 'never') }, proposers };
  };

  it('run.abort() aborts every in-flight call and ends the run with run-error "aborted"', async () => {
    const gate = barrier(3);
    const { preset, proposers } = hangingPreset(gate);
    const run = streamMoA(preset, 'Q');
    await gate.arrive(); // the test is the fourth arrival: all three calls are in flight
    run.abort();

    const error = (await run.result.catch((caught: unknown) => caught)) as MoARunError;
    expect(error).toBeInstanceOf(MoARunError);
    expect(error.code).toBe('aborted');
    for (const model of proposers) expect(signalOf(model.calls[0]).aborted).toBe(true);
    expect(preset.aggregator.calls).toHaveLength(0);
    const last = run.events[run.events.length - 1]!;
    expect(last).toMatchObject({ type: 'run-error', error: { code: 'aborted' } });
    expect(ofType(run.events, 'run-error')).toHaveLength(1);
    expect(error.result.layers[0]!.agents.every((agent) => agent.status === 'failed' && agent.error?.code === 'aborted')).toBe(true);
    // Cancelled agents are not reported as provider failures.
    expect(error.result.warnings.filter((warning) => warning.code === 'agent-failed')).toEqual([]);
  });

  it("stops when the caller's AbortSignal fires, without retrying", async () => {
    const gate = barrier(3);
    const { preset, proposers } = hangingPreset(gate);
    const controller = new AbortController();
    const run = streamMoA(preset, 'Q', { signal: controller.signal, maxRetries: 5 });
    await gate.arrive();
    controller.abort();

    await expect(run.result).rejects.toMatchObject({ code: 'aborted' });
    for (const model of proposers) {
      expect(model.calls).toHaveLength(1);
      expect(signalOf(model.calls[0]).aborted).toBe(true);
    }
    expect(ofType(run.events, 'agent-retry')).toHaveLength(0);
    expect(run.events[run.events.length - 1]!.type).toBe('run-error');
  });

  it('makes no call at all when the signal is already aborted', async () => {
    const model = mockModel('mock:solo', 'answer');
    const run = streamMoA({ layers: 1, aggregator: model }, 'Q', { signal: AbortSignal.abort() });
    await expect(run.result).rejects.toMatchObject({ code: 'aborted' });
    expect(model.calls).toHaveLength(0);
  });
});

describe('input validation', () => {
  const preset = () => ({ layers: 1, aggregator: mockModel('mock:agg', 'x') });
  const configError = (input: Parameters<typeof streamMoA>[1]): ConfigError => {
    try {
      streamMoA(preset(), input);
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return error as ConfigError;
    }
    throw new Error('expected a ConfigError');
  };

  it('rejects an empty conversation', () => {
    expect(configError([]).path).toBe('messages');
    expect(configError({ messages: [] }).path).toBe('messages');
    expect(configError('   ').path).toBe('messages[0].content');
  });

  it("rejects a conversation whose last message is not the user's", () => {
    const error = configError([
      { role: 'user', content: 'hi' },
      { role: 'assistant', content: 'hello' },
    ]);
    expect(error.path).toBe('messages[1].role');
    expect(error.message).toContain('assistant');
    expect(configError([{ role: 'robot' as 'user', content: 'x' }]).path).toBe('messages[0].role');
    // A tool result must answer a call an earlier assistant message made.
    const orphan = configError([
      { role: 'user', content: 'hi' },
      { role: 'tool', toolCallId: 'call_9', toolName: 'lookup', content: '42' },
    ]);
    expect(orphan.path).toBe('messages[1].toolCallId');
    expect(orphan.message).toContain('no earlier assistant message made a call with that id');
  });

  it('rejects before calling any model', () => {
    const model = mockModel('mock:agg', 'x');
    expect(() => streamMoA({ layers: 1, aggregator: model }, [{ role: 'system', content: 'only a system prompt' }])).toThrow(ConfigError);
    expect(model.calls).toHaveLength(0);
  });
});
