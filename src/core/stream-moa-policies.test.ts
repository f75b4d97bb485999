// Engine v2 with the AI SDK's mock model: when a synthesizing agent may start (barrier, early,
// staircase), what it sees, continuing shown text without repeating it, and the run-level results
// (ttftMs, degraded). Ordering is asserted from the event stream, never from durations.
import { describe, expect, it } from 'vitest';
import { apiError, mockModel, mockRegistry, systemText, type MockCall } from '../../test/support/engine-mocks.js';
import type { MoAEvent } from './events.js';
import { reduceEvents } from './reducer.js';
import { resolvePreset } from './resolve-preset.js';
import { runMoA, streamMoA } from './stream-moa.js';

const ofType = <T extends MoAEvent['type']>(events: readonly MoAEvent[], type: T) =>
  events.filter((event): event is Extract<MoAEvent, { type: T }> => event.type === type);
const seqOf = (events: readonly MoAEvent[], test: (event: MoAEvent) => boolean): number => events.find(test)?.seq ?? -1;
const words = (prefix: string, count: number): string => Array.from({ length: count }, (_, index) => `${prefix}${index + 1}`).join(' ');
const lastMessage = (call: MockCall) => call.options.prompt[call.options.prompt.length - 1]!;
const fast = { retryBaseDelayMs: 1, retryMaxDelayMs: 1, random: () => 0 };

describe('staircase aggregation', () => {
  it('streams the first answer token before the slowest proposer has finished, a part at a time, the last part seeing every answer whole', async () => {
    const quick = mockModel('mock:quick', words('q', 40), { tokenDelayMs: 2 });
    const slow = mockModel('mock:slow', words('s', 40), { tokenDelayMs: 8 });
    const agg = mockModel('mock:agg', (call) => (call.index === 0 ? 'Part one.' : call.options.maxOutputTokens === undefined ? 'The end.' : `Part ${call.index + 1}.`));
    const run = streamMoA({ layers: 2, proposers: [quick, slow], aggregator: agg, aggregation: { mode: 'staircase', chunkTokens: 4, growth: 2 } }, 'Q', {
      stream: 'final',
    });
    const result = await run.result;
    const events = run.events;

    const firstAnswerToken = seqOf(events, (event) => event.type === 'agent-delta' && event.layer === 1);
    const slowEnd = seqOf(events, (event) => event.type === 'agent-end' && event.layer === 0 && event.agent === 1);
    expect(firstAnswerToken).toBeGreaterThan(0);
    expect(firstAnswerToken).toBeLessThan(slowEnd);
    // Every proposer streamed (the staircase reads them as they grow); only the answer's deltas are events.
    expect([quick, slow].every((model) => model.calls.every((call) => call.mode === 'stream'))).toBe(true);
    expect(ofType(events, 'agent-delta').every((event) => event.layer === 1)).toBe(true);

    const steps = ofType(events, 'agent-step').filter((event) => event.layer === 1);
    expect(steps.length).toBeGreaterThanOrEqual(2);
    expect(steps.every((step) => step.reason === 'staircase')).toBe(true);
    expect(steps[0]!.partial.length).toBeGreaterThan(0);
    expect(steps[0]!.outputTokens).toBe(4);
    expect(steps[steps.length - 1]!.partial).toEqual([]);
    expect(steps[steps.length - 1]!.outputTokens).toBeUndefined();
    // Parts have budgets that grow; the first sees partial references, the last the whole answers.
    expect(agg.calls[0]!.options.maxOutputTokens).toBe(4);
    expect(systemText(agg.calls[0]!.options)).toContain('(still being written)');
    const lastCall = agg.calls[agg.calls.length - 1]!;
    expect(systemText(lastCall.options)).not.toContain('(still being written)');
    expect(systemText(lastCall.options)).toContain(words('s', 40));
    // Later parts continue the text already shown: it is their last (assistant) message.
    expect(lastMessage(agg.calls[1]!)).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: 'Part one.' }] });
    expect(result.text.startsWith('Part one.')).toBe(true);
    expect(result.text.endsWith('The end.')).toBe(true);
    expect(result.ttftMs).toBe(events.find((event) => event.seq === firstAnswerToken)!.t);
    expect(reduceEvents(events)).toEqual(result);
  });

  it('pipelines every synthesizing layer of a 3-layer preset', async () => {
    const a = mockModel('mock:a', words('a', 30), { tokenDelayMs: 3 });
    const b = mockModel('mock:b', words('b', 30), { tokenDelayMs: 3 });
    const mid = mockModel('mock:mid', (call) => `mid part ${call.index + 1} ${words('m', 6)}`, { tokenDelayMs: 1 });
    const agg = mockModel('mock:agg', (call) => `final part ${call.index + 1}.`);
    const run = streamMoA({ layers: [{ proposers: [a, b] }, { proposers: [mid] }], aggregator: agg, aggregation: { mode: 'staircase', chunkTokens: 4 } }, 'Q', {
      stream: 'final',
    });
    await run.result;
    // The aggregator wrote before layer 1 was complete.
    const firstFinal = seqOf(run.events, (event) => event.type === 'agent-delta' && event.layer === 2);
    const layer1End = seqOf(run.events, (event) => event.type === 'layer-end' && event.layer === 0);
    expect(firstFinal).toBeLessThan(layer1End);
    expect(mid.calls.length).toBeGreaterThanOrEqual(2); // the middle layer wrote in parts, streamed for the next
    expect(mid.calls.every((call) => call.mode === 'stream')).toBe(true);
  });
});

