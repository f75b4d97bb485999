/**
 * `POST /v1/responses` (OpenAI's Responses API) on the MoA engine: the default of
 * `@ai-sdk/openai`'s `openai(model)`, of `@openai/agents` and of LangChain's `useResponsesApi`.
 *
 * - The conversation is the stored one of `previous_response_id` (this server's memory,
 *   response-store.ts), then the new input items; `instructions` become the system message of
 *   this response only (OpenAI does not carry them over either).
 * - Not streamed: one `response` object. Streamed: the typed events, each as
 *   `event: <type>` + `data:` with a `sequence_number`: `response.created`, `response.in_progress`,
 *   `response.output_item.added`, `response.content_part.added`, `response.output_text.delta`…,
 *   `response.output_text.done`, `response.content_part.done`, `response.output_item.done`,
 *   then `response.completed` (`response.incomplete` when the aggregator hit
 *   `max_output_tokens`) or `response.failed`.
 * - `usage` counts every agent of every layer, as on /v1/chat/completions.
 */
import type { Context } from 'hono';
import type { ChatMessage, ToolCall } from '../core/events.js';
import type { MoAResult } from '../core/reducer.js';
import { streamAnswer, type FaceOptions } from './answer-stream.js';
import type { EventStream } from './event-stream.js';
import { HttpError, runFailureError } from './openai-errors.js';
import type { ResponseStore } from './response-store.js';
import type { ResponsesRequest } from './responses-schema.js';
import { aggregatorFinishReason, moaDetails, RUN_ID_HEADER, settledResult } from './run-outcome.js';
import type { RunRequest } from './run-request.js';
import { startRun } from './start-run.js';

export interface ResponsesOptions extends FaceOptions {
  responses: ResponseStore;
}

type Json = Record<string, unknown>;

function idPart(runId: string): string {
  return runId.replace(/^run_/, '').replace(/-/g, '');
}

/**
 * The earlier turns (of `previous_response_id`) and this request's. A `function_call_output`
 * must answer a call made earlier in that conversation; its tool's name is taken from the call.
 */
function conversationOf(request: ResponsesRequest, store: ResponseStore): ChatMessage[] {
  let history: ChatMessage[] = [];
  if (request.previousResponseId !== undefined) {
    const previous = store.get(request.previousResponseId);
    if (!previous) {
      throw new HttpError(
        404,
        `Previous response with id '${request.previousResponseId}' not found: this server keeps its recent responses in memory only (not across restarts, and none made with store: false); send the whole conversation as input instead.`,
        { param: 'previous_response_id', code: 'previous_response_not_found' },
      );
    }
    history = previous.conversation;
  }
  const calls = new Map<string, string>();
  for (const turn of history) if (turn.role === 'assistant') for (const call of turn.toolCalls ?? []) calls.set(call.id, call.name);
  const input = request.input.map((turn, index): ChatMessage => {
    if (turn.role === 'assistant') for (const call of turn.toolCalls ?? []) calls.set(call.id, call.name);
    if (turn.role !== 'tool') return turn;
    const name = calls.get(turn.toolCallId);
    if (name === undefined) {
      const param = request.inputPaths[index] ?? 'input';
      throw new HttpError(400, `Invalid value for '${param}': "${turn.toolCallId}" answers no function_call earlier in the conversation.`, {
        param,
        code: 'invalid_value',
      });
    }
    return { ...turn, toolName: name };
  });
  return [...history, ...input];
}

interface ResponseShape {
  id: string;
  messageId: string;
  created: number;
  request: ResponsesRequest;
}

function usageOf(result: MoAResult): Json {
  return {
    input_tokens: result.usage.inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: result.usage.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: result.usage.inputTokens + result.usage.outputTokens,
  };
}

function textPart(text: string): Json {
  return { type: 'output_text', text, annotations: [], logprobs: [] };
}

function messageItem(shape: ResponseShape, status: 'in_progress' | 'completed' | 'incomplete', text?: string): Json {
  return { id: shape.messageId, type: 'message', status, role: 'assistant', content: text === undefined ? [] : [textPart(text)] };
}

function callItemId(shape: ResponseShape, index: number): string {
  return `fc_${shape.id.slice('resp_'.length)}_${index}`;
}

function functionCallItem(shape: ResponseShape, index: number, call: ToolCall, status: 'in_progress' | 'completed'): Json {
  return { type: 'function_call', id: callItemId(shape, index), call_id: call.id, name: call.name, arguments: call.arguments, status };
}

