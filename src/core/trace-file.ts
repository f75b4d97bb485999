/**
 * A trace is the event stream as JSONL, one event per line, nothing else.
 * Replaying it (`reduceEvents(readTrace(file).events)`) reproduces the result.
 */
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../util/errors.js';
import { EVENT_TYPES, type MoAEvent } from './events.js';

export interface TraceWriter {
  write(event: MoAEvent): void;
  /** Flush and close; resolves once the file is complete on disk. */
  close(): Promise<void>;
}

export function createTraceWriter(path: string): TraceWriter {
  const stream = createWriteStream(path, { flags: 'w' });
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  return {
    write(event) {
      if (!failure) stream.write(`${JSON.stringify(event)}\n`);
    },
    close() {
      return new Promise((resolve, reject) => {
        if (failure) return reject(new ConfigError(`Cannot write trace ${path}: ${failure.message}`, { code: 'trace_write' }));
        stream.end(() => (failure ? reject(failure) : resolve()));
      });
    },
  };
}

export function writeTrace(path: string, events: readonly MoAEvent[]): void {
  writeFileSync(path, events.map((event) => `${JSON.stringify(event)}\n`).join(''));
}

export interface ParsedTrace {
  events: MoAEvent[];
  /** Problems that did not stop the replay (e.g. a torn last line of an interrupted run). */
  warnings: string[];
}

const KNOWN_TYPES = new Set<string>(EVENT_TYPES);

export function parseTrace(text: string, source = 'trace'): ParsedTrace {
  const lines = text.split('\n');
  const events: MoAEvent[] = [];
  const warnings: string[] = [];
  let lastLine = lines.length - 1;
  while (lastLine >= 0 && !lines[lastLine]!.trim()) lastLine--;
  lines.forEach((line, index) => {
    if (!line.trim()) return;
    const isLast = index === lastLine;
    let event: unknown;
    try {
      event = JSON.parse(line);
    } catch {
      if (isLast) {
        warnings.push(`${source}:${index + 1}: the last line is incomplete (the run was interrupted?); ignored`);
        return;
      }
      throw new ConfigError(`${source}:${index + 1}: not a JSON event line`, { code: 'trace_invalid' });
    }
    const candidate = event as Partial<MoAEvent>;
    if (typeof candidate !== 'object' || candidate === null || !KNOWN_TYPES.has(String(candidate.type))) {
      throw new ConfigError(`${source}:${index + 1}: not an MoA event (unknown type ${JSON.stringify(candidate?.type)})`, {
        code: 'trace_invalid',
      });
    }
    if (candidate.seq !== events.length) {
      throw new ConfigError(
        `${source}:${index + 1}: expected event seq ${events.length}, found ${String(candidate.seq)} (events missing or reordered)`,
        { code: 'trace_invalid' },
      );
    }
    events.push(candidate as MoAEvent);
  });
  if (events.length === 0) throw new ConfigError(`${source}: the trace holds no events`, { code: 'trace_invalid' });
  if (events[0]!.type !== 'run-start') throw new ConfigError(`${source}:1: a trace starts with run-start`, { code: 'trace_invalid' });
  const last = events[events.length - 1]!;
  if (last.type !== 'run-end' && last.type !== 'run-error') {
    warnings.push(`${source}: the run did not finish (no run-end or run-error); showing what was recorded`);
  }
  return { events, warnings };
}

export function readTrace(path: string): ParsedTrace {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ConfigError(`Cannot read trace ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, {
      code: 'trace_not_found',
    });
  }
  return parseTrace(text, path);
}
