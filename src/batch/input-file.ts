/**
 * The input JSONL of `moa batch`, read as a stream (memory does not grow with
 * the file): one item per line, `{"id": "...", "prompt": "..."}` or
 * `{"id": "...", "messages": [{"role", "content"}, ...]}`. A missing id is the
 * line number; ids are strings (a number is turned into its decimal string).
 * Blank lines are skipped. A bad line is yielded as `InvalidInput` with its
 * line number and reason; the runner reports it and skips it (or stops, with
 * `strict`). Other fields of a line are kept on the item.
 */
import { createReadStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import type { ChatMessage } from '../core/events.js';
import { normalizeInput } from '../core/stream-moa.js';
import { ConfigError, MoAError } from '../util/errors.js';
import type { BatchItem, InvalidInput } from './run-batch.js';

export interface PromptItem extends BatchItem {
  /** 1-based line of the input file. */
  line: number;
  messages: ChatMessage[];
  /** The line's other fields. */
  extra: Record<string, unknown>;
}

/** One line → an item or the reason it is not one. `seen` maps ids to the line that first used them. */
export function parseInputLine(text: string, line: number, seen: Map<string, number>): PromptItem | InvalidInput | undefined {
  if (!text.trim()) return undefined;
  const invalid = (message: string): InvalidInput => ({ invalid: true, line, message });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return invalid(`not valid JSON (${(error as Error).message})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('expected a JSON object like {"id": "...", "prompt": "..."}');
  const { id: rawId, prompt, messages: rawMessages, ...extra } = value as Record<string, unknown>;
  let id: string;
  if (rawId === undefined || rawId === null) id = String(line);
  else if (typeof rawId === 'string' && rawId.length > 0) id = rawId;
  else if (typeof rawId === 'number' && Number.isFinite(rawId)) id = String(rawId);
  else return invalid(`"id" must be a non-empty string or a number (found ${JSON.stringify(rawId)})`);
  if (prompt !== undefined && rawMessages !== undefined) return invalid('give either "prompt" or "messages", not both');
  let messages: ChatMessage[];
  try {
    if (prompt !== undefined) {
      if (typeof prompt !== 'string') return invalid(`"prompt" must be a string (found ${typeof prompt})`);
      messages = normalizeInput(prompt);
    } else if (rawMessages !== undefined) {
      if (!Array.isArray(rawMessages)) return invalid('"messages" must be an array of {"role", "content"}');
      messages = normalizeInput(rawMessages as ChatMessage[]);
    } else {
      return invalid('no "prompt" or "messages"');
    }
  } catch (error) {
    return invalid(error instanceof MoAError ? error.message : String(error));
  }
  const first = seen.get(id);
  if (first !== undefined) return invalid(`duplicate id "${id}" (first used on line ${first})`);
  seen.set(id, line);
  return { id, line, messages, extra };
}

/** Stream the items of an input JSONL file. */
export async function* readInputFile(path: string): AsyncGenerator<PromptItem | InvalidInput> {
  if (!existsSync(path)) throw new ConfigError(`Input file not found: ${path} (--input)`, { code: 'input_not_found', path: '--input' });
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  const seen = new Map<string, number>();
  let line = 0;
  try {
    for await (const text of lines) {
      line++;
      const entry = parseInputLine(text, line, seen);
      if (entry) yield entry;
    }
  } finally {
    lines.close();
  }
}

export interface InputScan {
  /** Items (valid lines). */
  items: number;
  invalid: InvalidInput[];
}

/** A first pass over the input: how many items (for progress and ETA), and which lines are bad. */
export async function scanInputFile(path: string): Promise<InputScan> {
  const scan: InputScan = { items: 0, invalid: [] };
  for await (const entry of readInputFile(path)) {
    if ('invalid' in entry) scan.invalid.push(entry);
    else scan.items++;
  }
  return scan;
}
