import type { z } from 'zod';
import { ConfigError } from '../util/errors.js';
import { formatPath } from './config-schema.js';

/** One thing wrong in a configuration: where (`presets.quick.proposers[1]`) and what. */
export interface ConfigProblem {
  path: string;
  message: string;
  /** The ConfigError code when this is the only problem (default `config_invalid`). */
  code?: string;
}

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

/** Field names people use for a pasted key. */
const KEY_FIELD = /^(api[_-]?key|key|token|api[_-]?token|secret|password)$/i;

function unknownField(key: string, parentPath: ReadonlyArray<PropertyKey>): string {
  if (!KEY_FIELD.test(key)) return `unknown field "${key}" (check its spelling)`;
  const inProvider = parentPath.length === 2 && parentPath[0] === 'providers';
  return inProvider
    ? `unknown field "${key}": use apiKeyEnv with the NAME of the environment variable that holds the key (e.g. apiKeyEnv: MYLAB_API_KEY, then export MYLAB_API_KEY=...); keys never go in the file`
    : `unknown field "${key}": keys never go in the file; a provider reads its key from the environment variable named by providers.<name>.apiKeyEnv`;
}

/**
 * Every problem `schema` finds in `value`, each at its exact path, with what was found (never
 * for fields that may hold a secret) and what is expected.
 */
export function schemaProblems<T extends z.ZodType>(schema: T, value: unknown, prefix: ReadonlyArray<PropertyKey> = []): ConfigProblem[] {
  const parsed = schema.safeParse(value);
  if (parsed.success) return [];
  const problems: ConfigProblem[] = [];
  for (const first of parsed.error.issues) {
    let issue = first;
    // A union only says "no shape matched". When exactly one shape got past its
    // type check (its problem lies deeper), report that problem at its own path.
    while (issue.code === 'invalid_union') {
      const deeper = issue.errors.flatMap((branch) => (branch[0] && branch[0].path.length > 0 ? [branch[0]] : []));
      if (deeper.length !== 1) break;
      issue = { ...deeper[0]!, path: [...issue.path, ...deeper[0]!.path] };
    }
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        problems.push({ path: formatPath([...prefix, ...issue.path, key]) || '(top level)', message: unknownField(key, [...prefix, ...issue.path]) });
      }
      continue;
    }
    const fullPath = [...prefix, ...issue.path];
    // A key pasted where its variable's name belongs (apiKeyEnv), or an auth header, must not be echoed.
    const secret = fullPath.some((key) => key === 'apiKeyEnv' || key === 'headers');
    const found = secret ? ' (the value is not shown: it may be a secret)' : ` (found ${describe(valueAt(value, issue.path))})`;
    problems.push({ path: formatPath(fullPath) || '(top level)', message: `${issue.message}${found}` });
  }
  return problems;
}

/** One ConfigError for every problem at once (its `path` is the first one's). */
export function configError(found: readonly ConfigProblem[], source?: string): ConfigError {
  const where = source ? ` in ${source}` : '';
  // The same problem can be found twice (two layers sharing one proposer list): say it once.
  const problems = found.filter((problem, index) => found.findIndex((other) => other.path === problem.path && other.message === problem.message) === index);
  const [first] = problems;
  if (!first) return new ConfigError(`Invalid configuration${where}`);
  if (problems.length === 1) {
    return new ConfigError(`Invalid configuration${where} at ${first.path}: ${first.message}`, {
      path: first.path,
      ...(first.code ? { code: first.code } : {}),
    });
  }
  const list = problems.map((problem) => `  - ${problem.path}: ${problem.message}`).join('\n');
  return new ConfigError(`Invalid configuration${where}: ${problems.length} problems\n${list}`, { path: first.path });
}

/**
 * Parse `value` with `schema`; on failure throw a ConfigError naming every bad field
 * with its exact path (`presets.quick.proposers[1]`), what was found and what is expected.
 */
export function validate<T extends z.ZodType>(schema: T, value: unknown, prefix: ReadonlyArray<PropertyKey> = [], source?: string): z.output<T> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw configError(schemaProblems(schema, value, prefix), source);
}
