import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { apiError, mockModel } from '../../test/support/engine-mocks.js';
import { ConfigError } from '../util/errors.js';
import type { MoAEvent } from '../core/events.js';
import { reduceEvents } from '../core/reducer.js';
import { MoARunError, streamMoA } from '../core/stream-moa.js';
import { createTraceWriter, parseTrace, readTrace, writeTrace } from './trace-file.js';

const dir = mkdtempSync(join(tmpdir(), 'moa-trace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let counter = 0;
const tracePath = (): string => join(dir, `run-${counter++}.jsonl`);

/** A finished run with a retry, a failed proposer and streamed tokens: every kind of event. */
async function recordedRun(): Promise<{ events: readonly MoAEvent[]; result: Awaited<ReturnType<typeof streamMoA>['result']> }> {
  const flaky = mockModel('mock:flaky', ({ index }) => {
    if (index === 0) throw apiError(429, 'slow down', { 'retry-after-ms': '1' });
    return 'flaky answer';
  });
  const broken = mockModel('mock:broken', () => {
    throw apiError(400, 'bad request');
  });
  const run = streamMoA(
    { layers: 2, proposers: [mockModel('mock:a', 'answer "a"\nwith a newline'), flaky, broken], aggregator: mockModel('mock:agg', 'the final answer') },
    [
      { role: 'system', content: 'Be brief.' },
      { role: 'user', content: 'Question?' },
    ],
    { stream: 'all', retryBaseDelayMs: 1 },
  );
  return { result: await run.result, events: run.events };
}

function traceError(text: string, source: string): ConfigError {
  try {
    parseTrace(text, source);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected parseTrace to throw');
}

describe('trace files', () => {
  it('replays a written run to the same result', async () => {
    const { events, result } = await recordedRun();
    const types = new Set(events.map((event) => event.type));
    for (const type of ['agent-delta', 'agent-retry', 'agent-error', 'warning'] as const) expect(types.has(type)).toBe(true);

    const path = tracePath();
    writeTrace(path, events);
    const text = readFileSync(path, 'utf8');
    expect(text.split('\n')).toHaveLength(events.length + 1); // one event per line, newline-terminated
    const trace = readTrace(path);
    expect(trace.warnings).toEqual([]);
    expect(trace.events).toEqual(events);
    expect(reduceEvents(trace.events)).toEqual(result);
  });

  it('replays a failed run to the same failed result', async () => {
    const bad = mockModel('mock:bad', () => {
      throw apiError(401, 'invalid key');
    });
    const run = streamMoA({ layers: 2, proposers: [mockModel('mock:a', 'A')], aggregator: bad }, 'Q');
    const failure = (await run.result.catch((error: unknown) => error)) as MoARunError;
    expect(failure).toBeInstanceOf(MoARunError);

    const path = tracePath();
    writeTrace(path, run.events);
    const replayed = reduceEvents(readTrace(path).events);
    expect(replayed).toEqual(failure.result);
    expect(replayed.status).toBe('failed');
    expect(replayed.layers[0]!.agents[0]!.text).toBe('A');
  });

  it('writes live with createTraceWriter', async () => {
    const path = tracePath();
    const writer = createTraceWriter(path);
    const run = streamMoA({ layers: 2, proposers: [mockModel('mock:a', 'A')], aggregator: mockModel('mock:agg', 'done') }, 'Q', {
      onEvent: (event) => writer.write(event),
    });
    const result = await run.result;
    await writer.close();
    expect(reduceEvents(readTrace(path).events)).toEqual(result);
  });

  it('tolerates a torn last line with a warning', async () => {
    const { events } = await recordedRun();
    const path = tracePath();
    const lines = events.map((event) => JSON.stringify(event));
    writeFileSync(path, `${lines.slice(0, 6).join('\n')}\n${lines[6]!.slice(0, 25)}`);

    const trace = readTrace(path);
    expect(trace.events).toEqual(events.slice(0, 6));
    expect(trace.warnings).toHaveLength(2);
    expect(trace.warnings[0]).toContain(`${path}:7`);
    expect(trace.warnings[0]).toContain('incomplete');
    expect(trace.warnings[1]).toContain('did not finish');
    expect(reduceEvents(trace.events).status).toBe('running');
  });

  it('names file:line for a gap in seq', async () => {
    const { events } = await recordedRun();
    const lines = events.map((event) => JSON.stringify(event));
    lines.splice(3, 1); // lose event 3: line 4 now holds seq 4
    const error = traceError(lines.join('\n'), 'gap.jsonl');
    expect(error.message).toContain('gap.jsonl:4');
    expect(error.message).toContain('expected event seq 3, found 4');

    const path = tracePath();
    writeFileSync(path, `${lines.join('\n')}\n`);
    expect(() => readTrace(path)).toThrow(`${path}:4`);
  });

  it('names file:line for a line that is not an event', async () => {
    const { events } = await recordedRun();
    const lines = events.map((event) => JSON.stringify(event));
    const garbage = [...lines.slice(0, 2), 'npm WARN something', ...lines.slice(2)];
    expect(traceError(garbage.join('\n'), 'log.jsonl').message).toContain('log.jsonl:3: not a JSON event line');

    const foreign = [...lines.slice(0, 2), '{"type":"hello","seq":2}', ...lines.slice(2)];
    expect(traceError(foreign.join('\n'), 'x.jsonl').message).toContain('x.jsonl:3: not an MoA event');
    expect(traceError(lines.slice(1).join('\n'), 'late.jsonl').message).toContain('late.jsonl:1');
  });

  it('skips blank lines but counts them in line numbers', async () => {
    const { events } = await recordedRun();
    const lines = events.map((event) => JSON.stringify(event));
    const spaced = [lines[0], '', lines[1], lines[3]].join('\n');
    expect(traceError(spaced, 'blank.jsonl').message).toContain('blank.jsonl:4');
  });

  it('rejects an empty file and a missing file', () => {
    expect(traceError('\n\n', 'empty.jsonl').message).toContain('no events');
    expect(() => readTrace(join(dir, 'missing.jsonl'))).toThrow(expect.objectContaining({ code: 'trace_not_found' }));
  });
});
