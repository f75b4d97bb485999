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
import type { ChatMessage } from '../core/events.js';
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

/** The earlier turns and this request's, as the run sees them (instructions first). */
function conversationOf(request: ResponsesRequest, store: ResponseStore): ChatMessage[] {
  if (request.previousResponseId === undefined) return request.input;
  const previous = store.get(request.previousResponseId);
  if (!previous) {
    throw new HttpError(
      404,
      `Previous response with id '${request.previousResponseId}' not found: this server keeps its recent responses in memory only (not across restarts, and none made with store: false); send the whole conversation as input instead.`,
      { param: 'previous_response_id', code: 'previous_response_not_found' },
    );
  }
  return [...previous.conversation, ...request.input];
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
    parallel_tool_calls: false,
    previous_response_id: request.previousResponseId ?? null,
    reasoning: { effort: null, summary: null },
    store: request.store,
    temperature: request.temperature ?? null,
    text: { format: { type: 'text' } },
    tool_choice: 'none',
    tools: [],
    top_p: null,
    truncation: 'disabled',
    usage: state.result ? usageOf(state.result) : null,
    user: null,
    metadata: request.metadata,
    ...(request.details && state.result ? { moa: moaDetails(state.result) } : {}),
  };
}

function finishedStatus(result: MoAResult): 'completed' | 'incomplete' {
  return aggregatorFinishReason(result) === 'length' ? 'incomplete' : 'completed';
}

function remember(options: ResponsesOptions, shape: ResponseShape, body: Json, conversation: ChatMessage[], result?: MoAResult): void {
  if (!shape.request.store) return;
  const answered = result && result.status === 'done' ? [...conversation, { role: 'assistant' as const, content: result.text }] : conversation;
  options.responses.set(shape.id, { body, conversation: answered });
}

export async function createResponse(context: Context, request: ResponsesRequest, options: ResponsesOptions): Promise<Response> {
  const conversation = conversationOf(request, options.responses);
  const runRequest: RunRequest = {
    model: request.model,
    messages: request.instructions !== undefined ? [{ role: 'system', content: request.instructions }, ...conversation] : conversation,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
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
    const body = responseObject(shape, { status, output: [messageItem(shape, status, result.text)], result });
    remember(options, shape, body, conversation, result);
    return context.json(body, 200, { [RUN_ID_HEADER]: run.runId });
  }

  return streamAnswer(context, options, runRequest, (run) => {
    const shape = shapeOf(run.runId);
    let sequence = 0;
    let text = '';
    let opened = false;
    const send = (stream: EventStream, type: string, fields: Json): void => {
      stream.event(type, JSON.stringify({ type, sequence_number: sequence++, ...fields }));
    };
    const where = { item_id: shape.messageId, output_index: 0, content_index: 0 };
    const open = (stream: EventStream): void => {
      if (opened) return;
      opened = true;
      send(stream, 'response.output_item.added', { output_index: 0, item: messageItem(shape, 'in_progress') });
      send(stream, 'response.content_part.added', { ...where, part: textPart('') });
    };
    return {
      start(stream) {
        const initial = responseObject(shape, { status: 'in_progress', output: [] });
        send(stream, 'response.created', { response: initial });
        send(stream, 'response.in_progress', { response: initial });
      },
      text(stream, delta) {
        open(stream);
        text += delta;
        send(stream, 'response.output_text.delta', { ...where, delta, logprobs: [] });
      },
      done(stream, result) {
        open(stream);
        const status = finishedStatus(result);
        send(stream, 'response.output_text.done', { ...where, text: result.text, logprobs: [] });
        send(stream, 'response.content_part.done', { ...where, part: textPart(result.text) });
        const item = messageItem(shape, status, result.text);
        send(stream, 'response.output_item.done', { output_index: 0, item });
        const body = responseObject(shape, { status, output: [item], result });
        remember(options, shape, body, conversation, result);
        send(stream, status === 'completed' ? 'response.completed' : 'response.incomplete', { response: body });
        stream.close();
      },
      fail(stream, error) {
        const output = text === '' ? [] : [messageItem(shape, 'incomplete', text)];
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
