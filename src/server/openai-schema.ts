/**
 * The Chat Completions request contract (zod). Validation errors become an OpenAI-shaped 400
 * whose `param` names the exact field, e.g. `messages[2].content[0].type`. Every field a
 * client may send is either applied (to the aggregator: aggregator-settings.ts checks that its
 * provider can) or refused with a 400 naming it and saying why; a field this server does not
 * know at all is refused like OpenAI refuses it.
 */
import { z } from 'zod';
import type { ChatMessage, ToolCall } from '../core/events.js';
import { MAX_SAMPLES } from '../core/final-options.js';
import type { FunctionToolDefinition, ResponseFormatSetting, ToolChoiceSetting } from '../models/call-settings.js';
import type { AggregatorSettings, SettingParams } from '../core/aggregator-settings.js';
import { HttpError } from './openai-errors.js';
import { checkListLength, isSent, parseJsonObject, refuseFields, rejectUnknownFields, unsupportedParameter, validate, type RequestLimits } from './request-validation.js';
import type { RunRequest } from './run-request.js';

export type { RequestLimits };

const textPart = z.looseObject({
  type: z.string({ error: 'expected a content part type' }),
  text: z.string({ error: 'expected the text as a string' }).optional(),
});

const content = z.union([z.string(), z.array(textPart)], { error: 'expected a string or an array of text parts' });

const toolCallSchema = z.strictObject({
  id: z.string({ error: 'expected the tool call id as a string' }).min(1, { error: 'expected a tool call id' }),
  type: z.literal('function', { error: 'expected "function"' }),
  function: z.strictObject({
    name: z.string({ error: 'expected the function name as a string' }),
    arguments: z.string({ error: 'expected the arguments as a JSON string' }),
  }),
});

const messageSchema = z.looseObject({
  role: z.enum(['system', 'developer', 'user', 'assistant', 'tool'], {
    error: 'expected "system", "developer", "user", "assistant" or "tool"',
  }),
  content: content.nullish(),
  tool_calls: z.array(toolCallSchema, { error: 'expected an array of tool calls' }).nullish(),
  tool_call_id: z.string({ error: 'expected the id of the tool call this answers' }).nullish(),
});

/** Keys a message may carry (besides null ones, e.g. an assistant's `refusal: null`). */
const MESSAGE_FIELDS = new Set(['role', 'content', 'tool_calls', 'tool_call_id']);

const tokenCount = z
  .number({ error: 'expected a positive whole number of tokens' })
  .int({ error: 'expected a positive whole number of tokens' })
  .positive({ error: 'expected a positive whole number of tokens' });

const between = (min: number, max: number) =>
  z
    .number({ error: `expected a number between ${min} and ${max}` })
    .min(min, { error: `expected a number between ${min} and ${max}` })
    .max(max, { error: `expected a number between ${min} and ${max}` });

export const toolLoopSchema = z.enum(['reuse', 'rerun'], { error: 'expected "reuse" (the proposers advise once per user turn) or "rerun" (every step)' });

export const moaExtensionSchema = z.strictObject(
  {
    details: z.boolean({ error: 'expected true or false' }).nullish(),
    toolLoop: toolLoopSchema.nullish(),
    /** Stream the fastest proposer as a labelled draft on the native event stream (never in OpenAI content). */
    draft: z.boolean({ error: 'expected true or false' }).nullish(),
  },
  { error: 'expected an object such as { "details": true }' },
);

const functionTool = z.strictObject({
  type: z.literal('function', { error: 'only function tools are supported' }),
  function: z.strictObject({
    name: z
      .string({ error: 'expected the function name as a string' })
      .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected a name of letters, digits, _ and - (at most 64)' }),
    description: z.string({ error: 'expected a string' }).nullish(),
    parameters: z.record(z.string(), z.unknown(), { error: 'expected a JSON Schema object' }).nullish(),
    strict: z.boolean({ error: 'expected true or false' }).nullish(),
  }),
});

const responseFormat = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('text') }),
    z.strictObject({ type: z.literal('json_object') }),
    z.strictObject({
      type: z.literal('json_schema'),
      json_schema: z.strictObject({
        name: z.string({ error: 'expected the schema name as a string' }),
        description: z.string().nullish(),
        schema: z.record(z.string(), z.unknown(), { error: 'expected a JSON Schema object' }).nullish(),
        strict: z.boolean({ error: 'expected true or false' }).nullish(),
      }),
    }),
  ],
  { error: 'expected { "type": "text" }, { "type": "json_object" } or { "type": "json_schema", "json_schema": { … } }' },
);

