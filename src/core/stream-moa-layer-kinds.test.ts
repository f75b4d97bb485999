// Layer kinds and adaptive depth: a rank layer's peer review (each reviewer blind to its own
// answer, the next layer getting the answers in ranked order), and stopWhen skipping layers once
// answers agree. Plus: traces written by the previous release replay to the result they had.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { mockModel, systemText, type MockCall } from '../../test/support/engine-mocks.js';
import { lexicalAgreement } from './agreement.js';
import type { MoAEvent } from './events.js';
import { parseRanking } from './ranking.js';
import { reduceEvents } from './reducer.js';
import { resolvePreset } from './resolve-preset.js';
import { parseTraceText } from './trace-parse.js';
import { runMoA, streamMoA } from './stream-moa.js';

const ofType = <T extends MoAEvent['type']>(events: readonly MoAEvent[], type: T) =>
  events.filter((event): event is Extract<MoAEvent, { type: T }> => event.type === type);
const promptText = (call: MockCall): string =>
  call.options.prompt
    .map((message) => (typeof message.content === 'string' ? message.content : message.content.map((part) => ('text' in part ? part.text : '')).join('')))
    .join('\n');

/** A reviewer that ranks the responses it is shown by a fixed preference over their texts. */
function reviewer(name: string, preference: readonly string[], own: string) {
  return mockModel(name, (call) => {
    const text = promptText(call);
    if (!text.includes('Review them and end with your FINAL RANKING line')) return own;
    const shown = [...text.matchAll(/Response ([A-Z]):\n(.+)/g)].map((match) => ({ letter: match[1]!, text: match[2]! }));
    const order = [...shown].sort((a, b) => preference.indexOf(a.text) - preference.indexOf(b.text));
    return `Reasons …\nFINAL RANKING: ${order.map((entry) => entry.letter).join(', ')}`;
  });
}

describe('a rank layer', () => {
  const preference = ['answer from c', 'answer from a', 'answer from b'];

  it('reviewers never see their own answer, each sees its own shuffled order, and the next layer gets the answers best first', async () => {
    const a = reviewer('mock:a', preference, 'answer from a');
    const b = reviewer('mock:b', preference, 'answer from b');
    const c = reviewer('mock:c', preference, 'answer from c');
    const agg = mockModel('mock:agg', 'final');
    let seed = 0.1;
    const random = () => (seed = (seed * 9301 + 0.49297) % 1);
    const run = streamMoA({ layers: [{ proposers: [a, b, c] }, { kind: 'rank' }], aggregator: agg }, 'Q', { random });
    const result = await run.result;

    for (const [model, own] of [
      [a, 'answer from a'],
      [b, 'answer from b'],
      [c, 'answer from c'],
    ] as const) {
      const review = promptText(model.calls[1]!);
      expect(review).not.toContain(own);
      expect(review.match(/Response [A-Z]:/g)).toHaveLength(2);
    }
    const [ranking] = ofType(run.events, 'layer-ranking');
    expect(ranking!.reviews.map((review) => review.parsed)).toEqual([true, true, true]);
    expect(ranking!.ranking.map((entry) => entry.agent)).toEqual([2, 0, 1]);
    expect(result.layers[1]!.ranking!.ranking.map((entry) => entry.agent)).toEqual([2, 0, 1]);
    expect(result.layers[1]!.kind).toBe('rank');
    expect(systemText(agg.calls[0]!.options)).toMatch(/\[1\]\nanswer from c\n\n\[2\]\nanswer from a\n\n\[3\]\nanswer from b\n\nA peer review by 3 reviewer\(s\)/);
  });

  it('reports a reviewer whose ranking cannot be read, and goes on without it', async () => {
    const a = reviewer('mock:a', preference, 'answer from a');
    const b = mockModel('mock:b', (call) => (call.index === 0 ? 'answer from b' : 'I like them all equally.'));
    const c = reviewer('mock:c', preference, 'answer from c');
    const result = await runMoA({ layers: [{ proposers: [a, b, c] }, { kind: 'rank' }], aggregator: mockModel('mock:agg', 'final') }, 'Q');
    expect(result.status).toBe('done');
    expect(result.layers[1]!.ranking!.reviews.find((review) => review.agent === 1)).toMatchObject({ parsed: false });
    expect(result.warnings.map((warning) => warning.code)).toContain('ranking-unreadable');
  });

  it('reads rankings robustly: a final line, a numbered list, or every response named in order', () => {
    const letters = ['A', 'B', 'C'];
    expect(parseRanking('…\nFINAL RANKING: C, A, B', letters)).toEqual(['C', 'A', 'B']);
    expect(parseRanking('Final ranking: Response B > Response C > Response A', letters)).toEqual(['B', 'C', 'A']);
    expect(parseRanking('My ranking:\n1. Response C\n2. Response A\n3. Response B', letters)).toEqual(['C', 'A', 'B']);
    expect(parseRanking('Response B is best, then Response A, and Response C last.', letters)).toEqual(['B', 'A', 'C']);
    expect(parseRanking('They are all fine.', letters)).toBeUndefined();
  });

  it('a rank layer needs a layer before it', () => {
    expect(() => resolvePreset({ layers: [{ kind: 'rank', proposers: ['a:1'] }], aggregator: 'a:agg' })).toThrow(
      /layers\[0\]\.kind: a rank layer needs a layer before it/,
    );
  });
});

