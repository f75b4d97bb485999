/**
 * What every API face's request parser shares: the body as a JSON object, zod issues turned
 * into a 400 whose `param` names the exact field (`messages[2].content[0].type`), and the
 * fields a face does not know or cannot honour refused by name (never silently dropped).
 */
import type { z } from 'zod';
import { formatPath } from '../core/config-schema.js';
import { HttpError } from './openai-errors.js';

export interface RequestLimits {
  maxMessages: number;
}

/** The raw body text as a JSON object; 400 `invalid_json` otherwise. */
export function parseJsonObject(text: string, example: string): Record<string, unknown> {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `The request body is not valid JSON: ${(error as Error).message}`, { code: 'invalid_json' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, `The request body must be a JSON object such as ${example}`, { code: 'invalid_json' });
  }
  return body as Record<string, unknown>;
}

/** Refuse a list longer than the server's limit before validating it (a huge list is not walked). */
export function checkListLength(body: Record<string, unknown>, field: string, limits: RequestLimits): void {
  const list = body[field];
  if (Array.isArray(list) && list.length > limits.maxMessages) {
    throw new HttpError(400, `Too many messages: ${list.length} (this server accepts at most ${limits.maxMessages})`, {
      param: field,
      code: 'too_many_messages',
    });
  }
}

function valueAt(body: unknown, path: ReadonlyArray<PropertyKey>): unknown {
  let value = body;
  for (const key of path) {
    if (typeof value !== 'object' || value === null) return undefined;
    value = (value as Record<PropertyKey, unknown>)[key];
  }
  return value;
}

type Issue = z.core.$ZodIssue;

/** The most specific issue: inside a union, the branch that got furthest into the value. */
function mostSpecific(issue: Issue): Issue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  let best: Issue | undefined;
  for (const branch of issue.errors) {
    for (const inner of branch) {
      const candidate = mostSpecific({ ...inner, path: [...issue.path, ...inner.path] });
      if (candidate.path.length > issue.path.length && (!best || candidate.path.length > best.path.length)) best = candidate;
    }
  }
  return best ?? issue;
}

/** `prefix`: where `body` sits in the whole request (e.g. `['messages', 0, 'content', 1]`). */
export function validationError(body: unknown, issues: readonly Issue[], prefix: readonly PropertyKey[] = []): HttpError {
  const issue = mostSpecific(issues[0]!);
  const param = formatPath([...prefix, ...issue.path]);
  if (valueAt(body, issue.path) === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    return new HttpError(400, `Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
  }
  return new HttpError(400, `Invalid value for '${param}': ${issue.message}.`, { param, code: 'invalid_value' });
}

/** Validate with a zod schema; a failure is the 400 naming the deepest bad field (under `prefix`). */
export function validate<T>(schema: z.ZodType<T>, body: unknown, prefix: readonly PropertyKey[] = []): T {
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw validationError(body, parsed.error.issues, prefix);
  return parsed.data;
}

/** A field this server understands but cannot honour here: a 400 naming it and saying why. */
export function unsupportedParameter(param: string, reason: string): HttpError {
  return new HttpError(400, `'${param}' is not supported: ${reason}.`, { param, code: 'unsupported_parameter' });
}

/**
 * Refuse any key of `object` that is not in `known` (OpenAI answers "Unrecognized request
 * argument supplied" the same way). A null value counts as not sent.
 */
export function rejectUnknownFields(object: Record<string, unknown>, known: ReadonlySet<string>, at = ''): void {
  for (const [key, value] of Object.entries(object)) {
    if (value === null || value === undefined || known.has(key)) continue;
    const param = at ? `${at}.${key}` : key;
    throw new HttpError(400, `Unrecognized request argument supplied: '${param}' (this server does not know it; see docs/server.md for what it accepts).`, {
      param,
      code: 'unknown_parameter',
    });
  }
}

/**
 * A request's top-level fields against what its API face knows: a `refused` field that was sent is
 * a 400 saying why; a field neither `applied` nor refused is refused as unknown.
 */
export function refuseFields(body: Record<string, unknown>, applied: Iterable<string>, refused: Readonly<Record<string, string>>): void {
  for (const [field, reason] of Object.entries(refused)) {
    if (isSent(body[field])) throw unsupportedParameter(field, reason);
  }
  rejectUnknownFields(body, new Set([...applied, ...Object.keys(refused)]));
}

/** True when a value was sent (null and undefined are "not sent"). */
export function isSent(value: unknown): boolean {
  return value !== null && value !== undefined;
}
