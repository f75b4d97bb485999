/**
 * The files of a benchmark job: the batch runner's results JSONL is the job's progress sidecar
 * (one line per finished item, the resume state), read back once the pass ends to write the
 * official-format file, which is written whole (temp file + rename) so a reader never sees it
 * half written. Resume ids derive from content, so changing an answer, a judge or a prompt redoes
 * exactly the items it changes.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';

/** A progress line as read back: `{ id, ...record }`. */
export type ProgressRecord<Record> = Record & { id: string };

/**
 * The finished records of a progress sidecar, by id (the last line of an id wins; failed items'
 * lines and a torn last line are left out: the next run redoes them).
 */
export function readProgressRecords<Record extends object>(path: string): Map<string, ProgressRecord<Record>> {
  const records = new Map<string, ProgressRecord<Record>>();
  if (!existsSync(path)) return records;
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue; // a torn line (the process died mid-write); runBatch repairs it on the next run
    }
    if (typeof value !== 'object' || value === null || Array.isArray(value)) continue;
    const record = value as { id?: unknown; error?: unknown };
    if (typeof record.id !== 'string' || (record.error !== undefined && record.error !== null)) continue;
    records.set(record.id, value as ProgressRecord<Record>);
  }
  return records;
}

/** Writes a whole file so that readers see either the old or the new content (temp file + rename). */
export function writeFileAtomically(path: string, text: string): void {
  mkdirSync(dirname(path), { recursive: true });
  const temporary = `${path}.tmp-${process.pid}`;
  writeFileSync(temporary, text);
  renameSync(temporary, path);
}

/** A short stable id from some texts (16 hex digits of their SHA-256): resume keys that change when their content does. */
export function contentId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 16);
}

/**
 * Rewrites a JSON Lines file shared by several runs (FastChat's `model_judgment/<judge>_single.jsonl`
 * holds every model's judgments): the lines `isOurs` claims are replaced by `lines`, every other
 * line is kept as it was.
 */
export function replaceOwnLines(path: string, isOurs: (record: Record<string, unknown>) => boolean, lines: readonly object[]): { kept: number } {
  const kept: string[] = [];
  if (existsSync(path)) {
    for (const line of readFileSync(path, 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch {
        kept.push(line);
        continue;
      }
      if (typeof value === 'object' && value !== null && !Array.isArray(value) && isOurs(value as Record<string, unknown>)) continue;
      kept.push(line);
    }
  }
  writeFileAtomically(path, [...kept, ...lines.map((line) => JSON.stringify(line))].map((line) => `${line}\n`).join(''));
  return { kept: kept.length };
}