describe('early aggregation', () => {
  it('starts from the first answers, continues when a late one arrives, and repeats nothing at the join', async () => {
    const quick = mockModel('mock:quick', 'Quick answer.');
    const slow = mockModel('mock:slow', 'Slow answer with a detail.', { firstTokenDelayMs: 120 });
    // The first call writes the opening; the continuation repeats the end of it (as chat models do), then goes on.
    const agg = mockModel(
      'mock:agg',
      (call) => (call.index === 0 ? 'The answer begins here with the quick part.' : 'with the quick part. And the detail from the late answer.'),
      { tokenDelayMs: 1 },
    );
    const run = streamMoA({ layers: 2, proposers: [quick, slow], aggregator: agg, aggregation: { mode: 'early', after: 1, maxRestarts: 1 } }, 'Q', { stream: 'final' });
    const result = await run.result;

    expect(agg.calls).toHaveLength(2);
    expect(systemText(agg.calls[0]!.options)).toContain('Quick answer.');
    expect(systemText(agg.calls[0]!.options)).not.toContain('Slow answer');
    expect(systemText(agg.calls[1]!.options)).toContain('Slow answer with a detail.');
    expect(lastMessage(agg.calls[1]!)).toMatchObject({ role: 'assistant', content: [{ type: 'text', text: 'The answer begins here with the quick part.' }] });
    expect(ofType(run.events, 'agent-step').map((step) => step.reason)).toEqual(['early-start', 'continue']);
    expect(result.text).toBe('The answer begins here with the quick part. And the detail from the late answer.');
    const streamed = ofType(run.events, 'agent-delta')
      .map((event) => event.delta)
      .join('');
    expect(streamed).toBe(result.text); // what reached the watcher is the answer: nothing taken back
    expect(result.degraded).toEqual([]);
  });

  it('interrupts a call in flight when another answer arrives, keeping what was shown', async () => {
    const quick = mockModel('mock:quick', 'Quick answer.');
    const slow = mockModel('mock:slow', 'Slow answer.', { firstTokenDelayMs: 40 });
    const agg = mockModel('mock:agg', (call) => (call.index === 0 ? words('w', 200) : 'then the rest.'), { tokenDelayMs: 2 });
    const run = streamMoA({ layers: 2, proposers: [quick, slow], aggregator: agg, aggregation: { mode: 'early', after: 1 } }, 'Q', { stream: 'final' });
    const result = await run.result;
    expect(ofType(run.events, 'agent-step').map((step) => step.reason)).toEqual(['early-start', 'restart']);
    const shown = ofType(run.events, 'agent-delta')
      .map((event) => event.delta)
      .join('');
    expect(shown).toBe(result.text);
    expect(result.text.startsWith('w1 w2')).toBe(true);
    expect(result.text.endsWith('then the rest.')).toBe(true);
    expect(result.text).not.toContain('w200');
    // The second call continues the text shown so far.
    const prefill = lastMessage(agg.calls[1]!);
    expect(prefill.role).toBe('assistant');
  });

  it('leaves out answers that come after its restarts are used, says so, and stops them', async () => {
    const quick = mockModel('mock:quick', 'Quick answer.');
    const late = mockModel('mock:late', 'Late answer.', { firstTokenDelayMs: 5_000 });
    const agg = mockModel('mock:agg', 'Final from the quick answer.');
    const run = streamMoA({ layers: 2, proposers: [quick, late], aggregator: agg, aggregation: { mode: 'early', after: 1, maxRestarts: 0 } }, 'Q', fast);
    const result = await run.result;
    expect(result.text).toBe('Final from the quick answer.');
    expect(result.layers[0]!.agents[1]).toMatchObject({ status: 'cut', error: { code: 'not_needed' } });
    expect(result.degraded).toEqual([expect.objectContaining({ layer: 0, agent: 1, reason: 'left-out' })]);
    expect(result.warnings.map((warning) => warning.code)).toContain('reference-left-out');
  });
});

