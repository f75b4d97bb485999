/**
 * The Responses API request contract (`POST /v1/responses`): input as a string or as items,
 * `instructions`, `previous_response_id`, streaming. Every field is applied to the run (the
 * aggregator's settings) or refused with a 400 naming it, like the Chat Completions contract.
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

const tokenCount = z
  .number({ error: 'expected a positive whole number of tokens' })
  .int({ error: 'expected a positive whole number of tokens' })
  .positive({ error: 'expected a positive whole number of tokens' });

export const responsesRequestSchema = z.looseObject({
  model: z.string({ error: 'expected a preset name (see GET /v1/models)' }).min(1, { error: 'expected a preset name (see GET /v1/models)' }),
  input: z.union([z.string(), z.array(z.unknown())], { error: 'expected a string or an array of input items' }),
  instructions: z.string({ error: 'expected the instructions as a string' }).nullish(),
  previous_response_id: z.string({ error: 'expected the id of an earlier response' }).nullish(),
  stream: z.boolean({ error: 'expected true or false' }).nullish(),
  stream_options: z
    .strictObject({ include_obfuscation: z.literal(false, { error: 'obfuscation padding is not sent by this server' }).nullish() })
    .nullish(),
  temperature: z
    .number({ error: 'expected a number between 0 and 2' })
    .min(0, { error: 'expected a number between 0 and 2' })
    .max(2, { error: 'expected a number between 0 and 2' })
    .nullish(),
  max_output_tokens: tokenCount.nullish(),
  store: z.boolean({ error: 'expected true or false' }).nullish(),
  metadata: z.record(z.string(), z.string({ error: 'expected string values' }), { error: 'expected an object of strings' }).nullish(),
  text: z
    .strictObject({
      format: z
        .strictObject({ type: z.literal('text', { error: 'structured output (json_schema, json_object) is not supported yet' }) })
        .nullish(),
      verbosity: z.null({ error: 'verbosity is not passed to the aggregator' }).optional(),
    })
    .nullish(),
  truncation: z.literal('disabled', { error: 'only "disabled" is supported (the whole conversation goes to every agent)' }).nullish(),
  background: z.literal(false, { error: 'background responses are not supported: stream instead' }).nullish(),
  include: z.array(z.never({ error: 'this server returns no extra output data' })).nullish(),
  moa: z.strictObject({ details: z.boolean({ error: 'expected true or false' }).nullish() }, { error: 'expected an object such as { "details": true }' }).nullish(),
});

const APPLIED_FIELDS = new Set(Object.keys(responsesRequestSchema.shape));

const REFUSED_FIELDS: Record<string, string> = {
  tools: 'tool calling is not available on this server yet',
  tool_choice: 'tool calling is not available on this server yet',
  parallel_tool_calls: 'tool calling is not available on this server yet',
  max_tool_calls: 'tool calling is not available on this server yet',
  top_p: 'nucleus sampling is not applied to the aggregator yet',
  top_logprobs: 'log-probabilities are not returned by this server',
  user: 'end-user ids are not passed to the aggregator yet',
  reasoning: 'reasoning settings are not passed to the aggregator yet',
  prompt: 'stored prompt templates are not supported: send input and instructions',
  conversation: 'conversations are not stored by this server: use previous_response_id',
  service_tier: 'service tiers are not passed to the providers',
  prompt_cache_key: 'prompt cache keys are not passed to the providers',
  safety_identifier: 'safety identifiers are not passed to the providers',
};

export interface ResponsesRequest {
  model: string;
  /** The new input as conversation turns (earlier turns come from `previousResponseId`). */
  input: ChatMessage[];
  instructions?: string;
  previousResponseId?: string;
  stream: boolean;
  temperature?: number;
  maxTokens?: number;
  store: boolean;
  metadata: Record<string, string>;
  details: boolean;
}

type Part = Record<string, unknown>;

