/**
 * The results JSONL of a batch: one line per item id, appended and flushed to
 * the operating system as each item finishes, so a killed process loses no
 * finished item. Resuming reads it back:
 *
 * - a torn last line (the process died mid-write) is cut off; a complete last
 *   line missing only its newline gets one;
 * - every id with a result line is done and skipped;
 * - an id whose line holds `error` is retried (unless `retryFailed` is false):
 *   its line is removed first (the file is rewritten to a temporary file and
 *   renamed over the original, an atomic step), so the file never holds two
 *   lines for one id;
 * - a damaged line elsewhere is an error naming the file and line: the runner
 *   never guesses about work that may already be paid for.
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, truncateSync, writeFileSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConfigError } from '../util/errors.js';

export interface ResumeState {
  /** Ids already in the file, not to be run again. */
  done: Set<string>;
  /** How many failed items were removed from the file to be retried. */
  retrying: number;
  /** Their ids (a queued batch re-enqueues exactly these). */
  retryingIds: Set<string>;
  /** What was repaired, for the user (e.g. a torn last line). */
  repairs: string[];
}

interface ParsedLine {
  id: string;
  failed: boolean;
}

function parseResultLine(line: string): ParsedLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const record = value as { id?: unknown; error?: unknown };
  if (typeof record.id !== 'string' && typeof record.id !== 'number') return undefined;
  return { id: String(record.id), failed: record.error !== undefined && record.error !== null };
}

/**
 * Read (and repair) the results file before a run. Creates the file (and its
 * folder) when missing.
 */
export function prepareResultsFile(path: string, options: { retryFailed?: boolean } = {}): ResumeState {
  const retryFailed = options.retryFailed ?? true;
  const state: ResumeState = { done: new Set(), retrying: 0, retryingIds: new Set(), repairs: [] };
  if (!existsSync(path)) {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, '');
    return state;
  }
  const text = readFileSync(path, 'utf8');
  if (text.length === 0) return state;
  const lines = text.split('\n');
  const torn = lines.pop()!; // '' when the file ends with a newline
  const kept: string[] = [];
  let rewrite = false;
  lines.forEach((line, index) => {
    if (!line.trim()) {
      rewrite = true;
      return;
    }
    const parsed = parseResultLine(line);
    if (!parsed) {
      throw new ConfigError(
        `${path}:${index + 1}: not a result line (expected a JSON object with an "id"); the results file is damaged — fix or delete that line, then run again`,
        { code: 'results_invalid', path },
      );
    }
    if (state.done.has(parsed.id)) {
      state.repairs.push(`${path}:${index + 1}: a second line for id "${parsed.id}" was removed`);
      rewrite = true;
      return;
    }
    if (parsed.failed && retryFailed) {
      state.retrying++;
      state.retryingIds.add(parsed.id);
      rewrite = true;
      return;
    }
    state.done.add(parsed.id);
    kept.push(line);
  });

  let tail = '';
  if (torn.length > 0) {
    const parsed = parseResultLine(torn);
    if (parsed && !state.done.has(parsed.id) && !(parsed.failed && retryFailed)) {
      state.done.add(parsed.id);
      tail = `${torn}\n`;
      kept.push(torn);
      state.repairs.push(`${path}:${lines.length + 1}: the last line had no newline; one was added`);
    } else {
      state.repairs.push(`${path}:${lines.length + 1}: a torn last line (the run was killed mid-write) was removed`);
    }
  }

  if (rewrite) {
    const temporary = `${path}.tmp-${process.pid}`;
    const fd = openSync(temporary, 'w');
    try {
      const body = kept.map((line) => `${line}\n`).join('');
      writeAll(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temporary, path);
  } else if (torn.length > 0) {
    // Only the tail changes: cut the torn bytes (or complete the line) in place.
    truncateSync(path, Buffer.byteLength(text) - Buffer.byteLength(torn));
    if (tail) {
      const fd = openSync(path, 'a');
      try {
        writeAll(fd, tail);
      } finally {
        closeSync(fd);
      }
    }
  }
  return state;
}

function writeAll(fd: number, text: string): void {
  const buffer = Buffer.from(text, 'utf8');
  let offset = 0;
  while (offset < buffer.length) offset += writeSync(fd, buffer, offset, buffer.length - offset);
}

export interface ResultsAppender {
  /** Append one record as a line; it is with the operating system when this returns. */
  append(record: object): void;
  /** fsync and close. */
  close(): void;
}

export function openResultsAppender(path: string): ResultsAppender {
  const fd = openSync(path, 'a');
  let open = true;
  return {
    append(record) {
      if (!open) throw new Error(`results file ${path} is closed`);
      writeAll(fd, `${JSON.stringify(record)}\n`);
    },
    close() {
      if (!open) return;
      open = false;
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
    },
  };
}
