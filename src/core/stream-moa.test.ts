import { describe, it, expect } from 'vitest';
import { barrier, manualClock, mockModel, systemText, turnsOf, type MockModel } from '../../test/support/engine-mocks.js';
import type { MoAEvent } from './events.js';
import { reduceEvents } from './reducer.js';
import { runMoA, streamMoA } from './stream-moa.js';
import { DEFAULT_SYNTHESIS_PROMPT } from './synthesis-prompt.js';

/** Answers "<id> answer #<call>" so every layer's answer is distinct. */
const numbered = (id: string): MockModel => mockModel(`mock:${id}`, ({ index }) => `${id} answer #${index + 1}`);

const conversation = [
  { role: 'system' as const, content: 'You are terse.' },
  { role: 'user' as const, content: 'What is 2+2?' },
  { role: 'assistant' as const, content: '4.' },
  { role: 'user' as const, content: 'And times 3?' },
];

describe('streamMoA: prompts each layer receives', () => {
  it('gives later layers one system message with the instruction and the previous answers as [1], [2], [3]', async () => {
    const [a, b, c, agg] = [numbered('a'), numbered('b'), numbered('c'), numbered('agg')];
    const result = await runMoA({ layers: 3, proposers: [a, b, c], aggregator: agg }, conversation);

    const expectedTurns = [
      { role: 'user', text: 'What is 2+2?' },
      { role: 'assistant', text: '4.' },
      { role: 'user', text: 'And times 3?' },
    ];
    for (const model of [a, b, c, agg]) {
      for (const call of model.calls) {
        expect(call.options.prompt.filter((m) => m.role === 'system')).toHaveLength(1);
        expect(call.options.prompt[0]!.role).toBe('system');
        expect(turnsOf(call.options)).toEqual(expectedTurns);
        expect(systemText(call.options).startsWith('You are terse.')).toBe(true);
      }
    }
    // Layer 1: the user's system prompt only, no references.
    for (const model of [a, b, c]) {
      expect(systemText(model.calls[0]!.options)).toBe('You are terse.');
    }
    // Layer 2: every layer-1 answer, numbered in agent order, after the instruction.
    const layer1 = '[1]\na answer #1\n\n[2]\nb answer #1\n\n[3]\nc answer #1';
    for (const model of [a, b, c]) {
      expect(systemText(model.calls[1]!.options)).toBe(`You are terse.\n\n${DEFAULT_SYNTHESIS_PROMPT}\n\n${layer1}`);
    }
    // Aggregator: the layer-2 answers.
    expect(agg.calls).toHaveLength(1);
    expect(systemText(agg.calls[0]!.options)).toBe(`You are terse.\n\n${DEFAULT_SYNTHESIS_PROMPT}\n\n[1]\na answer #2\n\n[2]\nb answer #2\n\n[3]\nc answer #2`);
    expect(result.text).toBe('agg answer #1');
  });

  it("puts an agent's own system prompt before the user's, and the preset's applies to every agent", async () => {
    const [a, b, agg] = [numbered('a'), numbered('b'), numbered('agg')];
    await runMoA({ layers: 2, system: 'Answer in French.', proposers: [a, { model: b, system: 'Be a critic.' }], aggregator: agg }, conversation);
    expect(systemText(a.calls[0]!.options)).toBe('Answer in French.\n\nYou are terse.');
    expect(systemText(b.calls[0]!.options)).toBe('Be a critic.\n\nYou are terse.');
    expect(systemText(agg.calls[0]!.options).startsWith(`Answer in French.\n\nYou are terse.\n\n${DEFAULT_SYNTHESIS_PROMPT}`)).toBe(true);
  });

  it('runs the aggregator alone for layers: 1, and one proposer layer for layers: 2', async () => {
    const solo = numbered('solo');
    const one = await runMoA({ layers: 1, aggregator: solo }, 'Hi');
    expect(one.layers).toHaveLength(1);
    expect(one.layers[0]!.aggregator).toBe(true);
    expect(solo.calls).toHaveLength(1);
    expect(solo.calls[0]!.options.prompt.some((m) => m.role === 'system')).toBe(false);
    expect(one.text).toBe('solo answer #1');

    const [a, b, agg] = [numbered('a'), numbered('b'), numbered('agg')];
    const two = await runMoA({ layers: 2, proposers: [a, b], aggregator: agg }, 'Hi');
    expect(two.layers.map((layer) => [layer.aggregator, layer.agents.length])).toEqual([
      [false, 2],
      [true, 1],
    ]);
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(1);
    expect(systemText(agg.calls[0]!.options)).toContain('[1]\na answer #1\n\n[2]\nb answer #1');
  });
});

