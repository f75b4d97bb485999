import type { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { formatPath } from './config-schema.js';

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  const text = JSON.stringify(value);
  return text === undefined ? typeof value : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let current: unknown = root;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

/**
 * Parse `value` with `schema`; on failure throw a ConfigError naming the exact
 * path of the first bad field (`presets.quick.proposers[1]`), what was found
 * and what is expected.
 */
export function validate<T extends z.ZodType>(schema: T, value: unknown, prefix: ReadonlyArray<PropertyKey> = [], source?: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  let issue = parsed.error.issues[0]!;
  // A union only says "no shape matched". When exactly one shape got past its
  // type check (its problem lies deeper), report that problem at its own path.
  while (issue.code === 'invalid_union') {
    const deeper = issue.errors.flatMap((branch) => (branch[0] && branch[0].path.length > 0 ? [branch[0]] : []));
    if (deeper.length !== 1) break;
    issue = { ...deeper[0]!, path: [...issue.path, ...deeper[0]!.path] };
  }
  let issuePath = issue.path;
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]!;
    issuePath = [...issue.path, key];
    message = `unknown field "${key}" (check its spelling)`;
  }
  const fullPath = [...prefix, ...issuePath];
  const path = formatPath(fullPath);
  // A key pasted where its variable's name belongs (apiKeyEnv), or an auth header, must not be echoed.
  const secret = fullPath.some((key) => key === 'apiKeyEnv' || key === 'headers');
  const found =
    issue.code === 'unrecognized_keys' ? '' : secret ? ' (the value is not shown: it may be a secret)' : ` (found ${describe(valueAt(value, issuePath))})`;
  const where = source ? ` in ${source}` : '';
  const more = parsed.error.issues.length > 1 ? ` (and ${parsed.error.issues.length - 1} more problem(s))` : '';
  throw new ConfigError(`Invalid configuration${where} at ${path || '(top level)'}: ${message}${found}${more}`, {
    path: path || '(top level)',
  });
}