function textOfParts(parts: unknown, at: string, role: string): string {
  if (typeof parts === 'string') return parts;
  if (!Array.isArray(parts)) throw new HttpError(400, `Invalid value for '${at}': expected a string or an array of content parts.`, { param: at, code: 'invalid_value' });
  return parts
    .map((part: unknown, index) => {
      const where = `${at}[${index}]`;
      if (typeof part !== 'object' || part === null) {
        throw new HttpError(400, `Invalid value for '${where}': expected a content part object.`, { param: where, code: 'invalid_value' });
      }
      const { type, text } = part as Part;
      const textType = role === 'assistant' ? 'output_text' : 'input_text';
      if (type === 'input_text' || type === 'output_text') {
        if (typeof text !== 'string') throw new HttpError(400, `Invalid value for '${where}.text': expected a string.`, { param: `${where}.text`, code: 'invalid_value' });
        rejectUnknownFields(part as Part, new Set(['type', 'text', 'annotations', 'logprobs']), where);
        return text;
      }
      if (type === 'refusal' && typeof (part as Part)['refusal'] === 'string') return (part as Part)['refusal'] as string;
      if (type === 'input_image' || type === 'input_file' || type === 'input_audio') {
        throw unsupportedParameter(`${where}.type`, `only text input is supported ("${textType}" parts)`);
      }
      throw new HttpError(400, `Invalid value for '${where}.type': expected "${textType}".`, { param: `${where}.type`, code: 'invalid_value' });
    })
    .join('\n');
}

const MESSAGE_ROLES = new Set(['user', 'assistant', 'system', 'developer']);

/** Input items → conversation turns. */
function inputTurns(input: string | unknown[]): ChatMessage[] {
  if (typeof input === 'string') return [{ role: 'user', content: input }];
  return input.map((item: unknown, index): ChatMessage => {
    const at = `input[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new HttpError(400, `Invalid value for '${at}': expected an input item object.`, { param: at, code: 'invalid_value' });
    }
    const record = item as Part;
    const type = record['type'] ?? 'message';
    if (type === 'message') {
      const role = record['role'];
      if (typeof role !== 'string' || !MESSAGE_ROLES.has(role)) {
        throw new HttpError(400, `Invalid value for '${at}.role': expected "user", "assistant", "system" or "developer".`, {
          param: `${at}.role`,
          code: isSent(role) ? 'invalid_value' : 'missing_required_parameter',
        });
      }
      if (!isSent(record['content'])) {
        throw new HttpError(400, `Missing required parameter: '${at}.content'.`, { param: `${at}.content`, code: 'missing_required_parameter' });
      }
      rejectUnknownFields(record, new Set(['type', 'role', 'content', 'id', 'status']), at);
      const content = textOfParts(record['content'], `${at}.content`, role);
      return { role: role === 'developer' ? 'system' : (role as ChatMessage['role']), content };
    }
    if (type === 'function_call' || type === 'function_call_output') {
      throw unsupportedParameter(`${at}.type`, 'tool calling is not available on this server yet');
    }
    throw unsupportedParameter(`${at}.type`, `input items of type "${String(type)}" are not supported (only messages)`);
  });
}

export function parseResponsesRequest(text: string, limits: RequestLimits, headers?: { details?: string | undefined }): ResponsesRequest {
  const body = parseJsonObject(text, '{ "model": "...", "input": "..." }');
  checkListLength(body, 'input', limits);
  const request = validate(responsesRequestSchema, body);
  for (const [field, reason] of Object.entries(REFUSED_FIELDS)) {
    if (isSent(body[field])) throw unsupportedParameter(field, reason);
  }
  rejectUnknownFields(body, new Set([...APPLIED_FIELDS, ...Object.keys(REFUSED_FIELDS)]));
  const input = inputTurns(request.input);
  return {
    model: request.model,
    input,
    ...(request.instructions != null ? { instructions: request.instructions } : {}),
    ...(request.previous_response_id != null ? { previousResponseId: request.previous_response_id } : {}),
    stream: request.stream === true,
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    ...(request.max_output_tokens != null ? { maxTokens: request.max_output_tokens } : {}),
    store: request.store !== false,
    metadata: request.metadata ?? {},
    details: request.moa?.details === true || detailsHeader(headers?.details),
  };
}
