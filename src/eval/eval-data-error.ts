/**
 * Errors about benchmark files the user pointed at: they name the file, the line and the
 * field, so a bad record can be found and fixed. They are configuration errors (CLI exit 2).
 */
import { ConfigError } from '../util/errors.js';

export interface DataLocation {
  file: string;
  /** 1-based line where the record (or the problem) starts. */
  line?: number;
  /** The field of the record, e.g. `turns[1]` or `preference`. */
  field?: string;
}

export function formatLocation(location: DataLocation): string {
  let text = location.file;
  if (location.line !== undefined) text += `:${location.line}`;
  if (location.field !== undefined) text += ` (field "${location.field}")`;
  return text;
}

export class EvalDataError extends ConfigError {
  readonly file: string;
  readonly line: number | undefined;
  readonly field: string | undefined;
  constructor(location: DataLocation, message: string, options?: { cause?: unknown }) {
    super(`${formatLocation(location)}: ${message}`, {
      path: formatLocation(location),
      code: 'eval_data_invalid',
      ...(options?.cause !== undefined ? { cause: options.cause } : {}),
    });
    this.name = 'EvalDataError';
    this.file = location.file;
    this.line = location.line;
    this.field = location.field;
  }
}
