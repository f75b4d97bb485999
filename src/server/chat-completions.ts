/**
 * `POST /v1/chat/completions`: one MoA run answered in OpenAI's shapes.
 *
 * - stream false: the run streams nothing (mode 'none'); the answer is one
 *   `chat.completion` object.
 * - stream true: only the final layer streams (mode 'final'); each of its
 *   `agent-delta` events becomes a `chat.completion.chunk`, `run-end` becomes
 *   the chunk with `finish_reason` (+ the usage chunk when
 *   `stream_options.include_usage`), then `data: [DONE]`.
 *   The response starts with the first answer token, so a run that fails
 *   before its aggregator writes anything gets a real 502/504 status.
 *   A stream cannot take text back: when the aggregator fails after it has
 *   streamed tokens (a retry or fallback would restart the answer), the stream
 *   ends with an error event (`code: "stream_interrupted"`) and the run is
 *   cancelled. A retry before the first token is invisible to the client.
 *
 * `usage` counts the tokens of every agent of every layer.
 */
import type { Context } from 'hono';
import type { MoAEvent } from '../core/events.js';
import type { FinishReason, Usage } from '../models/usage.js';
import type { MoAResult } from '../core/reducer.js';
import { MoARunError } from '../core/stream-moa.js';
import { createEventStream } from './event-stream.js';
import { HttpError, runFailureError } from './openai-errors.js';
import type { ChatRequest } from './openai-schema.js';
import { startRun, type RunDependencies } from './start-run.js';

export const RUN_ID_HEADER = 'X-MoA-Run-Id';

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export type OpenAIFinishReason = 'stop' | 'length' | 'content_filter';

export function openAIUsage(usage: Usage): OpenAIUsage {
  return { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens };
}

export function openAIFinishReason(reason: FinishReason | undefined): OpenAIFinishReason {
  if (reason === 'length') return 'length';
  if (reason === 'content-filter') return 'content_filter';
  return 'stop';
}

/** The `moa` extension object: what every layer did. */
export interface MoADetails {
  run_id: string;
  preset: string | null;
  latency_ms: number;
  layers: Array<{
    index: number;
    aggregator: boolean;
    agents: Array<{
      model: string;
      status: string;
      latency_ms: number | null;
      attempts: number;
      usage: OpenAIUsage;
      error?: { code: string; message: string };
    }>;
  }>;
  warnings: string[];
}

export function moaDetails(result: MoAResult): MoADetails {
  return {
    run_id: result.runId,
    preset: result.preset ?? null,
    latency_ms: result.latencyMs,
    layers: result.layers.map((layer) => ({
      index: layer.index,
      aggregator: layer.aggregator,
      agents: layer.agents.map((agent) => ({
        model: agent.model,
        status: agent.status,
        latency_ms: agent.latencyMs ?? null,
        attempts: agent.attempts,
        usage: openAIUsage(agent.usage),
        ...(agent.error ? { error: { code: agent.error.code, message: agent.error.message } } : {}),
      })),
    })),
    warnings: result.warnings.map((warning) => warning.message),
  };
}

function finalFinishReason(result: MoAResult): OpenAIFinishReason {
  const final = result.layers[result.layers.length - 1];
  return openAIFinishReason(final?.agents.find((agent) => agent.status === 'done')?.finishReason);
}

export function completionId(runId: string): string {
  return `chatcmpl-${runId.replace(/^run_/, '')}`;
}

async function settledResult(result: Promise<MoAResult>): Promise<MoAResult> {
  try {
    return await result;
  } catch (error) {
    if (error instanceof MoARunError) return error.result;
    throw error;
  }
}

export interface CompletionHandlerOptions extends RunDependencies {
  /** True once the server has started shutting down (a run it aborts is a 503). */
  shuttingDown(): boolean;
  /** Seconds since the epoch, for `created`. */
  now(): number;
}

export async function chatCompletion(context: Context, request: ChatRequest, options: CompletionHandlerOptions): Promise<Response> {
  return request.stream ? streamedCompletion(context, request, options) : wholeCompletion(context, request, options);
}

async function wholeCompletion(context: Context, request: ChatRequest, options: CompletionHandlerOptions): Promise<Response> {
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

function streamedCompletion(context: Context, request: ChatRequest, options: CompletionHandlerOptions): Promise<Response> {
  return new Promise<Response>((resolve, reject) => {
    const created = options.now();
    let runId = '';
    let prefix = '';
    let finalLayer = 0;
    let sentContent = false;
    let interrupted = false;
    let stream: ReturnType<typeof createEventStream> | undefined;
    const usageField = request.includeUsage ? ',"usage":null' : '';
    const chunk = (choice: string): string => `${prefix}${choice}]${usageField}}`;
    // A content chunk is deltaHead + JSON string + deltaTail (built once per request, not per token).
    let deltaHead = '';
    const deltaTail = `},"logprobs":null,"finish_reason":null}]${usageField}}`;

    const begin = (): NonNullable<typeof stream> => {
      if (!stream) {
        stream = createEventStream(context, () => run.abort());
        resolve(stream.response({ [RUN_ID_HEADER]: runId }));
        stream.data(chunk('{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}'));
      }
      return stream;
    };
    const onEvent = (event: MoAEvent): void => {
      if (interrupted) return;
      if (event.type === 'agent-delta') {
        if (event.layer !== finalLayer || event.delta === '') return;
        begin().data(deltaHead + JSON.stringify(event.delta) + deltaTail);
        sentContent = true;
      } else if (event.type === 'agent-retry' && event.layer === finalLayer && sentContent) {
        interrupted = true;
        const error = new HttpError(
          502,
          `The aggregator failed after it had started streaming the answer (${event.error.message}); a stream cannot take text back, so this response ends here. Retry the request.`,
          { code: 'stream_interrupted' },
        );
        const out = begin();
        out.data(JSON.stringify(error.toBody()));
        out.close();
        run.abort();
      }
    };

    let run: ReturnType<typeof startRun>['run'];
    try {
      const started = startRun(options, request, 'final', context.req.raw.signal, onEvent);
      run = started.run;
      runId = run.runId;
      finalLayer = started.preset.layers.length - 1;
      prefix = `{"id":${JSON.stringify(completionId(runId))},"object":"chat.completion.chunk","created":${created},"model":${JSON.stringify(request.model)},"system_fingerprint":null,"choices":[`;
      deltaHead = `${prefix}{"index":0,"delta":{"content":`;
    } catch (error) {
      reject(error);
      return;
    }

    settledResult(run.result).then(
      (result) => {
        if (interrupted) return;
        if (result.status !== 'done') {
          const error = runFailureError(result, options.shuttingDown());
          if (!stream) return reject(error);
          stream.data(JSON.stringify(error.toBody()));
          stream.close();
          return;
        }
        const out = begin();
        const details = request.details ? `,"moa":${JSON.stringify(moaDetails(result))}` : '';
        const finish = `${prefix}{"index":0,"delta":{},"logprobs":null,"finish_reason":"${finalFinishReason(result)}"}]${usageField}`;
        if (request.includeUsage) {
          out.data(`${finish}}`);
          out.data(`${prefix}],"usage":${JSON.stringify(openAIUsage(result.usage))}${details}}`);
        } else {
          out.data(`${finish}${details}}`);
        }
        out.data('[DONE]');
        out.close();
      },
      (error: unknown) => {
        if (!stream) return reject(error);
        stream.data(JSON.stringify(new HttpError(500, String(error), { code: 'internal_error' }).toBody()));
        stream.close();
      },
    );
  });
}
