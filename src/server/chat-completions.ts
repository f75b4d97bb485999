/**
 * `POST /v1/chat/completions`: one MoA run answered in OpenAI's shapes.
 *
 * - stream false: the run streams nothing (mode 'none'); the answer is one
 *   `chat.completion` object.
 * - stream true: only the final layer streams (mode 'final'); each of its
 *   `agent-delta` events becomes a `chat.completion.chunk`, `run-end` becomes
 *   the chunk with `finish_reason` (+ the usage chunk when
 *   `stream_options.include_usage`), then `data: [DONE]`. The headers go out at
 *   once, with keep-alive comments until the answer flows (answer-stream.ts);
 *   a run that fails ends the stream with `data: {"error": …}`.
 *
 * `usage` counts the tokens of every agent of every layer.
 */
import type { Context } from 'hono';
import type { FinishReason, ToolCall } from '../models/usage.js';
import type { MoAResult } from '../core/reducer.js';
import { streamAnswer, type FaceOptions } from './answer-stream.js';
import type { EventStream } from './event-stream.js';
import { runFailureError } from './openai-errors.js';
import type { ChatRequest } from './openai-schema.js';
import { aggregatorFinishReason, moaDetails, openAIUsage, RUN_ID_HEADER, settledResult } from './run-outcome.js';
import { startRun } from './start-run.js';

export type OpenAIFinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls';

export function openAIFinishReason(reason: FinishReason | undefined): OpenAIFinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content-filter') return 'content_filter';
  if (reason === 'tool-calls') return 'tool_calls';
  return 'stop';
}

export function openAIToolCalls(calls: readonly ToolCall[]): Array<{ id: string; type: 'function'; function: { name: string; arguments: string } }> {
  return calls.map((call) => ({ id: call.id, type: 'function', function: { name: call.name, arguments: call.arguments } }));
}

/** The answers of a run: one, or `n` (the engine's choices, in order). */
function choicesOf(result: MoAResult): Array<{ index: number; text: string; toolCalls?: ToolCall[]; finishReason: FinishReason | undefined }> {
  if (result.choices && result.choices.length > 0) return result.choices;
  return [
    { index: 0, text: result.text, ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}), finishReason: result.finishReason ?? aggregatorFinishReason(result) },
  ];
}

export function completionId(runId: string): string {
  return `chatcmpl-${runId.replace(/^run_/, '')}`;
}

export async function chatCompletion(context: Context, request: ChatRequest, options: FaceOptions): Promise<Response> {
  return request.stream ? streamedCompletion(context, request, options) : wholeCompletion(context, request, options);
}

async function wholeCompletion(context: Context, request: ChatRequest, options: FaceOptions): Promise<Response> {
  const created = options.now();
  const { run } = startRun(options, request, 'none', context.req.raw.signal);
  const result = await settledResult(run.result);
  if (result.status !== 'done') throw runFailureError(result, options.shuttingDown());
  return context.json(
    {
      id: completionId(run.runId),
      object: 'chat.completion',
      created,
      model: request.model,
      choices: choicesOf(result).map((choice) => ({
        index: choice.index,
        message: {
          role: 'assistant',
          // OpenAI's shape: content is null when the answer is only tool calls.
          content: choice.toolCalls?.length && choice.text === '' ? null : choice.text,
          refusal: null,
          ...(choice.toolCalls?.length ? { tool_calls: openAIToolCalls(choice.toolCalls) } : {}),
        },
        logprobs: null,
        finish_reason: openAIFinishReason(choice.finishReason),
      })),
      usage: openAIUsage(result.usage),
      system_fingerprint: null,
      ...(request.details ? { moa: moaDetails(result) } : {}),
    },
    200,
    { [RUN_ID_HEADER]: run.runId },
  );
}

function streamedCompletion(context: Context, request: ChatRequest, options: FaceOptions): Response {
  const created = options.now();
  const usageField = request.includeUsage ? ',"usage":null' : '';
  return streamAnswer(context, options, request, (run) => {
    // Chunks are a precomputed head + JSON + tail (built once per request, not per token).
    const prefix = `{"id":${JSON.stringify(completionId(run.runId))},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(request.model)},"system_fingerprint":null,"choices":[`;
    const deltaTail = `},"logprobs":null,"finish_reason":null}]${usageField}}`;
    const heads = new Map<number, string>();
    const deltaHead = (choice: number): string => {
      let head = heads.get(choice);
      if (head === undefined) {
        head = `${prefix}{"index":${choice},"delta":{"content":`;
        heads.set(choice, head);
      }
      return head;
    };
    const delta = (choice: number, fields: Record<string, unknown>): string =>
      `${prefix}{"index":${choice},"delta":${JSON.stringify(fields)},"logprobs":null,"finish_reason":null}]${usageField}}`;
    const opened = new Set<number>();
    const role = (stream: EventStream, choice: number, withContent: boolean): void => {
      if (opened.has(choice)) return;
      opened.add(choice);
      stream.data(delta(choice, withContent ? { role: 'assistant', content: '' } : { role: 'assistant', content: null }));
    };
    return {
      text(stream, text, choice) {
        role(stream, choice, true);
        stream.data(deltaHead(choice) + JSON.stringify(text) + deltaTail);
      },
      toolCall(stream, piece) {
        role(stream, piece.choice, false);
        const call = piece.first
          ? { index: piece.index, id: piece.id, type: 'function', function: { name: piece.name, arguments: piece.argumentsDelta } }
          : { index: piece.index, function: { arguments: piece.argumentsDelta } };
        stream.data(delta(piece.choice, { tool_calls: [call] }));
      },
      done(stream, result) {
        const details = request.details ? `,"moa":${JSON.stringify(moaDetails(result))}` : '';
        const choices = choicesOf(result);
        choices.forEach((choice, position) => {
          role(stream, choice.index, true);
          const last = position === choices.length - 1;
          const finish = `${prefix}{"index":${choice.index},"delta":{},"logprobs":null,"finish_reason":"${openAIFinishReason(choice.finishReason)}"}]${usageField}`;
          stream.data(`${finish}${last && !request.includeUsage ? details : ''}}`);
        });
        if (request.includeUsage) stream.data(`${prefix}],"usage":${JSON.stringify(openAIUsage(result.usage))}${details}}`);
        stream.data('[DONE]');
        stream.close();
      },
      fail(stream, error) {
        // The openai SDK raises a `data: {"error": …}` event as an APIError.
        stream.data(JSON.stringify(error.toBody()));
        stream.close();
      },
    };
  }).response;
}
