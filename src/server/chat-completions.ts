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
import type { FinishReason } from '../models/usage.js';
import type { MoAResult } from '../core/reducer.js';
import { streamAnswer, type FaceOptions } from './answer-stream.js';
import { runFailureError } from './openai-errors.js';
import type { ChatRequest } from './openai-schema.js';
import { aggregatorFinishReason, moaDetails, openAIUsage, RUN_ID_HEADER, settledResult } from './run-outcome.js';
import { startRun } from './start-run.js';

export type OpenAIFinishReason = 'stop' | 'length' | 'content_filter';

export function openAIFinishReason(reason: FinishReason | undefined): OpenAIFinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content-filter') return 'content_filter';
  return 'stop';
}

function finalFinishReason(result: MoAResult): OpenAIFinishReason {
  return openAIFinishReason(aggregatorFinishReason(result));
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
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: result.text, refusal: null },
          logprobs: null,
          finish_reason: finalFinishReason(result),
        },
      ],
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
    const deltaHead = `${prefix}{"index":0,"delta":{"content":`;
    const deltaTail = `},"logprobs":null,"finish_reason":null}]${usageField}}`;
    let sentRole = false;
    const role = (stream: { data(payload: string): void }): void => {
      if (sentRole) return;
      sentRole = true;
      stream.data(`${prefix}{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]${usageField}}`);
    };
    return {
      text(stream, delta) {
        role(stream);
        stream.data(deltaHead + JSON.stringify(delta) + deltaTail);
      },
      done(stream, result) {
        role(stream);
        const details = request.details ? `,"moa":${JSON.stringify(moaDetails(result))}` : '';
        const finish = `${prefix}{"index":0,"delta":{},"logprobs":null,"finish_reason":"${finalFinishReason(result)}"}]${usageField}`;
        if (request.includeUsage) {
          stream.data(`${finish}}`);
          stream.data(`${prefix}],"usage":${JSON.stringify(openAIUsage(result.usage))}${details}}`);
        } else {
          stream.data(`${finish}${details}}`);
        }
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
