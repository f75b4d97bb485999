/**
 * The Anthropic Messages API request contract (`POST /v1/messages`): `system`, `messages` with
 * content blocks, `max_tokens` (required, as Anthropic requires it), streaming. Every field is
 * applied to the run (the aggregator's settings) or refused with a 400 naming it.
 */
import { z } from 'zod';
import type { ChatMessage } from '../core/events.js';
import { HttpError } from './openai-errors.js';
import { detailsHeader } from './openai-schema.js';
import {
  checkListLength,
  isSent,
  parseJsonObject,
  rejectUnknownFields,
  unsupportedParameter,
  validate,
  type RequestLimits,
} from './request-validation.js';

/** `cache_control` is a hint to Anthropic's prompt cache: accepted on any block, with no effect here (documented). */
const cacheControl = z.looseObject({ type: z.string() }).nullish();

const textBlock = z.strictObject({
  type: z.literal('text'),
  text: z.string({ error: 'expected the text as a string' }),
  cache_control: cacheControl,
  citations: z.array(z.unknown()).max(0, { error: 'citations are not supported' }).nullish(),
});

export const messagesRequestSchema = z.looseObject({
  model: z.string({ error: 'expected a preset name (see GET /v1/models)' }).min(1, { error: 'expected a preset name (see GET /v1/models)' }),
  max_tokens: z
    .number({ error: 'expected a positive whole number of tokens' })
    .int({ error: 'expected a positive whole number of tokens' })
    .positive({ error: 'expected a positive whole number of tokens' }),
  messages: z
    .array(
      z.looseObject({
        role: z.enum(['user', 'assistant'], { error: 'expected "user" or "assistant" (the system prompt goes in "system")' }),
        content: z.union([z.string(), z.array(z.looseObject({ type: z.string({ error: 'expected a content block type' }) }))], {
          error: 'expected a string or an array of content blocks',
        }),
      }),
      { error: 'expected an array of messages' },
    )
    .min(1, { error: 'must contain at least one message' }),
  system: z.union([z.string(), z.array(textBlock)], { error: 'expected a string or an array of text blocks' }).nullish(),
  temperature: z
    .number({ error: 'expected a number between 0 and 1' })
    .min(0, { error: 'expected a number between 0 and 1' })
    .max(1, { error: 'expected a number between 0 and 1' })
    .nullish(),
  stream: z.boolean({ error: 'expected true or false' }).nullish(),
  moa: z.strictObject({ details: z.boolean({ error: 'expected true or false' }).nullish() }, { error: 'expected an object such as { "details": true }' }).nullish(),
});

const APPLIED_FIELDS = new Set(Object.keys(messagesRequestSchema.shape));

const REFUSED_FIELDS: Record<string, string> = {
  tools: 'tool use is not available on this server yet',
  tool_choice: 'tool use is not available on this server yet',
  top_p: 'nucleus sampling is not applied to the aggregator yet',
  top_k: 'top-k sampling is not applied to the aggregator yet',
  stop_sequences: 'stop sequences are not applied to the aggregator yet',
  metadata: 'end-user ids are not passed to the aggregator yet',
  thinking: 'extended thinking is not passed to the aggregator yet',
  service_tier: 'service tiers are not passed to the providers',
  container: 'containers (code execution) are not supported',
  mcp_servers: 'remote MCP servers are not supported: give the client the tools instead',
  context_management: 'context management is not supported',
};

export interface MessagesRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  stream: boolean;
  details: boolean;
}

type Block = Record<string, unknown>;

function blocksText(content: string | Block[], message: number): string {
  if (typeof content === 'string') return content;
  return content
    .map((block, index) => {
      const where = `messages[${message}].content[${index}]`;
      const type = block['type'];
      if (type === 'text') return validate(textBlock, block, ['messages', message, 'content', index]).text;
      if (type === 'image' || type === 'document' || type === 'search_result') {
        throw unsupportedParameter(`${where}.type`, 'only text content is supported');
      }
      if (type === 'tool_use' || type === 'tool_result' || type === 'server_tool_use') {
        throw unsupportedParameter(`${where}.type`, 'tool use is not available on this server yet');
      }
      if (type === 'thinking' || type === 'redacted_thinking') {
        throw unsupportedParameter(`${where}.type`, 'thinking blocks are not passed to the agents');
      }
      throw new HttpError(400, `Invalid value for '${where}.type': expected "text".`, { param: `${where}.type`, code: 'invalid_value' });
    })
    .join('\n');
}

export function parseMessagesRequest(text: string, limits: RequestLimits, headers?: { details?: string | undefined }): MessagesRequest {
  const body = parseJsonObject(text, '{ "model": "...", "max_tokens": 1024, "messages": [...] }');
  checkListLength(body, 'messages', limits);
  const request = validate(messagesRequestSchema, body);
  for (const [field, reason] of Object.entries(REFUSED_FIELDS)) {
    if (isSent(body[field])) throw unsupportedParameter(field, reason);
  }
  rejectUnknownFields(body, new Set([...APPLIED_FIELDS, ...Object.keys(REFUSED_FIELDS)]));
  const messages: ChatMessage[] = [];
  if (request.system != null) {
    const system = typeof request.system === 'string' ? request.system : request.system.map((block) => block.text).join('\n');
    if (system.trim() !== '') messages.push({ role: 'system', content: system });
  }
  request.messages.forEach((message, index) => {
    rejectUnknownFields(message, new Set(['role', 'content']), `messages[${index}]`);
    messages.push({ role: message.role, content: blocksText(message.content as string | Block[], index) });
  });
  return {
    model: request.model,
    messages,
    maxTokens: request.max_tokens,
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    stream: request.stream === true,
    details: request.moa?.details === true || detailsHeader(headers?.details),
  };
}
