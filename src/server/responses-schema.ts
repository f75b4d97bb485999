/**
 * The Responses API request contract (`POST /v1/responses`): input as a string or as items,
 * `instructions`, `previous_response_id`, streaming. Every field is applied to the run (the
 * aggregator's settings) or refused with a 400 naming it, like the Chat Completions contract.
 */
import { z } from 'zod';
import type { ChatMessage } from '../core/events.js';
import { HttpError } from './openai-errors.js';
import type { FunctionToolDefinition, ResponseFormatSetting, ToolChoiceSetting } from '../models/call-settings.js';
import type { AggregatorSettings, SettingParams } from '../core/aggregator-settings.js';
import { detailsHeader, moaExtensionSchema } from './openai-schema.js';
import { checkListLength, isSent, parseJsonObject, refuseFields, rejectUnknownFields, unsupportedParameter, validate, type RequestLimits } from './request-validation.js';

const functionTool = z.strictObject({
  type: z.literal('function', { error: 'only function tools are supported (no hosted tools: web search, file search, code interpreter, MCP …)' }),
  name: z
    .string({ error: 'expected the function name as a string' })
    .regex(/^[A-Za-z0-9_-]{1,64}$/, { error: 'expected a name of letters, digits, _ and - (at most 64)' }),
  description: z.string({ error: 'expected a string' }).nullish(),
  parameters: z.record(z.string(), z.unknown(), { error: 'expected a JSON Schema object' }).nullish(),
  strict: z.boolean({ error: 'expected true or false' }).nullish(),
});

const textFormat = z.discriminatedUnion(
  'type',
  [
    z.strictObject({ type: z.literal('text') }),
    z.strictObject({ type: z.literal('json_object') }),
    z.strictObject({
      type: z.literal('json_schema'),
      name: z.string({ error: 'expected the schema name as a string' }),
      description: z.string().nullish(),
      schema: z.record(z.string(), z.unknown(), { error: 'expected a JSON Schema object' }),
      strict: z.boolean({ error: 'expected true or false' }).nullish(),
    }),
  ],
  { error: 'expected { "type": "text" }, { "type": "json_object" } or { "type": "json_schema", "name": …, "schema": { … } }' },
);

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
  stream_options: z.strictObject({ include_obfuscation: z.literal(false, { error: 'obfuscation padding is not sent by this server' }).nullish() }).nullish(),
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
      format: textFormat.nullish(),
      verbosity: z.null({ error: 'verbosity is not passed to the aggregator' }).optional(),
    })
    .nullish(),
  tools: z.array(functionTool, { error: 'expected an array of function tools' }).nullish(),
  tool_choice: z
    .union([z.enum(['none', 'auto', 'required']), z.strictObject({ type: z.literal('function'), name: z.string() })], {
      error: 'expected "none", "auto", "required" or { "type": "function", "name": … }',
    })
    .nullish(),
  parallel_tool_calls: z.boolean({ error: 'expected true or false' }).nullish(),
  top_p: z
    .number({ error: 'expected a number between 0 and 1' })
    .min(0, { error: 'expected a number between 0 and 1' })
    .max(1, { error: 'expected a number between 0 and 1' })
    .nullish(),
  user: z.string({ error: 'expected a string' }).nullish(),
  reasoning: z
    .strictObject({
      effort: z.enum(['none', 'minimal', 'low', 'medium', 'high', 'xhigh'], { error: 'expected "none", "minimal", "low", "medium", "high" or "xhigh"' }).nullish(),
      summary: z.null({ error: 'reasoning summaries are not returned by this server' }).optional(),
      generate_summary: z.null({ error: 'reasoning summaries are not returned by this server' }).optional(),
    })
    .nullish(),
  truncation: z.literal('disabled', { error: 'only "disabled" is supported (the whole conversation goes to every agent)' }).nullish(),
  background: z.literal(false, { error: 'background responses are not supported: stream instead' }).nullish(),
  include: z.array(z.never({ error: 'this server returns no extra output data' })).nullish(),
  moa: moaExtensionSchema.nullish(),
});

const APPLIED_FIELDS = new Set(Object.keys(responsesRequestSchema.shape));

const REFUSED_FIELDS: Record<string, string> = {
  max_tool_calls: 'a limit on tool calls is not applied (the client runs its own tool loop)',
  top_logprobs: "log-probabilities of the answer are not returned by this server (the engine keeps only a judge's first-token log-probabilities)",
  prompt: 'stored prompt templates are not supported: send input and instructions',
  conversation: 'conversations are not stored by this server: use previous_response_id',
  service_tier: 'service tiers are not passed to the providers',
  prompt_cache_key: 'prompt cache keys are not passed to the providers',
  safety_identifier: "safety identifiers are not passed to the providers: send the end user's id as user",
};