describe('stopWhen: agreement', () => {
  it('skips the remaining intermediate layers when the answers agree; the aggregator reads the agreeing layer', async () => {
    const same = 'The capital of Australia is Canberra, not Sydney.';
    const a = mockModel('mock:a', same);
    const b = mockModel('mock:b', same);
    const agg = mockModel('mock:agg', 'Canberra.');
    const run = streamMoA({ layers: 3, proposers: [a, b], aggregator: agg, stopWhen: { agreement: 0.9 } }, 'Capital of Australia?');
    const result = await run.result;
    expect(a.calls).toHaveLength(1); // layer 2 never ran
    expect(ofType(run.events, 'layer-skipped')).toEqual([expect.objectContaining({ layer: 1, reason: 'agreement' })]);
    expect(result.layers[1]).toMatchObject({ status: 'skipped', skipped: { reason: 'agreement' } });
    expect(result.layers[1]!.agents.map((agent) => agent.status)).toEqual(['skipped', 'skipped']);
    expect(systemText(agg.calls[0]!.options)).toContain(same);
    expect(result.degraded).toEqual([]);
  });

  it('does not skip when the answers differ', async () => {
    const a = mockModel('mock:a', 'Sydney is the capital, famous for its opera house and harbour bridge.');
    const b = mockModel('mock:b', 'Canberra was chosen as a compromise between Melbourne and Sydney in 1908.');
    const run = streamMoA({ layers: 3, proposers: [a, b], aggregator: mockModel('mock:agg', 'x'), stopWhen: { agreement: 0.9 } }, 'Q');
    await run.result;
    expect(a.calls).toHaveLength(2);
    expect(ofType(run.events, 'layer-skipped')).toEqual([]);
  });

  it('the lexical measure: 1 for the same words, low for different ones', () => {
    expect(lexicalAgreement(['the cat sat', 'The cat sat.'])).toBeCloseTo(1, 5);
    expect(lexicalAgreement(['the cat sat on the mat', 'quantum chromodynamics explains quarks'])).toBe(0);
    expect(lexicalAgreement(['one answer'])).toBeUndefined();
  });
});

describe('traces of the previous release', () => {
  const fixture = (name: string) => fileURLToPath(new URL(`../../test/fixtures/traces/${name}`, import.meta.url));
  for (const name of ['v0.1-failures', 'v0.1-streamed']) {
    it(`${name}: replays to the result that release returned`, () => {
      const events = parseTraceText(readFileSync(fixture(`${name}.jsonl`), 'utf8')).events;
      const old = JSON.parse(readFileSync(fixture(`${name}.result.json`), 'utf8')) as Record<string, unknown>;
      const replayed = reduceEvents(events);
      expect(replayed).toMatchObject(old);
      // What it adds is derived, not invented: kinds from layer positions, degraded from the failures.
      expect(replayed.layers.map((layer) => layer.kind)).toEqual(['propose', 'synthesize']);
      expect(replayed.degraded).toEqual([expect.objectContaining({ layer: 0, agent: 2, reason: 'failed' })]);
    });
  }
});
