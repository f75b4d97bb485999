/**
 * `POST /v1/messages` (Anthropic's Messages API) on the MoA engine, for the Anthropic SDKs and
 * the tools built on them (Claude Code with ANTHROPIC_BASE_URL pointing here).
 *
 * - Not streamed: one `message` object; `content` holds the answer as a text block;
 *   `stop_reason` is the aggregator's (`end_turn`, `max_tokens`).
 * - Streamed: `message_start` at once (its usage is filled in by `message_delta`, since the run's
 *   tokens are known only at the end), keep-alive comments while the proposers work,
 *   `content_block_start`, `content_block_delta` (`text_delta`)…, `content_block_stop`,
 *   `message_delta` (stop reason and usage), `message_stop`; a failure is an `error` event.
 * - `usage` counts every agent of every layer, as on the other endpoints.
 */
import type { Context } from 'hono';
import type { MoAResult } from '../core/reducer.js';
import type { FinishReason } from '../models/usage.js';
import { anthropicErrorBody } from './anthropic-errors.js';
import { streamAnswer, type FaceOptions } from './answer-stream.js';
import type { EventStream } from './event-stream.js';
import type { MessagesRequest } from './messages-schema.js';
import { runFailureError } from './openai-errors.js';
import { aggregatorFinishReason, moaDetails, RUN_ID_HEADER, settledResult } from './run-outcome.js';
import type { RunRequest } from './run-request.js';
import { startRun } from './start-run.js';

type Json = Record<string, unknown>;

export type AnthropicStopReason = 'end_turn' | 'max_tokens' | 'stop_sequence' | 'tool_use' | 'refusal';

export function anthropicStopReason(reason: FinishReason | undefined): AnthropicStopReason {
  if (reason === 'length') return 'max_tokens';
  if (reason === 'content-filter') return 'refusal';
  if (reason === 'tool-calls') return 'tool_use';
  return 'end_turn';
}

/** A tool call's arguments as the `input` object Anthropic clients expect (the raw text when it is not JSON). */
function toolInput(argumentsText: string): unknown {
  try {
    return JSON.parse(argumentsText === '' ? '{}' : argumentsText);
  } catch {
    return argumentsText;
  }
}

function contentBlocks(result: MoAResult): Json[] {
  const calls = result.toolCalls ?? [];
  return [
    ...(result.text !== '' || calls.length === 0 ? [{ type: 'text', text: result.text }] : []),
    ...calls.map((call) => ({ type: 'tool_use', id: call.id, name: call.name, input: toolInput(call.arguments) })),
  ];
}

function stopReasonOf(result: MoAResult): AnthropicStopReason {
  return anthropicStopReason(result.finishReason ?? aggregatorFinishReason(result));
}

function messageId(runId: string): string {
  return `msg_${runId.replace(/^run_/, '').replace(/-/g, '')}`;
}

function usageOf(result: MoAResult): Json {
  return { input_tokens: result.usage.inputTokens, output_tokens: result.usage.outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
}

function runRequestOf(request: MessagesRequest): RunRequest {
  return {
    model: request.model,
    messages: request.messages,
    maxTokens: request.maxTokens,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.settings ? { settings: request.settings, params: request.params ?? {} } : {}),
    ...(request.toolLoop ? { toolLoop: request.toolLoop } : {}),
    details: request.details,
  };
}

export async function createMessage(context: Context, request: MessagesRequest, options: FaceOptions): Promise<Response> {
  const runRequest = runRequestOf(request);
  if (!request.stream) {
    const { run } = startRun(options, runRequest, 'none', context.req.raw.signal);
    const result = await settledResult(run.result);
    if (result.status !== 'done') throw runFailureError(result, options.shuttingDown());
    return context.json(
      {
        id: messageId(run.runId),
        type: 'message',
        role: 'assistant',
        model: request.model,
        content: contentBlocks(result),
        stop_reason: stopReasonOf(result),
        stop_sequence: null,
        usage: usageOf(result),
        ...(request.details ? { moa: moaDetails(result) } : {}),
      },
      200,
      { [RUN_ID_HEADER]: run.runId },
    );
  }

  return streamAnswer(context, options, runRequest, (run) => {
    // Content blocks in the order they open; each is stopped when the next starts, or at the end.
    let blocks = 0;
    let open: { index: number; kind: 'text' | 'tool'; callIndex: number } | undefined;
    const send = (stream: EventStream, type: string, fields: Json): void => stream.event(type, JSON.stringify({ type, ...fields }));
    const stop = (stream: EventStream): void => {
      if (open) send(stream, 'content_block_stop', { index: open.index });
      open = undefined;
    };
    const start = (stream: EventStream, kind: 'text' | 'tool', callIndex: number, block: Json): number => {
      stop(stream);
      open = { index: blocks++, kind, callIndex };
      send(stream, 'content_block_start', { index: open.index, content_block: block });
      return open.index;
    };
    let textBlock: number | undefined;
    const toolBlocks = new Map<number, number>();
    return {
      start(stream) {
        send(stream, 'message_start', {
          message: {
            id: messageId(run.runId),
            type: 'message',
            role: 'assistant',
            model: request.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            usage: { input_tokens: 0, output_tokens: 0 },
          },
        });
      },
      text(stream, delta) {
        if (textBlock === undefined || open?.index !== textBlock) textBlock = start(stream, 'text', -1, { type: 'text', text: '' });
        send(stream, 'content_block_delta', { index: textBlock, delta: { type: 'text_delta', text: delta } });
      },
      toolCall(stream, piece) {
        let index = toolBlocks.get(piece.index);
        if (index === undefined || open?.index !== index) {
          index = start(stream, 'tool', piece.index, { type: 'tool_use', id: piece.id, name: piece.name, input: {} });
          toolBlocks.set(piece.index, index);
        }
        if (piece.argumentsDelta !== '') send(stream, 'content_block_delta', { index, delta: { type: 'input_json_delta', partial_json: piece.argumentsDelta } });
      },
      done(stream, result) {
        if (blocks === 0) start(stream, 'text', -1, { type: 'text', text: '' });
        stop(stream);
        send(stream, 'message_delta', {
          delta: { stop_reason: stopReasonOf(result), stop_sequence: null },
          usage: usageOf(result),
          ...(request.details ? { moa: moaDetails(result) } : {}),
        });
        send(stream, 'message_stop', {});
        stream.close();
      },
      fail(stream, error) {
        stream.event('error', JSON.stringify(anthropicErrorBody(error)));
        stream.close();
      },
    };
  }).response;
}