export const chatRequestSchema = z.looseObject({
  model: z.string({ error: 'expected a preset name (see GET /v1/models)' }).min(1, { error: 'expected a preset name (see GET /v1/models)' }),
  messages: z.array(messageSchema, { error: 'expected an array of messages' }).min(1, { error: 'must contain at least one message' }),
  temperature: between(0, 2).nullish(),
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
  n: z
    .number({ error: `expected a whole number from 1 to ${MAX_SAMPLES}` })
    .int({ error: `expected a whole number from 1 to ${MAX_SAMPLES}` })
    .min(1, { error: `expected a whole number from 1 to ${MAX_SAMPLES}` })
    .max(MAX_SAMPLES, { error: `expected a whole number from 1 to ${MAX_SAMPLES} (answers written over one set of references)` })
    .nullish(),
  tools: z.array(functionTool, { error: 'expected an array of function tools' }).nullish(),
  tool_choice: z
    .union([z.enum(['none', 'auto', 'required']), z.strictObject({ type: z.literal('function'), function: z.strictObject({ name: z.string() }) })], {
      error: 'expected "none", "auto", "required" or { "type": "function", "function": { "name": … } }',
    })
    .nullish(),
  parallel_tool_calls: z.boolean({ error: 'expected true or false' }).nullish(),
  response_format: responseFormat.nullish(),
  stop: z
    .union([z.string(), z.array(z.string({ error: 'expected strings' })).max(16, { error: 'at most 16 stop sequences' })], {
      error: 'expected a string or an array of strings',
    })
    .nullish(),
  seed: z.number({ error: 'expected a whole number' }).int({ error: 'expected a whole number' }).nullish(),
  top_p: between(0, 1).nullish(),
  presence_penalty: between(-2, 2).nullish(),
  frequency_penalty: between(-2, 2).nullish(),
  logit_bias: z
    .record(z.string().regex(/^\d+$/, { error: 'expected token ids as keys' }), between(-100, 100), { error: 'expected an object of token id → bias' })
    .nullish(),
  user: z.string({ error: 'expected a string' }).nullish(),
  reasoning_effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh'], { error: 'expected "none", "minimal", "low", "medium", "high" or "xhigh"' }).nullish(),
  logprobs: z
    .literal(false, { error: "log-probabilities of the answer are not returned by this server (the engine keeps only a judge's first-token log-probabilities)" })
    .nullish(),
  store: z.literal(false, { error: 'this server stores no completions: leave it out or send false' }).nullish(),
  modalities: z.array(z.literal('text', { error: 'MoA answers in text only' }), { error: 'expected ["text"]' }).nullish(),
  moa: moaExtensionSchema.nullish(),
});

/** Fields applied (or checked above to be harmless, e.g. `store: false`). */
const APPLIED_FIELDS = new Set(Object.keys(chatRequestSchema.shape));

/**
 * Fields a Chat Completions client may send that this server refuses, and why. Each is named
 * in a 400 when sent (with any value but null), so a client never gets a different thing than
 * it asked for without knowing.
 */
const REFUSED_FIELDS: Record<string, string> = {
  functions: 'the deprecated functions API is not supported: send tools instead',
  function_call: 'the deprecated functions API is not supported: send tool_choice instead',
  top_logprobs: "log-probabilities of the answer are not returned by this server (the engine keeps only a judge's first-token log-probabilities)",
  verbosity: 'verbosity is not passed to the aggregator',
  service_tier: 'service tiers are not passed to the providers',
  prompt_cache_key: 'prompt cache keys are not passed to the providers',
  safety_identifier: "safety identifiers are not passed to the providers: send the end user's id as user",
  metadata: 'this server stores no completions, so it keeps no metadata',
  audio: 'MoA answers in text only',
  prediction: 'predicted outputs are not supported',
  web_search_options: 'built-in web search is not supported: give the aggregator a search tool instead',
};

export interface ChatRequest extends RunRequest {
  stream: boolean;
  includeUsage: boolean;
}

type Parts = z.infer<typeof content>;