/** The output items of a finished answer: its text as a message (when there is text), then its function calls. */
function outputItems(shape: ResponseShape, result: MoAResult, status: 'completed' | 'incomplete'): Json[] {
  const calls = result.toolCalls ?? [];
  return [
    ...(result.text !== '' || calls.length === 0 ? [messageItem(shape, status, result.text)] : []),
    ...calls.map((call, index) => functionCallItem(shape, index, call, 'completed')),
  ];
}

/** The `response` object in a given state. */
function responseObject(shape: ResponseShape, state: { status: string; output: Json[]; result?: MoAResult; error?: HttpError }): Json {
  const { request } = shape;
  const incomplete = state.status === 'incomplete';
  return {
    id: shape.id,
    object: 'response',
    created_at: shape.created,
    status: state.status,
    background: false,
    error: state.error ? { code: state.error.code ?? 'server_error', message: state.error.toBody().error.message } : null,
    incomplete_details: incomplete ? { reason: 'max_output_tokens' } : null,
    instructions: request.instructions ?? null,
    max_output_tokens: request.maxTokens ?? null,
    model: request.model,
    output: state.output,
    parallel_tool_calls: request.echo.parallel_tool_calls,
    previous_response_id: request.previousResponseId ?? null,
    reasoning: request.echo.reasoning,
    store: request.store,
    temperature: request.temperature ?? null,
    text: request.echo.text,
    tool_choice: request.echo.tool_choice,
    tools: request.echo.tools,
    top_p: request.echo.top_p,
    truncation: 'disabled',
    usage: state.result ? usageOf(state.result) : null,
    user: request.echo.user,
    metadata: request.metadata,
    ...(request.details && state.result ? { moa: moaDetails(state.result) } : {}),
  };
}

function finishedStatus(result: MoAResult): 'completed' | 'incomplete' {
  return (result.finishReason ?? aggregatorFinishReason(result)) === 'length' ? 'incomplete' : 'completed';
}

function remember(options: ResponsesOptions, shape: ResponseShape, body: Json, conversation: ChatMessage[], result?: MoAResult): void {
  if (!shape.request.store) return;
  const answer: ChatMessage | undefined =
    result && result.status === 'done' ? { role: 'assistant', content: result.text, ...(result.toolCalls?.length ? { toolCalls: result.toolCalls } : {}) } : undefined;
  options.responses.set(shape.id, { body, conversation: answer ? [...conversation, answer] : conversation });
}

