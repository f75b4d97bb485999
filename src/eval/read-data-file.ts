/**
 * Reading benchmark files with precise errors: JSON Lines (one record per line), JSON arrays
 * (the line where each element starts is tracked), and small numeric CSV files. Every record
 * keeps its 1-based line so the schemas that check it (record-schema.ts) can point at it.
 */
import { readFileSync } from 'node:fs';
import { EvalDataError } from './eval-data-error.js';

export interface LocatedRecord {
  /** The parsed JSON value (checked to be an object by the readers below). */
  value: Record<string, unknown>;
  /** 1-based line where the record starts. */
  line: number;
  /** 0-based position of the record in the file. */
  index: number;
}

export function readTextFile(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a directory, expected a file' : String((error as Error).message);
    throw new EvalDataError({ file }, reason, { cause: error });
  }
}

function lineOfOffset(text: string, offset: number): number {
  let line = 1;
  for (let position = 0; position < offset && position < text.length; position++) {
    if (text.charCodeAt(position) === 10) line++;
  }
  return line;
}

/** V8's JSON.parse messages carry "position N"; turn that into a line number. */
function syntaxErrorLine(text: string, error: unknown): number | undefined {
  const match = /position (\d+)/.exec(String((error as Error).message));
  return match?.[1] !== undefined ? lineOfOffset(text, Number(match[1])) : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** One JSON object per non-blank line. */
export function readJsonLines(file: string, text = readTextFile(file)): LocatedRecord[] {
  const records: LocatedRecord[] = [];
  const lines = text.split('\n');
  for (let lineIndex = 0; lineIndex < lines.length; lineIndex++) {
    const line = (lines[lineIndex] ?? '').trim();
    if (line === '') continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (error) {
      throw new EvalDataError({ file, line: lineIndex + 1 }, `not valid JSON (${(error as Error).message}); a JSON Lines file holds one JSON object per line`, {
        cause: error,
      });
    }
    if (!isPlainObject(value)) {
      throw new EvalDataError({ file, line: lineIndex + 1 }, `expected a JSON object on this line (found ${describeValue(value)})`);
    }
    records.push({ value, line: lineIndex + 1, index: records.length });
  }
  return records;
}

/**
 * The 1-based line where each top-level element of a JSON array starts (the text must already
 * parse as an array). A small scanner: strings and escapes are skipped, depth is counted.
 */
function arrayElementLines(text: string): number[] {
  const lines: number[] = [];
  let line = 1;
  let depth = 0;
  let inString = false;
  let expectingValue = false;
  for (let position = 0; position < text.length; position++) {
    const character = text[position];
    if (character === '\n') line++;
    if (inString) {
      if (character === '\\') position++;
      else if (character === '"') inString = false;
      continue;
    }
    if (character === ' ' || character === '\n' || character === '\r' || character === '\t') continue;
    if (depth === 1 && expectingValue && character !== ']') {
      lines.push(line);
      expectingValue = false;
    }
    if (character === '"') inString = true;
    else if (character === '[' || character === '{') {
      depth++;
      if (depth === 1) expectingValue = true;
    } else if (character === ']' || character === '}') depth--;
    else if (character === ',' && depth === 1) expectingValue = true;
  }
  return lines;
}

/** A JSON array of objects (AlpacaEval's files), each element with the line it starts on. */
export function readJsonArray(file: string, text = readTextFile(file)): LocatedRecord[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const line = syntaxErrorLine(text, error);
    throw new EvalDataError({ file, ...(line !== undefined ? { line } : {}) }, `not valid JSON (${(error as Error).message})`, { cause: error });
  }
  if (!Array.isArray(value)) {
    throw new EvalDataError({ file }, `expected a JSON array of records (found ${describeValue(value)})`);
  }
  const lines = arrayElementLines(text);
  return value.map((element: unknown, index) => {
    const line = lines[index] ?? 1;
    if (!isPlainObject(element)) {
      throw new EvalDataError({ file, line, field: `[${index}]` }, `expected a JSON object (found ${describeValue(element)})`);
    }
    return { value: element, line, index };
  });
}

export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'string') return value.length > 40 ? `a string "${value.slice(0, 40)}…"` : `"${value}"`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

/** A CSV of numbers with a header row (AlpacaEval's lc/ files); text columns are kept as strings. */
export interface NumericCsv {
  header: string[];
  rows: Array<{ line: number; cells: string[] }>;
}

export function readSimpleCsv(file: string, text = readTextFile(file)): NumericCsv {
  const lines = text.split(/\r?\n/);
  const headerLine = lines[0];
  if (headerLine === undefined || headerLine.trim() === '') throw new EvalDataError({ file, line: 1 }, 'empty CSV file (expected a header row)');
  const header = headerLine.split(',');
  const rows: NumericCsv['rows'] = [];
  for (let index = 1; index < lines.length; index++) {
    const line = lines[index] ?? '';
    if (line.trim() === '') continue;
    if (line.includes('"')) throw new EvalDataError({ file, line: index + 1 }, 'quoted CSV cells are not expected in this file');
    const cells = line.split(',');
    if (cells.length !== header.length) {
      throw new EvalDataError({ file, line: index + 1 }, `expected ${header.length} cells like the header (${header.join(',')}), found ${cells.length}`);
    }
    rows.push({ line: index + 1, cells });
  }
  return { header, rows };
}

/**
 * The rows of a CSV as records keyed by the (trimmed) header names, each cell a string, so the
 * same schemas check them as JSON records.
 */
export function csvRecords(csv: NumericCsv): LocatedRecord[] {
  return csv.rows.map((row, index) => ({
    value: Object.fromEntries(csv.header.map((name, column) => [name.trim(), row.cells[column] ?? ''])),
    line: row.line,
    index,
  }));
}