function messageText(value: Parts | null | undefined, at: string, role: string): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  return value
    .map((part, index) => {
      const where = `${at}[${index}]`;
      if (part.type === 'text' && typeof part.text === 'string') {
        rejectUnknownFields(part, new Set(['type', 'text']), where);
        return part.text;
      }
      if (part.type === 'refusal' && role === 'assistant' && typeof part['refusal'] === 'string') return part['refusal'];
      if (part.type === 'text') throw new HttpError(400, `Missing required parameter: '${where}.text'.`, { param: `${where}.text`, code: 'missing_required_parameter' });
      if (part.type === 'image_url' || part.type === 'input_audio' || part.type === 'file') {
        throw unsupportedParameter(`${where}.type`, 'only text content parts ({ "type": "text", "text": "..." }) are supported');
      }
      throw new HttpError(400, `Invalid value for '${where}.type': expected "text".`, { param: `${where}.type`, code: 'invalid_value' });
    })
    .join('\n');
}

type ParsedMessage = z.infer<typeof messageSchema>;

/** OpenAI messages → the engine's conversation; a tool message must answer an earlier call (named by OpenAI's field names). */
function conversation(messages: ParsedMessage[]): ChatMessage[] {
  const calls = new Map<string, ToolCall>();
  return messages.map((message, index): ChatMessage => {
    const at = `messages[${index}]`;
    // A tool message's `name` (LangChain sends it) is the tool's, which the call it answers already names.
    if (isSent(message['name']) && message.role !== 'tool') throw unsupportedParameter(`${at}.name`, 'participant names are not passed to the agents; leave it out');
    if (isSent(message['function_call'])) throw unsupportedParameter(`${at}.function_call`, 'the deprecated functions API is not supported: send tool_calls');
    rejectUnknownFields(message, new Set([...MESSAGE_FIELDS, 'name', 'refusal', 'audio']), at);
    const text = messageText(message.content, `${at}.content`, message.role);
    if (message.role !== 'assistant' && isSent(message.tool_calls)) throw unsupportedParameter(`${at}.tool_calls`, 'only assistant messages carry tool calls');
    if (message.role !== 'tool' && isSent(message.tool_call_id)) throw unsupportedParameter(`${at}.tool_call_id`, 'only tool messages answer a tool call');
    if (message.role !== 'assistant' && message.role !== 'tool' && !isSent(message.content)) {
      throw new HttpError(400, `Missing required parameter: '${at}.content'.`, { param: `${at}.content`, code: 'missing_required_parameter' });
    }
    switch (message.role) {
      case 'assistant': {
        const toolCalls = (message.tool_calls ?? []).map((call) => ({ id: call.id, name: call.function.name, arguments: call.function.arguments }));
        for (const call of toolCalls) calls.set(call.id, call);
        return toolCalls.length > 0 ? { role: 'assistant', content: text, toolCalls } : { role: 'assistant', content: text };
      }
      case 'tool': {
        const id = message.tool_call_id;
        if (!isSent(id))
          throw new HttpError(400, `Missing required parameter: '${at}.tool_call_id'.`, { param: `${at}.tool_call_id`, code: 'missing_required_parameter' });
        const call = calls.get(id!);
        if (!call) {
          throw new HttpError(400, `Invalid value for '${at}.tool_call_id': "${id}" answers no tool call of an earlier assistant message.`, {
            param: `${at}.tool_call_id`,
            code: 'invalid_value',
          });
        }
        return { role: 'tool', toolCallId: id!, toolName: call.name, content: text };
      }
      case 'developer':
        return { role: 'system', content: text };
      default:
        return { role: message.role, content: text };
    }
  });
}

type ParsedRequest = z.infer<typeof chatRequestSchema>;

function toolDefinitions(tools: NonNullable<ParsedRequest['tools']>): FunctionToolDefinition[] {
  const names = new Set<string>();
  return tools.map((tool, index) => {
    const { name, description, parameters, strict } = tool.function;
    if (names.has(name))
      throw new HttpError(400, `Invalid value for 'tools[${index}].function.name': "${name}" is defined twice.`, {
        param: `tools[${index}].function.name`,
        code: 'invalid_value',
      });
    names.add(name);
    return {
      name,
      ...(description != null ? { description } : {}),
      inputSchema: parameters ?? { type: 'object', properties: {} },
      ...(strict != null ? { strict } : {}),
    };
  });
}