export async function createResponse(context: Context, request: ResponsesRequest, options: ResponsesOptions): Promise<Response> {
  const conversation = conversationOf(request, options.responses);
  const runRequest: RunRequest = {
    model: request.model,
    messages: request.instructions !== undefined ? [{ role: 'system', content: request.instructions }, ...conversation] : conversation,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
    ...(request.settings ? { settings: request.settings, params: request.params ?? {} } : {}),
    ...(request.toolLoop ? { toolLoop: request.toolLoop } : {}),
    details: request.details,
  };
  const created = options.now();
  const shapeOf = (runId: string): ResponseShape => ({ id: `resp_${idPart(runId)}`, messageId: `msg_${idPart(runId)}`, created, request });

  if (!request.stream) {
    const { run } = startRun(options, runRequest, 'none', context.req.raw.signal);
    const result = await settledResult(run.result);
    const shape = shapeOf(run.runId);
    if (result.status !== 'done') {
      const error = runFailureError(result, options.shuttingDown());
      remember(options, shape, responseObject(shape, { status: 'failed', output: [], result, error }), conversation);
      throw error;
    }
    const status = finishedStatus(result);
    const body = responseObject(shape, { status, output: outputItems(shape, result, status), result });
    remember(options, shape, body, conversation, result);
    return context.json(body, 200, { [RUN_ID_HEADER]: run.runId });
  }

  return streamAnswer(context, options, runRequest, (run) => {
    const shape = shapeOf(run.runId);
    let sequence = 0;
    const send = (stream: EventStream, type: string, fields: Json): void => {
      stream.event(type, JSON.stringify({ type, sequence_number: sequence++, ...fields }));
    };
    // Output items in the order they opened; each is closed when the next opens, or at the end.
    interface OpenItem {
      outputIndex: number;
      kind: 'message' | 'call';
      callIndex: number;
      call?: ToolCall;
      text: string;
      closed: boolean;
    }
    const items: OpenItem[] = [];
    let message: OpenItem | undefined;
    const calls = new Map<number, OpenItem>();
    const closeItem = (stream: EventStream, item: OpenItem, status: 'completed' | 'incomplete'): void => {
      if (item.closed) return;
      item.closed = true;
      if (item.kind === 'message') {
        const where = { item_id: shape.messageId, output_index: item.outputIndex, content_index: 0 };
        send(stream, 'response.output_text.done', { ...where, text: item.text, logprobs: [] });
        send(stream, 'response.content_part.done', { ...where, part: textPart(item.text) });
        send(stream, 'response.output_item.done', { output_index: item.outputIndex, item: messageItem(shape, status, item.text) });
      } else {
        const call = item.call!;
        const id = callItemId(shape, item.callIndex);
        send(stream, 'response.function_call_arguments.done', { item_id: id, output_index: item.outputIndex, name: call.name, arguments: call.arguments });
        send(stream, 'response.output_item.done', { output_index: item.outputIndex, item: functionCallItem(shape, item.callIndex, call, 'completed') });
      }
    };
    const open = (stream: EventStream, item: OpenItem): void => {
      const previous = items[items.length - 1];
      if (previous) closeItem(stream, previous, 'completed');
      items.push(item);
    };
    const openMessage = (stream: EventStream): OpenItem => {
      const item: OpenItem = { outputIndex: items.length, kind: 'message', callIndex: -1, text: '', closed: false };
      open(stream, item);
      send(stream, 'response.output_item.added', { output_index: item.outputIndex, item: messageItem(shape, 'in_progress') });
      send(stream, 'response.content_part.added', { item_id: shape.messageId, output_index: item.outputIndex, content_index: 0, part: textPart('') });
      return item;
    };
    return {
      start(stream) {
        const initial = responseObject(shape, { status: 'in_progress', output: [] });
        send(stream, 'response.created', { response: initial });
        send(stream, 'response.in_progress', { response: initial });
      },
      text(stream, delta) {
        message ??= openMessage(stream);
        message.text += delta;
        send(stream, 'response.output_text.delta', { item_id: shape.messageId, output_index: message.outputIndex, content_index: 0, delta, logprobs: [] });
      },
      toolCall(stream, piece) {
        let item = calls.get(piece.index);
        if (!item) {
          const call = { id: piece.id, name: piece.name, arguments: '' };
          item = { outputIndex: items.length, kind: 'call', callIndex: piece.index, call, text: '', closed: false };
          calls.set(piece.index, item);
          open(stream, item);
          send(stream, 'response.output_item.added', {
            output_index: item.outputIndex,
            item: { ...functionCallItem(shape, piece.index, call, 'in_progress'), arguments: '' },
          });
        }
        item.call!.arguments += piece.argumentsDelta;
        if (piece.argumentsDelta !== '') {
          send(stream, 'response.function_call_arguments.delta', {
            item_id: callItemId(shape, piece.index),
            output_index: item.outputIndex,
            delta: piece.argumentsDelta,
          });
        }
      },
      done(stream, result) {
        const status = finishedStatus(result);
        if (items.length === 0) message = openMessage(stream);
        for (const item of items) closeItem(stream, item, status);
        const body = responseObject(shape, { status, output: outputItems(shape, result, status), result });
        remember(options, shape, body, conversation, result);
        send(stream, status === 'completed' ? 'response.completed' : 'response.incomplete', { response: body });
        stream.close();
      },
      fail(stream, error) {
        const output = message && message.text !== '' ? [messageItem(shape, 'incomplete', message.text)] : [];
        const body = responseObject(shape, { status: 'failed', output, error });
        remember(options, shape, body, conversation);
        send(stream, 'response.failed', { response: body });
        stream.close();
      },
    };
  }).response;
}

export function getResponse(context: Context, responses: ResponseStore): Response {
  const id = context.req.param('id') ?? '';
  const stored = responses.get(id);
  if (!stored) {
    throw new HttpError(404, `No response with id '${id}' (this server keeps its recent responses in memory only)`, {
      param: 'response_id',
      code: 'response_not_found',
    });
  }
  return context.json(stored.body);
}

export function deleteResponse(context: Context, responses: ResponseStore): Response {
  const id = context.req.param('id') ?? '';
  if (!responses.delete(id)) {
    throw new HttpError(404, `No response with id '${id}'`, { param: 'response_id', code: 'response_not_found' });
  }
  return context.json({ id, object: 'response.deleted', deleted: true });
}
