/**
 * The Chat Completions request contract (zod). Validation errors become an
 * OpenAI-shaped 400 whose `param` names the exact field, e.g.
 * `messages[2].content[0].type`. Fields this server does not use (top_p, user,
 * seed, …) are accepted and ignored, as OpenAI-compatible servers commonly do;
 * fields it cannot honour (tools, n > 1) are rejected by name.
 */
import { z } from 'zod';
import { formatPath } from '../core/config-schema.js';
import type { ChatMessage } from '../core/events.js';
import { HttpError } from './openai-errors.js';

const textPart = z.looseObject({
  type: z.literal('text', { error: 'only text content parts ({ "type": "text", "text": "..." }) are supported' }),
  text: z.string({ error: 'expected the text as a string' }),
});

const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant'], {
    error: 'expected "system", "developer", "user" or "assistant" (tool messages are not supported)',
  }),
  content: z.union([z.string(), z.array(textPart)], { error: 'expected a string or an array of text parts' }),
});

const tokenCount = z
  .number({ error: 'expected a positive whole number of tokens' })
  .int({ error: 'expected a positive whole number of tokens' })
  .positive({ error: 'expected a positive whole number of tokens' });

export const chatRequestSchema = z.looseObject({
  model: z.string({ error: 'expected a preset name (see GET /v1/models)' }).min(1, { error: 'expected a preset name (see GET /v1/models)' }),
  messages: z.array(messageSchema, { error: 'expected an array of messages' }).min(1, { error: 'must contain at least one message' }),
  temperature: z
    .number({ error: 'expected a number between 0 and 2' })
    .min(0, { error: 'expected a number between 0 and 2' })
    .max(2, { error: 'expected a number between 0 and 2' })
    .nullish(),
  max_tokens: tokenCount.nullish(),
  max_completion_tokens: tokenCount.nullish(),
  stream: z.boolean({ error: 'expected true or false' }).nullish(),
  stream_options: z.looseObject({ include_usage: z.boolean({ error: 'expected true or false' }).nullish() }, { error: 'expected an object' }).nullish(),
  n: z.literal(1, { error: 'only n = 1 is supported (one MoA answer per request)' }).nullish(),
  tools: z.array(z.unknown()).max(0, { error: 'tools are not supported by this server' }).nullish(),
  moa: z
    .looseObject(
      { details: z.boolean({ error: 'expected true or false' }).nullish(), draft: z.boolean({ error: 'expected true or false' }).nullish() },
      { error: 'expected an object such as { "details": true }' },
    )
    .nullish(),
});

export interface ChatRequest {
  /** The preset name. */
  model: string;
  messages: ChatMessage[];
  /** For the aggregator (the final layer's agents) only. */
  temperature?: number;
  maxTokens?: number;
  stream: boolean;
  includeUsage: boolean;
  /** Add the `moa` extension object (per-layer details) to the response. */
  details: boolean;
  /** `moa.draft`: stream the fastest proposer's answer as a labelled draft (native event stream; never OpenAI content). */
  draft?: boolean;
}

export interface RequestLimits {
  maxMessages: number;
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
      const candidate = mostSpecific({ ...inner, path: [...issue.path, ...inner.path] } as Issue);
      if (candidate.path.length > issue.path.length && (!best || candidate.path.length > best.path.length)) best = candidate;
    }
  }
  return best ?? issue;
}

function validationError(body: unknown, issues: readonly Issue[]): HttpError {
  const issue = mostSpecific(issues[0]!);
  const param = formatPath(issue.path);
  if (valueAt(body, issue.path) === undefined && (issue.code === 'invalid_type' || issue.code === 'invalid_union')) {
    return new HttpError(400, `Missing required parameter: '${param}'.`, { param, code: 'missing_required_parameter' });
  }
  return new HttpError(400, `Invalid value for '${param}': ${issue.message}.`, { param, code: 'invalid_value' });
}

/** Parse the raw body text of a chat request; throws HttpError (400) naming the bad field. */
export function parseChatRequest(text: string, limits: RequestLimits, headers?: { details?: string | undefined }): ChatRequest {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (error) {
    throw new HttpError(400, `The request body is not valid JSON: ${(error as Error).message}`, { code: 'invalid_json' });
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new HttpError(400, 'The request body must be a JSON object such as { "model": "...", "messages": [...] }', { code: 'invalid_json' });
  }
  // Count before validating, so a huge list is refused without walking it.
  const messages = (body as { messages?: unknown }).messages;
  if (Array.isArray(messages) && messages.length > limits.maxMessages) {
    throw new HttpError(400, `Too many messages: ${messages.length} (this server accepts at most ${limits.maxMessages})`, {
      param: 'messages',
      code: 'too_many_messages',
    });
  }
  const parsed = chatRequestSchema.safeParse(body);
  if (!parsed.success) throw validationError(body, parsed.error.issues);
  const request = parsed.data;
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const headerDetails = headers?.details !== undefined && /^(1|true|yes)$/i.test(headers.details.trim());
  return {
    model: request.model,
    messages: request.messages.map((message) => ({
      role: message.role === 'developer' ? 'system' : message.role,
      content: typeof message.content === 'string' ? message.content : message.content.map((part) => part.text).join('\n'),
    })),
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    details: request.moa?.details === true || headerDetails,
    ...(request.moa?.draft === true ? { draft: true } : {}),
  };
}