describe('continuing shown text after a failure', () => {
  it('a retry after the answer began streaming continues it instead of starting over', async () => {
    let calls = 0;
    const agg = mockModel('mock:agg', () => {
      calls++;
      return calls === 1 ? 'unused' : 'second half.';
    });
    // The first stream breaks off after two tokens.
    const breaking = Object.assign(Object.create(agg), {
      doStream: async (options: Parameters<typeof agg.doStream>[0]) => {
        if (calls > 0) return agg.doStream(options);
        calls++;
        return {
          stream: new ReadableStream({
            start(controller) {
              controller.enqueue({ type: 'stream-start', warnings: [] });
              controller.enqueue({ type: 'text-start', id: 't' });
              controller.enqueue({ type: 'text-delta', id: 't', delta: 'First ' });
              controller.enqueue({ type: 'text-delta', id: 't', delta: 'half, ' });
              controller.enqueue({ type: 'error', error: { code: 502, message: 'upstream broke' } });
              controller.close();
            },
          }),
        };
      },
    });
    const registry = mockRegistry({ 'mock:agg': breaking });
    const run = streamMoA({ layers: 1, aggregator: 'mock:agg' }, 'Q', { ...fast, registry, stream: 'final' });
    const result = await run.result;
    expect(result.text).toBe('First half, second half.');
    expect(ofType(run.events, 'agent-retry')).toEqual([expect.objectContaining({ continues: true })]);
    expect(
      ofType(run.events, 'agent-delta')
        .map((event) => event.delta)
        .join(''),
    ).toBe(result.text);
  });
});

describe('results: degraded and ttftMs', () => {
  it('is empty when every planned agent answered, and names what was missing otherwise', async () => {
    const good = await runMoA({ layers: 2, proposers: [mockModel('mock:a', 'A'), mockModel('mock:b', 'B')], aggregator: mockModel('mock:agg', 'F') }, 'Q');
    expect(good.degraded).toEqual([]);
    expect(good.ttftMs).toBeGreaterThanOrEqual(0);

    const failing = mockModel('mock:bad', () => {
      throw apiError(400, 'broken');
    });
    const primary = mockModel('mock:primary', () => {
      throw apiError(401, 'bad key');
    });
    const registry = mockRegistry({
      'mock:primary': primary,
      'mock:backup': mockModel('mock:backup', 'Backup answer'),
      'mock:a': mockModel('mock:a', 'A'),
      'mock:bad': failing,
    });
    const degraded = await runMoA({ layers: 2, proposers: ['mock:a', 'mock:bad'], aggregator: { model: 'mock:primary', fallbacks: ['mock:backup'] } }, 'Q', {
      ...fast,
      registry,
    });
    expect(degraded.degraded).toEqual([
      expect.objectContaining({ layer: 0, agent: 1, reason: 'failed' }),
      expect.objectContaining({ layer: 1, agent: 0, reason: 'fallback' }),
    ]);
  });
});

describe('draft streaming', () => {
  it("streams the fastest proposer's answer as a labelled draft, and only it", async () => {
    const slow = mockModel('mock:slow', 'slow draft', { firstTokenDelayMs: 60 });
    const quick = mockModel('mock:quick', 'quick draft text');
    const run = streamMoA({ layers: 2, proposers: [slow, quick], aggregator: mockModel('mock:agg', 'final') }, 'Q', { draft: true, stream: 'final' });
    const result = await run.result;
    expect(ofType(run.events, 'draft-start')).toEqual([expect.objectContaining({ layer: 0, agent: 1, model: 'mock:quick' })]);
    const draftDeltas = ofType(run.events, 'agent-delta').filter((event) => event.layer === 0);
    expect(draftDeltas.every((event) => event.agent === 1)).toBe(true);
    expect(draftDeltas.map((event) => event.delta).join('')).toBe('quick draft text');
    expect(result.draft).toEqual({ layer: 0, agent: 1, model: 'mock:quick' });
    expect(result.text).toBe('final');
  });
});