function toolChoiceOf(choice: NonNullable<ParsedRequest['tool_choice']>, tools: FunctionToolDefinition[]): ToolChoiceSetting {
  if (typeof choice === 'string') return choice;
  if (!tools.some((tool) => tool.name === choice.function.name)) {
    throw new HttpError(400, `Invalid value for 'tool_choice.function.name': no tool named "${choice.function.name}" in tools.`, {
      param: 'tool_choice.function.name',
      code: 'invalid_value',
    });
  }
  return { type: 'tool', toolName: choice.function.name };
}

function responseFormatOf(format: NonNullable<ParsedRequest['response_format']>): ResponseFormatSetting {
  if (format.type === 'text') return { type: 'text' };
  if (format.type === 'json_object') return { type: 'json' };
  const { name, description, schema } = format.json_schema;
  return { type: 'json', name, ...(description != null ? { description } : {}), ...(schema != null ? { schema: schema } : {}) };
}

/** The request's aggregator settings and the field each came from. */
function settingsOf(request: ParsedRequest): { settings: AggregatorSettings; params: SettingParams } {
  const tools = request.tools ? toolDefinitions(request.tools) : undefined;
  if (request.tool_choice != null && request.tool_choice !== 'none' && !tools?.length) {
    throw new HttpError(400, "Invalid value for 'tool_choice': tool_choice is only allowed when tools are given.", { param: 'tool_choice', code: 'invalid_value' });
  }
  const stop = request.stop == null ? undefined : typeof request.stop === 'string' ? [request.stop] : request.stop;
  const settings: AggregatorSettings = {
    ...(tools?.length ? { tools } : {}),
    ...(request.tool_choice != null && tools?.length ? { toolChoice: toolChoiceOf(request.tool_choice, tools) } : {}),
    ...(request.parallel_tool_calls != null ? { parallelToolCalls: request.parallel_tool_calls } : {}),
    ...(request.response_format != null && request.response_format.type !== 'text' ? { responseFormat: responseFormatOf(request.response_format) } : {}),
    ...(stop?.length ? { stopSequences: stop } : {}),
    ...(request.seed != null ? { seed: request.seed } : {}),
    ...(request.top_p != null ? { topP: request.top_p } : {}),
    ...(request.presence_penalty != null ? { presencePenalty: request.presence_penalty } : {}),
    ...(request.frequency_penalty != null ? { frequencyPenalty: request.frequency_penalty } : {}),
    ...(request.logit_bias != null ? { logitBias: request.logit_bias } : {}),
    ...(request.user != null ? { user: request.user } : {}),
    ...(request.reasoning_effort != null ? { reasoningEffort: request.reasoning_effort } : {}),
    ...(request.n != null && request.n > 1 ? { samples: request.n } : {}),
  };
  const params: SettingParams = {
    tools: 'tools',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'parallel_tool_calls',
    responseFormat: 'response_format',
    stopSequences: 'stop',
    seed: 'seed',
    topP: 'top_p',
    presencePenalty: 'presence_penalty',
    frequencyPenalty: 'frequency_penalty',
    logitBias: 'logit_bias',
    user: 'user',
    reasoningEffort: 'reasoning_effort',
    samples: 'n',
  };
  return { settings, params };
}

/** Parse the raw body text of a chat request; throws HttpError (400) naming the bad field. */
export function parseChatRequest(text: string, limits: RequestLimits, headers?: { details?: string | undefined }): ChatRequest {
  const body = parseJsonObject(text, '{ "model": "...", "messages": [...] }');
  checkListLength(body, 'messages', limits);
  const request = validate(chatRequestSchema, body);
  refuseFields(body, APPLIED_FIELDS, REFUSED_FIELDS);
  const messages = conversation(request.messages);
  const maxTokens = request.max_completion_tokens ?? request.max_tokens ?? undefined;
  const { settings, params } = settingsOf(request);
  return {
    model: request.model,
    messages,
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(Object.keys(settings).length > 0 ? { settings, params } : {}),
    ...(request.moa?.toolLoop != null ? { toolLoop: request.moa.toolLoop } : {}),
    ...(request.moa?.draft === true ? { draft: true } : {}),
    stream: request.stream === true,
    includeUsage: request.stream_options?.include_usage === true,
    details: request.moa?.details === true || detailsHeader(headers?.details),
  };
}

/** `X-MoA-Details: true` (or 1, yes) asks for the `moa` extension, like `"moa": { "details": true }`. */
export function detailsHeader(value: string | undefined): boolean {
  return value !== undefined && /^(1|true|yes)$/i.test(value.trim());
}
