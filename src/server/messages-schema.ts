/**
 * The Anthropic Messages API request contract (`POST /v1/messages`): `system`, `messages` with
 * content blocks, `max_tokens` (required, as Anthropic requires it), streaming. Every field is
 * applied to the run (the aggregator's settings) or refused with a 400 naming it.
 */
import { z } from 'zod';
import type { ChatMessage } from '../core/events.js';
import { HttpError } from './openai-errors.js';
import type { ToolCall } from '../core/events.js';
import type { FunctionToolDefinition, ToolChoiceSetting } from '../models/call-settings.js';
import type { AggregatorSettings, SettingParams, ThinkingSetting } from '../core/aggregator-settings.js';
import { detailsHeader, moaExtensionSchema } from './openai-schema.js';
import { checkListLength, parseJsonObject, refuseFields, rejectUnknownFields, unsupportedParameter, validate, type RequestLimits } from './request-validation.js';

/** `cache_control` is a hint to Anthropic's prompt cache: accepted on any block, with no effect here (documented). */
const cacheControl = z.looseObject({ type: z.string() }).nullish();

const textBlock = z.strictObject({
  type: z.literal('text'),
  text: z.string({ error: 'expected the text as a string' }),
  cache_control: cacheControl,
  citations: z.array(z.unknown()).max(0, { error: 'citations are not supported' }).nullish(),
});

const toolDefinition = z.strictObject({
  type: z
    .literal('custom', { error: 'only client tools (name, description, input_schema) are supported: no server tools (web search, code execution, bash, text editor …)' })
    .nullish(),
  name: z.string({ error: 'expected the tool name as a string' }).regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected a name of letters, digits, _ and - (at most 64)' }),
  description: z.string({ error: 'expected a string' }).nullish(),
  input_schema: z.looseObject({ type: z.literal('object', { error: 'expected an object schema' }) }, { error: 'expected a JSON Schema object' }),
  cache_control: cacheControl,
  strict: z.boolean({ error: 'expected true or false' }).nullish(),
});

const toolChoice = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('auto'), disable_parallel_tool_use: z.boolean().nullish() }),
    z.strictObject({ type: z.literal('any'), disable_parallel_tool_use: z.boolean().nullish() }),
    z.strictObject({ type: z.literal('tool'), name: z.string(), disable_parallel_tool_use: z.boolean().nullish() }),
    z.strictObject({ type: z.literal('none') }),
  ],
  { error: 'expected { "type": "auto" | "any" | "tool" | "none" }' },
);

const thinking = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('enabled'), budget_tokens: z.number().int().positive(), display: z.string().nullish() }),
    z.strictObject({ type: z.literal('adaptive'), display: z.string().nullish() }),
    z.strictObject({ type: z.literal('disabled') }),
  ],
  { error: 'expected { "type": "enabled", "budget_tokens": N }, { "type": "adaptive" } or { "type": "disabled" }' },
);

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
  tools: z.array(toolDefinition, { error: 'expected an array of tools' }).nullish(),
  tool_choice: toolChoice.nullish(),
  top_p: z
    .number({ error: 'expected a number between 0 and 1' })
    .min(0, { error: 'expected a number between 0 and 1' })
    .max(1, { error: 'expected a number between 0 and 1' })
    .nullish(),
  top_k: z
    .number({ error: 'expected a positive whole number' })
    .int({ error: 'expected a positive whole number' })
    .positive({ error: 'expected a positive whole number' })
    .nullish(),
  stop_sequences: z.array(z.string({ error: 'expected strings' }), { error: 'expected an array of strings' }).nullish(),
  metadata: z.strictObject({ user_id: z.string({ error: 'expected a string' }).nullish() }, { error: 'expected { "user_id": "…" }' }).nullish(),
  thinking: thinking.nullish(),
  output_config: z
    .strictObject({
      effort: z.enum(['low', 'medium', 'high', 'xhigh', 'max'], { error: 'expected "low", "medium", "high", "xhigh" or "max"' }).nullish(),
      format: z.strictObject({ type: z.literal('json_schema'), schema: z.record(z.string(), z.unknown(), { error: 'expected a JSON Schema object' }) }).nullish(),
    })
    .nullish(),
  /** Anthropic's prompt-cache hint: accepted, no effect here (documented). */
  cache_control: cacheControl,
  moa: moaExtensionSchema.nullish(),
});

const APPLIED_FIELDS = new Set(Object.keys(messagesRequestSchema.shape));

const REFUSED_FIELDS: Record<string, string> = {
  service_tier: 'service tiers are not passed to the providers',
  container: 'containers (code execution) are not supported',
  mcp_servers: 'remote MCP servers are not supported: give the client the tools instead',
  context_management: 'context management is not supported',
  inference_geo: 'inference regions are not passed to the providers',
  speed: 'speed modes are not passed to the providers',
  diagnostics: 'diagnostics are not returned by this server',
};

