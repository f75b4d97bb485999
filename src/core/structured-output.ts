/**
 * The final answer of a run that asked for JSON (`responseFormat: { type: 'json', schema? }`) is
 * checked before it is returned: it must parse, and match the schema when one is given (JSON Schema
 * read with zod's `fromJSONSchema`). A model that wraps its JSON in a Markdown code fence gets the
 * fence taken off. An answer that fails the check fails its attempt, which is retried or falls
 * back like an empty answer.
 */
import { z } from 'zod';
import type { ResponseFormatSetting } from '../models/call-settings.js';
import { formatPath } from './config-schema.js';

export type StructuredCheck = { ok: true; text: string } | { ok: false; reason: string };

const FENCED = /^\s*```(?:json|JSON)?\s*\n([\s\S]*?)\n\s*```\s*$/;

/** Compiled schemas, by their JSON text: one compile per schema, not per answer. */
const compiled = new Map<string, z.ZodType | Error>();

function schemaOf(schema: object): z.ZodType | Error {
  const key = JSON.stringify(schema);
  let entry = compiled.get(key);
  if (!entry) {
    try {
      entry = z.fromJSONSchema(schema as Parameters<typeof z.fromJSONSchema>[0]);
    } catch (error) {
      entry = error instanceof Error ? error : new Error(String(error));
    }
    if (compiled.size > 256) compiled.clear();
    compiled.set(key, entry);
  }
  return entry;
}

export function checkStructuredAnswer(text: string, format: ResponseFormatSetting | undefined): StructuredCheck {
  if (!format || format.type !== 'json') return { ok: true, text };
  const unfenced = FENCED.exec(text)?.[1] ?? text;
  let value: unknown;
  try {
    value = JSON.parse(unfenced);
  } catch (error) {
    return { ok: false, reason: `the answer is not valid JSON (${(error as Error).message})` };
  }
  if (!format.schema) {
    return typeof value === 'object' && value !== null ? { ok: true, text: unfenced } : { ok: false, reason: 'the answer is JSON but not an object' };
  }
  const schema = schemaOf(format.schema);
  // A schema zod cannot read (e.g. an external $ref) is not held against the answer: JSON that parses passes.
  if (schema instanceof Error) return { ok: true, text: unfenced };
  const parsed = schema.safeParse(value);
  if (parsed.success) return { ok: true, text: unfenced };
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length > 0 ? ` at ${formatPath(issue.path)}` : '';
  return { ok: false, reason: `the answer does not match the response schema${where}: ${issue.message}` };
}