describe('long reference sets', () => {
  it('referenceMaxTokens cuts each reference, with a marker', async () => {
    const agg = mockModel('mock:agg', 'F');
    await runMoA({ layers: 2, proposers: [mockModel('mock:long', words('x', 400))], aggregator: agg, referenceMaxTokens: 20 }, 'Q');
    const system = systemText(agg.calls[0]!.options);
    expect(system).toMatch(/\[… cut here: about \d+ more tokens\]/);
    expect(system).not.toContain('x400');
  });

  it('a windowed aggregator synthesizes W references at a time, carrying its synthesis into the next window', async () => {
    const proposers = [1, 2, 3, 4, 5].map((index) => mockModel(`mock:p${index}`, `answer ${index}`));
    const agg = mockModel('mock:agg', (call) => `synthesis ${call.index + 1}`);
    const run = streamMoA({ layers: 2, proposers, aggregator: { model: agg, window: 2 } }, 'Q', { stream: 'final' });
    const result = await run.result;
    expect(agg.calls).toHaveLength(3);
    expect(systemText(agg.calls[0]!.options)).toContain('[1]\nanswer 1\n\n[2]\nanswer 2');
    expect(systemText(agg.calls[1]!.options)).toContain('[1] (your synthesis so far)\nsynthesis 1\n\n[2]\nanswer 3\n\n[3]\nanswer 4');
    expect(systemText(agg.calls[2]!.options)).toContain('[1] (your synthesis so far)\nsynthesis 2\n\n[2]\nanswer 5');
    // Only the last window is the answer: the watcher never saw the intermediate syntheses.
    expect(result.text).toBe('synthesis 3');
    expect(
      ofType(run.events, 'agent-delta')
        .map((event) => event.delta)
        .join(''),
    ).toBe('synthesis 3');
    expect(ofType(run.events, 'agent-step').map((step) => step.reason)).toEqual(['window', 'window', 'window']);
  });

  it('refuses a windowed aggregator with streaming aggregation', () => {
    expect(() => resolvePreset({ layers: 2, proposers: ['a:1'], aggregator: { model: 'a:agg', window: 2 }, aggregation: { mode: 'staircase' } })).toThrow(
      /aggregator\.window: a windowed aggregator reads whole references/,
    );
  });
});

describe('folding continued text', () => {
  it('the reducer never shrinks an answer that a later call continues (a staircase part, an early continuation)', async () => {
    const quick = mockModel('mock:quick', words('q', 30), { tokenDelayMs: 2 });
    const slow = mockModel('mock:slow', words('s', 30), { tokenDelayMs: 6 });
    const agg = mockModel('mock:agg', (call) => `part ${call.index + 1}. `);
    const lengths: number[] = [];
    const run = streamMoA({ layers: 2, proposers: [quick, slow], aggregator: agg, aggregation: { mode: 'staircase', chunkTokens: 4 } }, 'Q', {
      stream: 'final',
      onEvent: (event) => {
        const state = reduceEvents(run.events.slice(0, event.seq + 1));
        lengths.push(state.layers[1]?.agents[0]?.text?.length ?? 0);
      },
    });
    await run.result;
    expect(agg.calls.length).toBeGreaterThan(1);
    for (let index = 1; index < lengths.length; index++) expect(lengths[index]).toBeGreaterThanOrEqual(lengths[index - 1]!);
  });

  it("with stream: 'all' (the native event stream) a draft is still announced", async () => {
    const run = streamMoA(
      { layers: 2, proposers: [mockModel('mock:a', 'draft text'), mockModel('mock:b', 'other', { firstTokenDelayMs: 30 })], aggregator: mockModel('mock:agg', 'final') },
      'Q',
      {
        stream: 'all',
        draft: true,
      },
    );
    const result = await run.result;
    expect(ofType(run.events, 'draft-start')).toEqual([expect.objectContaining({ agent: 0, model: 'mock:a' })]);
    expect(result.draft).toMatchObject({ agent: 0 });
  });
});