export interface MessagesRequest {
  model: string;
  messages: ChatMessage[];
  maxTokens: number;
  temperature?: number;
  stream: boolean;
  settings?: AggregatorSettings;
  params?: SettingParams;
  toolLoop?: 'reuse' | 'rerun';
  details: boolean;
}

type Block = Record<string, unknown>;

function textBlocks(content: string | Block[], at: (index: number) => string, prefix: (index: number) => PropertyKey[]): string {
  if (typeof content === 'string') return content;
  return content
    .map((block, index) => {
      const type = block['type'];
      if (type === 'text') return validate(textBlock, block, prefix(index)).text;
      if (type === 'image' || type === 'document' || type === 'search_result') throw unsupportedParameter(`${at(index)}.type`, 'only text content is supported');
      throw new HttpError(400, `Invalid value for '${at(index)}.type': expected "text".`, { param: `${at(index)}.type`, code: 'invalid_value' });
    })
    .join('\n');
}

const toolUseBlock = z.strictObject({
  type: z.literal('tool_use'),
  id: z.string({ error: 'expected the tool use id as a string' }).min(1),
  name: z.string({ error: 'expected the tool name as a string' }),
  input: z.unknown(),
  cache_control: cacheControl,
});

const toolResultBlock = z.strictObject({
  type: z.literal('tool_result'),
  tool_use_id: z.string({ error: 'expected the id of the tool use this answers' }),
  content: z.union([z.string(), z.array(z.looseObject({ type: z.string() }))], { error: 'expected a string or an array of text blocks' }).nullish(),
  is_error: z.boolean({ error: 'expected true or false' }).nullish(),
  cache_control: cacheControl,
});

/** Anthropic messages (content blocks, tool_use in assistant turns, tool_result in user turns) → the engine's conversation. */
function conversation(messages: Array<{ role: 'user' | 'assistant'; content: unknown }>): ChatMessage[] {
  const turns: ChatMessage[] = [];
  const calls = new Map<string, string>();
  messages.forEach((message, index) => {
    rejectUnknownFields(message, new Set(['role', 'content']), `messages[${index}]`);
    const at = (block: number): string => `messages[${index}].content[${block}]`;
    const prefix = (block: number): PropertyKey[] => ['messages', index, 'content', block];
    if (typeof message.content === 'string') {
      turns.push({ role: message.role, content: message.content });
      return;
    }
    const blocks = message.content as Block[];
    const text: string[] = [];
    const toolCalls: ToolCall[] = [];
    blocks.forEach((block, position) => {
      const type = block['type'];
      if (type === 'text') text.push(validate(textBlock, block, prefix(position)).text);
      else if (type === 'tool_use') {
        if (message.role !== 'assistant') throw unsupportedParameter(`${at(position)}.type`, 'tool_use blocks belong in assistant messages');
        const use = validate(toolUseBlock, block, prefix(position));
        calls.set(use.id, use.name);
        toolCalls.push({ id: use.id, name: use.name, arguments: JSON.stringify(use.input ?? {}) });
      } else if (type === 'tool_result') {
        if (message.role !== 'user') throw unsupportedParameter(`${at(position)}.type`, 'tool_result blocks belong in user messages');
        const result = validate(toolResultBlock, block, prefix(position));
        const name = calls.get(result.tool_use_id);
        if (name === undefined) {
          throw new HttpError(
            400,
            `Invalid value for '${at(position)}.tool_use_id': "${result.tool_use_id}" answers no tool_use block of an earlier assistant message.`,
            {
              param: `${at(position)}.tool_use_id`,
              code: 'invalid_value',
            },
          );
        }
        const output =
          result.content == null
            ? ''
            : textBlocks(
                result.content,
                (inner) => `${at(position)}.content[${inner}]`,
                (inner) => [...prefix(position), 'content', inner],
              );
        // The engine's tool message has no error flag: the result says so in words.
        turns.push({ role: 'tool', toolCallId: result.tool_use_id, toolName: name, content: result.is_error ? `(the tool reported an error) ${output}` : output });
      } else if ((type === 'thinking' || type === 'redacted_thinking') && message.role === 'assistant') {
        // An earlier answer's thinking is the model's scratch work, not part of the conversation (documented).
      } else if (type === 'image' || type === 'document' || type === 'search_result') {
        throw unsupportedParameter(`${at(position)}.type`, 'only text content is supported');
      } else {
        throw new HttpError(400, `Invalid value for '${at(position)}.type': expected "text", "tool_use" or "tool_result".`, {
          param: `${at(position)}.type`,
          code: 'invalid_value',
        });
      }
    });
    if (message.role === 'assistant') {
      turns.push(toolCalls.length > 0 ? { role: 'assistant', content: text.join(''), toolCalls } : { role: 'assistant', content: text.join('') });
    } else if (text.length > 0 || !blocks.some((block) => block['type'] === 'tool_result')) {
      turns.push({ role: 'user', content: text.join('\n') });
    }
  });
  return turns;
}