export interface ResponsesRequest {
  model: string;
  /** The new input as conversation turns (earlier turns come from `previousResponseId`); tool results' names are filled in later. */
  input: ChatMessage[];
  /** The request field each input turn came from (`input[3]`), for errors found once the history is known. */
  inputPaths: string[];
  instructions?: string;
  previousResponseId?: string;
  stream: boolean;
  temperature?: number;
  maxTokens?: number;
  store: boolean;
  metadata: Record<string, string>;
  settings?: AggregatorSettings;
  params?: SettingParams;
  toolLoop?: 'reuse' | 'rerun';
  /** What the response object echoes back: tools, tool_choice, parallel_tool_calls, text, top_p, user, reasoning. */
  echo: { tools: unknown[]; tool_choice: unknown; parallel_tool_calls: boolean; text: unknown; top_p: number | null; user: string | null; reasoning: unknown };
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
        if (typeof text !== 'string')
          throw new HttpError(400, `Invalid value for '${where}.text': expected a string.`, { param: `${where}.text`, code: 'invalid_value' });
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

/** Input items → conversation turns, with the field each came from. */
function inputTurns(input: string | unknown[]): { turns: ChatMessage[]; paths: string[] } {
  if (typeof input === 'string') return { turns: [{ role: 'user', content: input }], paths: ['input'] };
  const turns: ChatMessage[] = [];
  const paths: string[] = [];
  input.forEach((item: unknown, index) => {
    const at = `input[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item)) {
      throw new HttpError(400, `Invalid value for '${at}': expected an input item object.`, { param: at, code: 'invalid_value' });
    }
    const record = item as Part;
    const type = record['type'] ?? 'message';
    const text = (field: string): string => {
      const value = record[field];
      if (typeof value !== 'string') {
        throw new HttpError(
          400,
          `${isSent(value) ? 'Invalid value for' : 'Missing required parameter:'} '${at}.${field}'${isSent(value) ? ': expected a string' : ''}.`,
          {
            param: `${at}.${field}`,
            code: isSent(value) ? 'invalid_value' : 'missing_required_parameter',
          },
        );
      }
      return value;
    };
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
      turns.push({ role: role === 'developer' ? 'system' : (role as 'system' | 'user' | 'assistant'), content });
      paths.push(at);
      return;
    }
    if (type === 'function_call') {
      rejectUnknownFields(record, new Set(['type', 'call_id', 'name', 'arguments', 'id', 'status']), at);
      const call = { id: text('call_id'), name: text('name'), arguments: text('arguments') };
      // Calls right after the assistant's text (or after other calls) belong to that same assistant turn.
      const previous = turns[turns.length - 1];
      if (previous?.role === 'assistant') previous.toolCalls = [...(previous.toolCalls ?? []), call];
      else {
        turns.push({ role: 'assistant', content: '', toolCalls: [call] });
        paths.push(at);
      }
      return;
    }
    if (type === 'function_call_output') {
      rejectUnknownFields(record, new Set(['type', 'call_id', 'output', 'id', 'status']), at);
      const output = record['output'];
      if (!isSent(output)) throw new HttpError(400, `Missing required parameter: '${at}.output'.`, { param: `${at}.output`, code: 'missing_required_parameter' });
      turns.push({ role: 'tool', toolCallId: text('call_id'), toolName: '', content: textOfParts(output, `${at}.output`, 'user') });
      paths.push(`${at}.call_id`);
      return;
    }
    throw unsupportedParameter(`${at}.type`, `input items of type "${String(type)}" are not supported (messages, function_call and function_call_output are)`);
  });
  return { turns, paths };
}

type ParsedRequest = z.infer<typeof responsesRequestSchema>;

function settingsOf(request: ParsedRequest): { settings: AggregatorSettings; params: SettingParams } {
  const names = new Set<string>();
  const tools: FunctionToolDefinition[] = (request.tools ?? []).map((tool, index) => {
    if (names.has(tool.name))
      throw new HttpError(400, `Invalid value for 'tools[${index}].name': "${tool.name}" is defined twice.`, { param: `tools[${index}].name`, code: 'invalid_value' });
    names.add(tool.name);
    return {
      name: tool.name,
      ...(tool.description != null ? { description: tool.description } : {}),
      inputSchema: tool.parameters ?? { type: 'object', properties: {} },
      ...(tool.strict != null ? { strict: tool.strict } : {}),
    };
  });
  const choice = request.tool_choice;
  if (choice != null && choice !== 'none' && tools.length === 0) {
    throw new HttpError(400, "Invalid value for 'tool_choice': tool_choice is only allowed when tools are given.", { param: 'tool_choice', code: 'invalid_value' });
  }
  let toolChoice: ToolChoiceSetting | undefined;
  if (typeof choice === 'string') toolChoice = choice;
  else if (choice != null) {
    if (!names.has(choice.name))
      throw new HttpError(400, `Invalid value for 'tool_choice.name': no tool named "${choice.name}" in tools.`, { param: 'tool_choice.name', code: 'invalid_value' });
    toolChoice = { type: 'tool', toolName: choice.name };
  }
  const format = request.text?.format;
  let responseFormat: ResponseFormatSetting | undefined;
  if (format?.type === 'json_object') responseFormat = { type: 'json' };
  else if (format?.type === 'json_schema') {
    responseFormat = { type: 'json', name: format.name, schema: format.schema, ...(format.description != null ? { description: format.description } : {}) };
  }
  const settings: AggregatorSettings = {
    ...(tools.length > 0 ? { tools } : {}),
    ...(toolChoice !== undefined && tools.length > 0 ? { toolChoice } : {}),
    ...(request.parallel_tool_calls != null ? { parallelToolCalls: request.parallel_tool_calls } : {}),
    ...(responseFormat ? { responseFormat } : {}),
    ...(request.top_p != null ? { topP: request.top_p } : {}),
    ...(request.user != null ? { user: request.user } : {}),
    ...(request.reasoning?.effort != null ? { reasoningEffort: request.reasoning.effort } : {}),
  };
  const params: SettingParams = {
    tools: 'tools',
    toolChoice: 'tool_choice',
    parallelToolCalls: 'parallel_tool_calls',
    responseFormat: 'text.format',
    topP: 'top_p',
    user: 'user',
    reasoningEffort: 'reasoning.effort',
  };
  return { settings, params };
}

export function parseResponsesRequest(text: string, limits: RequestLimits, headers?: { details?: string | undefined }): ResponsesRequest {
  const body = parseJsonObject(text, '{ "model": "...", "input": "..." }');
  checkListLength(body, 'input', limits);
  const request = validate(responsesRequestSchema, body);
  refuseFields(body, APPLIED_FIELDS, REFUSED_FIELDS);
  const { turns, paths } = inputTurns(request.input);
  // Named here, in the request's terms: the engine would name its own message list.
  const last = turns[turns.length - 1];
  if (!last) throw new HttpError(400, "Invalid value for 'input': must contain at least one item.", { param: 'input', code: 'invalid_value' });
  if (last.role !== 'user' && last.role !== 'tool') {
    const param = paths[paths.length - 1] ?? 'input';
    throw new HttpError(400, `Invalid value for '${param}': the input must end with a user message or a function_call_output (found a ${last.role} turn).`, {
      param,
      code: 'invalid_input',
    });
  }
  const { settings, params } = settingsOf(request);
  return {
    model: request.model,
    input: turns,
    inputPaths: paths,
    ...(request.instructions != null ? { instructions: request.instructions } : {}),
    ...(request.previous_response_id != null ? { previousResponseId: request.previous_response_id } : {}),
    stream: request.stream === true,
    ...(request.temperature != null ? { temperature: request.temperature } : {}),
    ...(request.max_output_tokens != null ? { maxTokens: request.max_output_tokens } : {}),
    store: request.store !== false,
    metadata: request.metadata ?? {},
    ...(Object.keys(settings).length > 0 ? { settings, params } : {}),
    ...(request.moa?.toolLoop != null ? { toolLoop: request.moa.toolLoop } : {}),
    echo: {
      tools: (request.tools ?? []).map((tool) => ({ ...tool, strict: tool.strict ?? true, description: tool.description ?? null, parameters: tool.parameters ?? null })),
      tool_choice: request.tool_choice ?? 'auto',
      parallel_tool_calls: request.parallel_tool_calls ?? true,
      text: { format: request.text?.format ?? { type: 'text' } },
      top_p: request.top_p ?? null,
      user: request.user ?? null,
      reasoning: { effort: request.reasoning?.effort ?? null, summary: null },
    },
    details: request.moa?.details === true || detailsHeader(headers?.details),
  };
}
