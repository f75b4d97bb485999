/**
 * Reading a trace (the run's event stream as JSONL) from text. No `node:`
 * imports: the CLI's `moa replay` and the web page's replay share these rules.
 * A torn last line (an interrupted run) is a warning; anything else malformed
 * is an error naming the line.
 */
import { EVENT_TYPES, type MoAEvent } from './events.js';

export interface ParsedTrace {
  events: MoAEvent[];
  /** Problems that did not stop the replay (e.g. a torn last line of an interrupted run). */
  warnings: string[];
}

export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
}

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

export function parseTraceText(text: string, source = 'trace'): ParsedTrace {
  const lines = text.split(/\r?\n/);
  const events: MoAEvent[] = [];
  const warnings: string[] = [];
  let lastLine = lines.length - 1;
  while (lastLine >= 0 && (lines[lastLine] ?? '').trim() === '') lastLine--;
  for (let index = 0; index <= lastLine; index++) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      if (index === lastLine) {
        warnings.push(`${source}:${index + 1}: the last line is incomplete (the run was interrupted?); ignored`);
        continue;
      }
      throw new TraceFormatError(`${source}:${index + 1}: not a JSON event line`);
    }
    const candidate = parsed as Partial<MoAEvent> | null;
    if (typeof candidate !== 'object' || candidate === null || !KNOWN_TYPES.has(String(candidate.type))) {
      throw new TraceFormatError(`${source}:${index + 1}: not an MoA event (unknown type ${JSON.stringify(candidate?.type)})`);
    }
    if (candidate.seq !== events.length) {
      throw new TraceFormatError(`${source}:${index + 1}: expected event seq ${events.length}, found ${String(candidate.seq)} (events missing or reordered)`);
    }
    events.push(candidate as MoAEvent);
  }
  const first = events[0];
  if (first === undefined) throw new TraceFormatError(`${source}: the trace holds no events`);
  if (first.type !== 'run-start') throw new TraceFormatError(`${source}:1: a trace starts with run-start`);
  const last = events[events.length - 1]!;
  if (last.type !== 'run-end' && last.type !== 'run-error') {
    warnings.push(`${source}: the run did not finish (no run-end or run-error); showing what was recorded`);
  }
  return { events, warnings };
}
