/**
 * A trace is the event stream as JSONL, one event per line, nothing else.
 * Replaying it (`reduceEvents(readTrace(file).events)`) reproduces the result.
 * Parsing rules live in trace-parse.ts (shared with the web page).
 */
import { createWriteStream, readFileSync, writeFileSync } from 'node:fs';
import { ConfigError } from '../util/errors.js';
import type { MoAEvent } from '../core/events.js';
import { parseTraceText, TraceFormatError, type ParsedTrace } from '../core/trace-parse.js';

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

export type { ParsedTrace };

/** Parses a trace's text; a malformed trace is a ConfigError naming the line. */
export function parseTrace(text: string, source = 'trace'): ParsedTrace {
  try {
    return parseTraceText(text, source);
  } catch (error) {
    if (error instanceof TraceFormatError) throw new ConfigError(error.message, { code: 'trace_invalid' });
    throw error;
  }
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