type ParsedRequest = z.infer<typeof messagesRequestSchema>;

function settingsOf(request: ParsedRequest): { settings: AggregatorSettings; params: SettingParams } {
  const names = new Set<string>();
  const tools: FunctionToolDefinition[] = (request.tools ?? []).map((tool, index) => {
    if (names.has(tool.name))
      throw new HttpError(400, `Invalid value for 'tools[${index}].name': "${tool.name}" is defined twice.`, { param: `tools[${index}].name`, code: 'invalid_value' });
    names.add(tool.name);
    return {
      name: tool.name,
      ...(tool.description != null ? { description: tool.description } : {}),
      inputSchema: Object.fromEntries(Object.entries(tool.input_schema)),
      ...(tool.strict != null ? { strict: tool.strict } : {}),
    };
  });
  const choice = request.tool_choice;
  if (choice != null && choice.type !== 'none' && tools.length === 0) {
    throw new HttpError(400, "Invalid value for 'tool_choice': tool_choice is only allowed when tools are given.", { param: 'tool_choice', code: 'invalid_value' });
  }
  let toolChoice: ToolChoiceSetting | undefined;
  if (choice?.type === 'auto') toolChoice = 'auto';
  else if (choice?.type === 'any') toolChoice = 'required';
  else if (choice?.type === 'none') toolChoice = 'none';
  else if (choice?.type === 'tool') {
    if (!names.has(choice.name))
      throw new HttpError(400, `Invalid value for 'tool_choice.name': no tool named "${choice.name}" in tools.`, { param: 'tool_choice.name', code: 'invalid_value' });
    toolChoice = { type: 'tool', toolName: choice.name };
  }
  const oneAtATime = choice != null && choice.type !== 'none' && choice.disable_parallel_tool_use === true;
  const format = request.output_config?.format;
  const thinkingSetting: ThinkingSetting | undefined =
    request.thinking?.type === 'enabled'
      ? { type: 'enabled', budgetTokens: request.thinking.budget_tokens }
      : request.thinking?.type === 'adaptive'
        ? { type: 'adaptive' }
        : undefined;
  const settings: AggregatorSettings = {
    ...(tools.length > 0 ? { tools } : {}),
    ...(toolChoice !== undefined && tools.length > 0 ? { toolChoice } : {}),
    ...(oneAtATime ? { parallelToolCalls: false } : {}),
    ...(format ? { responseFormat: { type: 'json', schema: format.schema } } : {}),
    ...(request.stop_sequences?.length ? { stopSequences: request.stop_sequences } : {}),
    ...(request.top_p != null ? { topP: request.top_p } : {}),
    ...(request.top_k != null ? { topK: request.top_k } : {}),
    ...(request.metadata?.user_id != null ? { user: request.metadata.user_id } : {}),
    ...(request.output_config?.effort != null ? { reasoningEffort: request.output_config.effort } : {}),
    ...(thinkingSetting ? { thinking: thinkingSetting } : {}),
  };
  const params: SettingParams = {
    tools: 'tools',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'tool_choice.disable_parallel_tool_use',
    responseFormat: 'output_config.format',
    stopSequences: 'stop_sequences',
    topP: 'top_p',
    topK: 'top_k',
    user: 'metadata.user_id',
    reasoningEffort: 'output_config.effort',
    thinking: 'thinking',
  };
  return { settings, params };
}

export function parseMessagesRequest(text: string, limits: RequestLimits, headers?: { details?: string | undefined }): MessagesRequest {
  const body = parseJsonObject(text, '{ "model": "...", "max_tokens": 1024, "messages": [...] }');
  checkListLength(body, 'messages', limits);
  const request = validate(messagesRequestSchema, body);
  refuseFields(body, APPLIED_FIELDS, REFUSED_FIELDS);
  const messages: ChatMessage[] = [];
  if (request.system != null) {
    const system = typeof request.system === 'string' ? request.system : request.system.map((block) => block.text).join('\n');
    if (system.trim() !== '') messages.push({ role: 'system', content: system });
  }
  messages.push(...conversation(request.messages));
  // Named here, in the request's terms (the engine's list has the system message in front).
  const lastIndex = request.messages.length - 1;
  if (request.messages[lastIndex]!.role === 'assistant') {
    throw new HttpError(
      400,
      `Invalid value for 'messages[${lastIndex}].role': a final assistant message (a prefill) is not supported: MoA writes the whole answer, so the last message must be the user's.`,
      {
        param: `messages[${lastIndex}].role`,
        code: 'invalid_input',
      },
    );
  }
  const { settings, params } = settingsOf(request);
  return {
    model: request.model,
    messages,
    maxTokens: request.max_tokens,
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    stream: request.stream === true,
    ...(Object.keys(settings).length > 0 ? { settings, params } : {}),
    ...(request.moa?.toolLoop != null ? { toolLoop: request.moa.toolLoop } : {}),
    details: request.moa?.details === true || detailsHeader(headers?.details),
  };
}
