/**
 * The Chat Completions request contract (zod). Validation errors become an OpenAI-shaped 400
 * whose `param` names the exact field, e.g. `messages[2].content[0].type`. Every field a
 * client may send is either applied (to the aggregator) or refused with a 400 naming it and
 * saying why; a field this server does not know at all is refused like OpenAI refuses it.
 */
import { z } from 'zod';
import type { ChatMessage } from '../core/events.js';
import {
  checkListLength,
  isSent,
  parseJsonObject,
  rejectUnknownFields,
  unsupportedParameter,
  validate,
  type RequestLimits,
} from './request-validation.js';
import type { RunRequest } from './run-request.js';

export type { RequestLimits };

const textPart = z.strictObject({
  type: z.literal('text', { error: 'only text content parts ({ "type": "text", "text": "..." }) are supported' }),
  text: z.string({ error: 'expected the text as a string' }),
});

const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant'], {
    error: 'expected "system", "developer", "user" or "assistant" (tool messages are not supported)',
  }),
  content: z.union([z.string(), z.array(textPart)], { error: 'expected a string or an array of text parts' }),
});

/** Keys a message may carry (besides null ones, e.g. an assistant's `refusal: null`). */
const MESSAGE_FIELDS = new Set(['role', 'content']);

const tokenCount = z
  .number({ error: 'expected a positive whole number of tokens' })
  .int({ error: 'expected a positive whole number of tokens' })
  .positive({ error: 'expected a positive whole number of tokens' });

const moaExtension = z.strictObject(
  { details: z.boolean({ error: 'expected true or false' }).nullish() },
  { error: 'expected an object such as { "details": true }' },
);

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
  stream_options: z
    .strictObject(
      {
        include_usage: z.boolean({ error: 'expected true or false' }).nullish(),
        include_obfuscation: z.literal(false, { error: 'obfuscation padding is not sent by this server: leave it out or send false' }).nullish(),
      },
      { error: 'expected an object such as { "include_usage": true }' },
    )
    .nullish(),
  n: z.literal(1, { error: 'only n = 1 is supported (one MoA answer per request)' }).nullish(),
  response_format: z
    .strictObject({ type: z.literal('text', { error: 'structured output (json_object, json_schema) is not supported yet' }) }, { error: 'expected { "type": "text" }' })
    .nullish(),
  logprobs: z.literal(false, { error: 'log-probabilities are not returned by this server' }).nullish(),
  store: z.literal(false, { error: 'this server stores no completions: leave it out or send false' }).nullish(),
  modalities: z
    .array(z.literal('text', { error: 'MoA answers in text only' }), { error: 'expected ["text"]' })
    .nullish(),
  moa: moaExtension.nullish(),
});

/** Fields applied (or checked above to be harmless, e.g. `n: 1`). */
const APPLIED_FIELDS = new Set(Object.keys(chatRequestSchema.shape));

/**
 * Fields a Chat Completions client may send that this server refuses, and why. Each is named
 * in a 400 when sent (with any value but null), so a client never gets a different thing than
 * it asked for without knowing.
 */
const REFUSED_FIELDS: Record<string, string> = {
  tools: 'tool calling is not available on this server yet',
  tool_choice: 'tool calling is not available on this server yet',
  parallel_tool_calls: 'tool calling is not available on this server yet',
  functions: 'the deprecated functions API is not supported: send tools instead',
  function_call: 'the deprecated functions API is not supported: send tool_choice instead',
  stop: 'stop sequences are not applied to the aggregator yet',
  seed: 'seeded sampling is not applied to the aggregator yet',
  top_p: 'nucleus sampling is not applied to the aggregator yet',
  presence_penalty: 'penalties are not applied to the aggregator yet',
  frequency_penalty: 'penalties are not applied to the aggregator yet',
  logit_bias: 'logit bias is not applied to the aggregator yet',
  user: 'end-user ids are not passed to the aggregator yet',
  top_logprobs: 'log-probabilities are not returned by this server',
  reasoning_effort: 'reasoning effort is not passed to the aggregator yet',
  verbosity: 'verbosity is not passed to the aggregator',
  service_tier: 'service tiers are not passed to the providers',
  prompt_cache_key: 'prompt cache keys are not passed to the providers',
  safety_identifier: 'safety identifiers are not passed to the providers',
  metadata: 'this server stores no completions, so it keeps no metadata',
  audio: 'MoA answers in text only',
  prediction: 'predicted outputs are not supported',
  web_search_options: 'built-in web search is not supported: give the aggregator a search tool instead',
};

export interface ChatRequest extends RunRequest {
  stream: boolean;
  includeUsage: boolean;
}

function refuseFields(body: Record<string, unknown>): void {
  for (const [field, reason] of Object.entries(REFUSED_FIELDS)) {
    if (isSent(body[field])) throw unsupportedParameter(field, reason);
  }
  rejectUnknownFields(body, new Set([...APPLIED_FIELDS, ...Object.keys(REFUSED_FIELDS)]));
}

function messageText(content: string | Array<{ text: string }>): string {
  return typeof content === 'string' ? content : content.map((part) => part.text).join('\n');
}

/** Parse the raw body text of a chat request; throws HttpError (400) naming the bad field. */
export function parseChatRequest(text: string, limits: RequestLimits, headers?: { details?: string | undefined }): ChatRequest {
  const body = parseJsonObject(text, '{ "model": "...", "messages": [...] }');
  checkListLength(body, 'messages', limits);
  const request = validate(chatRequestSchema, body);
  refuseFields(body);
  request.messages.forEach((message, index) => {
    if (message.name !== undefined && message.name !== null) {
      throw unsupportedParameter(`messages[${index}].name`, 'participant names are not passed to the agents; leave it out');
    }
    rejectUnknownFields(message, MESSAGE_FIELDS, `messages[${index}]`);
  });
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const messages: ChatMessage[] = request.messages.map((message) => ({
    role: message.role === 'developer' ? 'system' : message.role,
    content: messageText(message.content),
  }));
  return {
    model: request.model,
    messages,
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    details: request.moa?.details === true || detailsHeader(headers?.details),
  };
}

/** `X-MoA-Details: true` (or 1, yes) asks for the `moa` extension, like `"moa": { "details": true }`. */
export function detailsHeader(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes)$/i.test(value.trim());
}