describe('streamMoA: scheduling', () => {
  it('runs the proposers of a layer concurrently and starts a layer only after the previous one ended', async () => {
    const log: string[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    const gates = [barrier(3), barrier(3)];
    const proposer = (id: string): MockModel =>
      mockModel(`mock:${id}`, async ({ index }) => {
        log.push(`start L${index + 1} ${id}`);
        inFlight++;
        maxInFlight = Math.max(maxInFlight, inFlight);
        await gates[index]!.arrive(); // rejects if the three never run at the same time
        await new Promise((resolve) => setTimeout(resolve, id === 'a' ? 15 : 1));
        inFlight--;
        log.push(`end L${index + 1} ${id}`);
        return `${id}${index + 1}`;
      });
    const agg = mockModel('mock:agg', () => {
      log.push('start L3 agg');
      return 'final';
    });
    const result = await runMoA({ layers: 3, proposers: [proposer('a'), proposer('b'), proposer('c')], aggregator: agg }, 'Go');

    expect(result.status).toBe('done');
    expect(maxInFlight).toBe(3);
    const lastEnd = (layer: number): number => log.map((line) => line.startsWith(`end L${layer}`)).lastIndexOf(true);
    const firstStart = (layer: number): number => log.findIndex((line) => line.startsWith(`start L${layer}`));
    expect(log.filter((line) => line.startsWith('end L1'))).toHaveLength(3);
    expect(lastEnd(1)).toBeLessThan(firstStart(2));
    expect(lastEnd(2)).toBeLessThan(firstStart(3));
  });
});

function checkEnvelope(events: readonly MoAEvent[]): void {
  expect(events[0]!.type).toBe('run-start');
  const terminal = events.filter((event) => event.type === 'run-end' || event.type === 'run-error');
  expect(terminal).toHaveLength(1);
  expect(events[events.length - 1]).toBe(terminal[0]);
  expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
  for (let index = 1; index < events.length; index++) expect(events[index]!.t).toBeGreaterThanOrEqual(events[index - 1]!.t);
  expect(new Set(events.map((event) => event.runId)).size).toBe(1);
}

const deltas = (events: readonly MoAEvent[]) => events.flatMap((event) => (event.type === 'agent-delta' ? [event] : []));

describe('streamMoA: the event stream', () => {
  const preset = () => ({
    layers: 3,
    proposers: [mockModel('mock:a', 'alpha says hi'), mockModel('mock:b', 'beta says hello')],
    aggregator: mockModel('mock:agg', 'The combined final answer is here.'),
  });

  it('is framed by run-start and one run-end, gap-free, and folds to the awaited result', async () => {
    const run = streamMoA(preset(), 'Hi');
    const seen: MoAEvent[] = [];
    for await (const event of run) seen.push(event);
    const result = await run.result;

    expect(seen).toEqual(run.events);
    checkEnvelope(seen);
    expect(seen[seen.length - 1]!.type).toBe('run-end');
    expect(reduceEvents(run.events)).toEqual(result);
    expect(result.runId).toBe(run.runId);
  });

  it("streams only the final aggregator's tokens by default, and they spell the answer", async () => {
    const run = streamMoA(preset(), 'Hi');
    const result = await run.result;
    const streamed = deltas(run.events);
    expect(streamed.length).toBeGreaterThan(1);
    expect(streamed.every((event) => event.layer === 2 && event.agent === 0)).toBe(true);
    expect(streamed.map((event) => event.delta).join('')).toBe('The combined final answer is here.');
    expect(result.text).toBe('The combined final answer is here.');
    expect(result.stream).toBe('final');
  });

  it("streams every agent with stream: 'all' and none with runMoA", async () => {
    const all = streamMoA(preset(), 'Hi', { stream: 'all' });
    const result = await all.result;
    const pairs = new Set(deltas(all.events).map((event) => `${event.layer}/${event.agent}`));
    expect([...pairs].sort()).toEqual(['0/0', '0/1', '1/0', '1/1', '2/0']);
    const textOf = (layer: number, agent: number): string =>
      deltas(all.events)
        .filter((event) => event.layer === layer && event.agent === agent)
        .map((event) => event.delta)
        .join('');
    expect(textOf(0, 1)).toBe('beta says hello');
    expect(textOf(2, 0)).toBe(result.text);
    expect(reduceEvents(all.events)).toEqual(result);

    const events: MoAEvent[] = [];
    const quiet = await runMoA(preset(), 'Hi', { onEvent: (event) => events.push(event) });
    expect(deltas(events)).toHaveLength(0);
    expect(quiet.text).toBe('The combined final answer is here.');
    checkEnvelope(events);
  });
});

describe('streamMoA: the result', () => {
  it('reports every agent with model, text, usage, latency and attempts, and sums the usage', async () => {
    const proposers = [0, 1, 2].map((i) => mockModel(`mock:p${i}`, { text: `answer ${i}`, inputTokens: 100 + i, outputTokens: 10 * (i + 1) }));
    const agg = mockModel('vendor:big-model', { text: 'final', inputTokens: 500, outputTokens: 7 });
    const result = await runMoA({ layers: 2, proposers, aggregator: agg }, 'Q');

    expect(result.status).toBe('done');
    expect(result.text).toBe('final');
    expect(result.layers[0]!.agents).toEqual(
      [0, 1, 2].map((i) =>
        expect.objectContaining({
          model: `mock:p${i}`,
          status: 'done',
          text: `answer ${i}`,
          usage: { inputTokens: 100 + i, outputTokens: 10 * (i + 1) },
          attempts: 1,
          latencyMs: expect.any(Number),
        }),
      ),
    );
    expect(result.layers[1]!.agents[0]).toMatchObject({ model: 'vendor:big-model', text: 'final', usage: { inputTokens: 500, outputTokens: 7 } });
    const agents = result.layers.flatMap((layer) => layer.agents);
    expect(agents.every((agent) => agent.error === undefined)).toBe(true);
    expect(result.usage).toEqual({
      inputTokens: agents.reduce((sum, agent) => sum + agent.usage.inputTokens, 0),
      outputTokens: agents.reduce((sum, agent) => sum + agent.usage.outputTokens, 0),
    });
    expect(result.usage).toEqual({ inputTokens: 803, outputTokens: 67 });
  });

  it("measures latency with the run's clock", async () => {
    const clock = manualClock();
    const slow = mockModel('mock:slow', () => {
      clock.advance(250);
      return 'done';
    });
    const run = streamMoA({ layers: 1, aggregator: slow }, 'Q', { clock: clock.now });
    const result = await run.result;
    expect(result.layers[0]!.agents[0]!.latencyMs).toBe(250);
    expect(result.latencyMs).toBe(250);
    expect(run.events[0]!.t).toBe(0);
    expect(run.events.find((event) => event.type === 'agent-end')!.t).toBe(250);
  });
});
