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
  return 'end_turn';
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
        content: [{ type: 'text', text: result.text }],
        stop_reason: anthropicStopReason(aggregatorFinishReason(result)),
        stop_sequence: null,
        usage: usageOf(result),
        ...(request.details ? { moa: moaDetails(result) } : {}),
      },
      200,
      { [RUN_ID_HEADER]: run.runId },
    );
  }

  return streamAnswer(context, options, runRequest, (run) => {
    let opened = false;
    const send = (stream: EventStream, type: string, fields: Json): void => stream.event(type, JSON.stringify({ type, ...fields }));
    const open = (stream: EventStream): void => {
      if (opened) return;
      opened = true;
      send(stream, 'content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    };
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
        open(stream);
        send(stream, 'content_block_delta', { index: 0, delta: { type: 'text_delta', text: delta } });
      },
      done(stream, result) {
        open(stream);
        send(stream, 'content_block_stop', { index: 0 });
        send(stream, 'message_delta', {
          delta: { stop_reason: anthropicStopReason(aggregatorFinishReason(result)), stop_sequence: null },
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
