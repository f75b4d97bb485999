// The page's fold of a run (page-run.ts) over real engine runs (the AI SDK's mock model) and the
// previous release's traces: the answer only grows while an agent continues its text, the draft is
// the engine's when it names one and else the first proposer to write (only when asked for), the
// draft gives way at the answer's first token, and the time to first token is known before run-end.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { mockModel } from '../../test/support/engine-mocks.js';
import type { MoAEvent } from '../core/events.js';
import { reduceEvents } from '../core/reducer.js';
import { streamMoA } from '../core/stream-moa.js';
import { parseTraceText } from '../core/trace-parse.js';
import { answerSoFar, createPageRun, draftToShow, foldEvent, foldEvents, timeToFirstToken } from './page-run.js';

const words = (prefix: string, count: number): string => Array.from({ length: count }, (_, index) => `${prefix}${index + 1}`).join(' ');

async function eventsOf(run: ReturnType<typeof streamMoA>): Promise<MoAEvent[]> {
  await run.result;
  return [...run.events];
}

describe('the page fold', () => {
  it('never takes shown answer text back while the aggregator continues it (staircase parts)', async () => {
    const agg = mockModel('mock:agg', (call) => (call.index === 0 ? 'Part one. ' : call.options.maxOutputTokens === undefined ? 'The end.' : `Part ${call.index + 1}. `));
    const events = await eventsOf(
      streamMoA(
        {
          layers: 2,
          proposers: [mockModel('mock:quick', words('q', 40), { tokenDelayMs: 2 }), mockModel('mock:slow', words('s', 40), { tokenDelayMs: 6 })],
          aggregator: agg,
          aggregation: { mode: 'staircase', chunkTokens: 4, growth: 2 },
        },
        'Q',
        { stream: 'all' },
      ),
    );
    expect(events.some((event) => event.type === 'agent-start' && event.layer === 1 && (event as { continues?: boolean }).continues)).toBe(true);
    const run = createPageRun();
    const shown: string[] = [];
    for (const event of events) {
      foldEvent(run, event);
      shown.push(answerSoFar(run));
    }
    for (let index = 1; index < shown.length; index++) expect(shown[index]!.startsWith(shown[index - 1]!), `after event ${index}`).toBe(true);
    expect(shown.at(-1)).toBe(run.result.text);
    expect(run.result.text).toContain('Part one.');
    expect(run.result.layers[1]!.agents[0]!.steps).toBeGreaterThan(1);
  });

  it("shows the first proposer to write as the draft only when asked, until the answer starts; the engine's named draft always", async () => {
    const slow = mockModel('mock:slow', 'slow draft', { firstTokenDelayMs: 60 });
    const quick = mockModel('mock:quick', 'quick draft text');
    const agg = mockModel('mock:agg', 'final answer', { firstTokenDelayMs: 20 });
    // The native stream (every agent's tokens) of a run that did not ask for a draft: the engine names none;
    // a reader who wants one (a trace from before drafts) gets the first proposer to write, the engine's own rule.
    const all = await eventsOf(streamMoA({ layers: 2, proposers: [slow, quick], aggregator: agg }, 'Q', { stream: 'all' }));
    const run = createPageRun();
    let seenDraft: ReturnType<typeof draftToShow>;
    for (const event of all) {
      foldEvent(run, event);
      expect(draftToShow(run, false)).toBeUndefined();
      const draft = draftToShow(run, true);
      if (draft) seenDraft = draft;
      if (answerSoFar(run) !== '') expect(draft).toBeUndefined();
      if (event.type === 'agent-end' && event.layer === 0 && event.agent === 1)
        expect(draft).toEqual({ layer: 0, agent: 1, model: 'mock:quick', text: 'quick draft text' });
    }
    expect(seenDraft).toEqual({ layer: 0, agent: 1, model: 'mock:quick', text: 'quick draft text' });
    expect(run.firstWriter).toEqual({ layer: 0, agent: 1, model: 'mock:quick' });
    expect(draftToShow(run, true)).toBeUndefined();

    // A run that asked for a draft names it (draft-start), on the native stream too, and it shows whatever the reader's choice.
    const named = await eventsOf(streamMoA({ layers: 2, proposers: [slow, quick], aggregator: agg }, 'Q', { draft: true, stream: 'all' }));
    const start = named.findIndex((event) => event.type === 'draft-start');
    expect(start).toBeGreaterThan(0);
    const replay = createPageRun();
    for (const event of named.slice(0, start + 2)) foldEvent(replay, event);
    expect(draftToShow(replay, false)).toMatchObject({ agent: 1, model: 'mock:quick' });
  });

  it("knows the time to first token from the first answer token, then takes the engine's ttftMs", async () => {
    const events = await eventsOf(
      streamMoA({ layers: 2, proposers: [mockModel('mock:a', 'A says')], aggregator: mockModel('mock:agg', 'the answer', { firstTokenDelayMs: 5 }) }, 'Q', {
        stream: 'all',
      }),
    );
    const firstToken = events.find((event) => event.type === 'agent-delta' && event.layer === 1)!;
    const run = createPageRun();
    for (const event of events) {
      foldEvent(run, event);
      if (event.seq < firstToken.seq) expect(timeToFirstToken(run)).toBeUndefined();
      else if (event.type !== 'run-end') expect(timeToFirstToken(run)).toBe(firstToken.t);
    }
    const end = events.at(-1)!;
    expect(end.type === 'run-end' && end.ttftMs).toBe(timeToFirstToken(run));
  });

  it("folds the previous release's traces to the result they had", () => {
    for (const name of ['v0.1-streamed', 'v0.1-failures']) {
      const url = new URL(`../../test/fixtures/traces/${name}.jsonl`, import.meta.url);
      const { events } = parseTraceText(readFileSync(url, 'utf8'), name);
      const run = foldEvents(events);
      expect(run.result, name).toEqual(reduceEvents(events));
      const expected = JSON.parse(readFileSync(new URL(`../../test/fixtures/traces/${name}.result.json`, import.meta.url), 'utf8')) as { text: string };
      expect(answerSoFar(run)).toBe(expected.text);
      expect(run.planned).toHaveLength(run.result.layers.length);
      expect(draftToShow(run, true)).toBeUndefined();
    }
  });
});
