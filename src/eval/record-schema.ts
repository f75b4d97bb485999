/**
 * Benchmark records checked with zod schemas. A record that does not match becomes an
 * `EvalDataError` naming the file, the record's line and the exact field path
 * (`choices[0].turns[1]`), in words a person can act on: "missing", "expected a string (found
 * number 3)", "expected exactly 2 entries (found 1)".
 *
 * Fields a schema does not name are allowed (the official files carry fields moa does not read):
 * `z.object` leaves them out of the checked value, and the record as in the file stays at hand
 * (`CheckedRecord.source`) for a loader that keeps every field.
 */
import { z } from 'zod';
import { formatPath } from '../core/config-schema.js';
import { EvalDataError } from './eval-data-error.js';
import { describeValue, type LocatedRecord } from './read-data-file.js';

/** What a schema type is called in an error ("expected a whole number"). */
const EXPECTED: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

function entries(count: number): string {
  return `${count} ${count === 1 ? 'entry' : 'entries'}`;
}

/**
 * The wording of zod's issues for the schemas below that set no message of their own (a
 * per-parse error map: a message given on a schema wins over it).
 */
function issueMessage(issue: z.core.$ZodRawIssue): string | undefined {
  const input = issue.input;
  switch (issue.code) {
    case 'invalid_type':
      if (input === undefined) return 'missing';
      if (issue.expected === 'int' && typeof input === 'number') return `expected a whole number (found ${input})`;
      return `expected ${EXPECTED[issue.expected] ?? issue.expected} (found ${describeValue(input)})`;
    case 'too_small':
    case 'too_big': {
      const bound = Number(issue.code === 'too_small' ? issue.minimum : issue.maximum);
      const side = issue.code === 'too_small' ? 'at least' : 'at most';
      if (issue.origin === 'string' && issue.code === 'too_small' && bound === 1) return 'expected a non-empty string';
      if (issue.origin === 'array' && Array.isArray(input)) {
        return `expected ${issue.exact ? 'exactly' : side} ${entries(bound)} (found ${input.length})`;
      }
      if (issue.origin === 'number') return `expected a number ${side} ${bound} (found ${String(input)})`;
      return undefined;
    }
    case 'invalid_value':
      return `expected ${issue.values.map((value) => JSON.stringify(value)).join(' or ')} (found ${describeValue(input)})`;
    default:
      return undefined;
  }
}

/**
 * A schema's own wording for a value of the wrong type: "missing" when the field is absent, else
 * `expected <what> (found …)`. Its checks (a list's length, …) keep the common wording.
 */
export function expecting(what: string): (issue: z.core.$ZodRawIssue) => string | undefined {
  return (issue) => {
    if (issue.code !== 'invalid_type' && issue.code !== 'invalid_union') return undefined;
    return issue.input === undefined ? 'missing' : `expected ${what} (found ${describeValue(issue.input)})`;
  };
}

/**
 * An optional field the record does not give (or gives as null, for `optionalText`) is left out
 * rather than set to undefined, as if the loader had copied only the fields present.
 */
function withoutUndefinedFields<Value>(value: Value): Value {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, field]) => field !== undefined)) as Value;
}

/** Checks one record; the first problem is thrown as an EvalDataError at the record's line. */
export function parseRecord<Schema extends z.ZodType>(file: string, record: LocatedRecord, schema: Schema): z.output<Schema> {
  const result = schema.safeParse(record.value, { error: issueMessage });
  if (result.success) return withoutUndefinedFields(result.data);
  const [issue] = result.error.issues;
  const field = issue && issue.path.length > 0 ? formatPath(issue.path) : undefined;
  throw new EvalDataError({ file, line: record.line, ...(field !== undefined ? { field } : {}) }, issue?.message ?? result.error.message);
}

/** A checked record with where it came from. */
export interface CheckedRecord<Value> {
  value: Value;
  /** 1-based line where the record starts. */
  line: number;
  /** The record as in the file, every field included. */
  source: Record<string, unknown>;
}

export function parseRecords<Schema extends z.ZodType>(file: string, records: readonly LocatedRecord[], schema: Schema): Array<CheckedRecord<z.output<Schema>>> {
  return records.map((record) => ({ value: parseRecord(file, record, schema), line: record.line, source: record.value }));
}

/**
 * Rejects the second record that has the same key as an earlier one, naming both lines.
 * `hint` says why the key must be unique.
 */
export function rejectDuplicates<Value>(
  file: string,
  records: ReadonlyArray<CheckedRecord<Value>>,
  field: string,
  key: (value: Value) => string | number,
  hint?: string,
): void {
  const seen = new Map<string | number, number>();
  for (const record of records) {
    const value = key(record.value);
    const previous = seen.get(value);
    if (previous !== undefined) {
      const shown = typeof value === 'number' ? ` ${value}` : '';
      throw new EvalDataError({ file, line: record.line, field }, `duplicate ${field}${shown} (already on line ${previous})${hint ? `; ${hint}` : ''}`);
    }
    seen.set(value, record.line);
  }
}

// The field types the benchmark files share.

/** A string that must not be empty (names, ids, instructions). */
export const nonEmptyText = z.string().min(1);
/** A string that may be empty (an answer or an output can be). */
export const anyText = z.string();
/** An optional string: absent or null are both "not given". */
export const optionalText = z
  .string()
  .nullish()
  .transform((value) => value ?? undefined);
export const wholeNumber = z.number().int();
/** A list of strings with a wording of its own ("expected a list of strings"). */
export const stringList = z.array(z.string(), { error: expecting('a list of strings') });

/**
 * A CSV cell holding a number: CSV has only text, so the cell is converted (`Number(cell)`,
 * blank and non-numbers rejected with the cell as found).
 */
export const csvNumber = z
  .string()
  .refine((cell) => cell.trim() !== '' && Number.isFinite(Number(cell)), { error: (issue) => `expected a number (found ${JSON.stringify(issue.input)})` })
  .transform(Number);
/** An optional CSV number: a blank (or absent) cell is null. */
export const optionalCsvNumber = z
  .string()
  .optional()
  .refine((cell) => cell === undefined || cell.trim() === '' || Number.isFinite(Number(cell)), {
    error: (issue) => `expected a number or a blank cell (found ${JSON.stringify(issue.input)})`,
  })
  .transform((cell) => (cell === undefined || cell.trim() === '' ? null : Number(cell)));
