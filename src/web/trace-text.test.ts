import { describe, expect, it } from 'vitest';
import type { MoAEvent } from '../core/events.js';
import { reduceEvents } from '../core/reducer.js';
import { parseTrace } from '../node/trace-file.js';
import { parseTraceText, replayDelays, TraceFormatError } from './trace-text.js';

const usage = { inputTokens: 3, outputTokens: 2 };
const EVENTS: MoAEvent[] = [
  {
    type: 'run-start',
    runId: 'r1',
    seq: 0,
    t: 0,
    preset: 'quick',
    stream: 'all',
    messages: [{ role: 'user', content: 'Hi' }],
    layers: [
      { agents: [{ model: 'fake:a' }], aggregator: false, minSuccessful: 1 },
      { agents: [{ model: 'fake:agg' }], aggregator: true, minSuccessful: 1 },
    ],
  },
  { type: 'layer-start', runId: 'r1', seq: 1, t: 1, layer: 0, references: 0 },
  { type: 'agent-start', runId: 'r1', seq: 2, t: 1, layer: 0, agent: 0, model: 'fake:a' },
  { type: 'agent-end', runId: 'r1', seq: 3, t: 40, layer: 0, agent: 0, model: 'fake:a', text: 'A', usage, finishReason: 'stop', latencyMs: 39, attempts: 1 },
  { type: 'layer-end', runId: 'r1', seq: 4, t: 40, layer: 0, succeeded: [0], failed: [], cut: [] },
  { type: 'layer-start', runId: 'r1', seq: 5, t: 41, layer: 1, references: 1 },
  { type: 'agent-start', runId: 'r1', seq: 6, t: 41, layer: 1, agent: 0, model: 'fake:agg' },
  { type: 'agent-delta', runId: 'r1', seq: 7, t: 5041, layer: 1, agent: 0, delta: 'Hello' },
  { type: 'agent-end', runId: 'r1', seq: 8, t: 5050, layer: 1, agent: 0, model: 'fake:agg', text: 'Hello', usage, finishReason: 'stop', latencyMs: 5009, attempts: 1 },
  { type: 'layer-end', runId: 'r1', seq: 9, t: 5050, layer: 1, succeeded: [0], failed: [], cut: [] },
  { type: 'run-end', runId: 'r1', seq: 10, t: 5051, text: 'Hello', usage: { inputTokens: 6, outputTokens: 4 }, latencyMs: 5051 },
];
const JSONL = EVENTS.map((event) => `${JSON.stringify(event)}\n`).join('');

describe('parseTraceText', () => {
  it('reads a trace into the events, which fold into the same result as the CLI replay', () => {
    const parsed = parseTraceText(JSONL, 'run.jsonl');
    expect(parsed).toEqual({ events: EVENTS, warnings: [] });
    expect(reduceEvents(parsed.events)).toEqual(reduceEvents(parseTrace(JSONL).events));
    expect(reduceEvents(parsed.events).text).toBe('Hello');
  });

  it('accepts \\r\\n line ends', () => {
    expect(parseTraceText(JSONL.replace(/\n/g, '\r\n')).events).toEqual(EVENTS);
  });

  it('tolerates a torn last line with a warning, and says the run did not finish', () => {
    const torn = JSONL.split('\n').slice(0, 5).join('\n') + '\n{"type":"layer-st';
    const parsed = parseTraceText(torn, 'run.jsonl');
    expect(parsed.events).toHaveLength(5);
    expect(parsed.warnings).toEqual([
      'run.jsonl:6: the last line is incomplete (the run was interrupted?); ignored',
      'run.jsonl: the run did not finish (no run-end or run-error); showing what was recorded',
    ]);
  });

  it('rejects a broken line in the middle, an unknown event, missing events and an empty file', () => {
    const lines = JSONL.trimEnd().split('\n');
    expect(() => parseTraceText([lines[0], '{oops', lines[1]].join('\n'), 't')).toThrow(new TraceFormatError('t:2: not a JSON event line'));
    expect(() => parseTraceText('{"type":"hello","seq":0}\n', 't')).toThrow(/t:1: not an MoA event \(unknown type "hello"\)/);
    expect(() => parseTraceText([lines[0], lines[2]].join('\n'), 't')).toThrow(/t:2: expected event seq 1, found 2/);
    expect(() => parseTraceText('\n\n', 't')).toThrow(/the trace holds no events/);
    expect(() => parseTraceText(`${lines[1]!.replace('"seq":1', '"seq":0')}\n`, 't')).toThrow(/a trace starts with run-start/);
  });
});

describe('replayDelays', () => {
  it('waits the gaps between events, divided by the speed and capped', () => {
    const events = [{ t: 0 }, { t: 100 }, { t: 100 }, { t: 5100 }, { t: 5140 }];
    expect(replayDelays(events, 1)).toEqual([0, 100, 0, 1000, 40]);
    expect(replayDelays(events, 4, 500)).toEqual([0, 25, 0, 500, 10]);
    expect(replayDelays([], 1)).toEqual([]);
  });
});
