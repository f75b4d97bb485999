/**
 * One call to one model through the provider's own `doGenerate` / `doStream`
 * (never the `streamText` helper: it costs about three times the CPU). Only a
 * call whose tokens someone watches streams; every other call is a plain generate.
 */
import { APICallError, type LanguageModelV3CallOptions, type LanguageModelV3Usage } from '@ai-sdk/provider';
import type { FinishReason, Usage } from './usage.js';
import { ProviderError } from '../util/errors.js';
import type { ResolvedModel } from './registry.js';

export interface CallRequest {
  prompt: LanguageModelV3CallOptions['prompt'];
  temperature?: number;
  maxTokens?: number;
  signal: AbortSignal;
  /** When set, the call streams and every text delta is passed here. */
  onDelta?: (delta: string) => void;
}

export interface CallResult {
  text: string;
  usage: Usage;
  finishReason: FinishReason;
}

function toUsage(usage: LanguageModelV3Usage | undefined): Usage {
  return { inputTokens: usage?.inputTokens.total ?? 0, outputTokens: usage?.outputTokens.total ?? 0 };
}

export async function callModel(resolved: ResolvedModel, request: CallRequest): Promise<CallResult> {
  const options: LanguageModelV3CallOptions = {
    prompt: request.prompt,
    abortSignal: request.signal,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens } : {}),
  };
  try {
    if (!request.onDelta) {
      const result = await resolved.model.doGenerate(options);
      let text = '';
      for (const part of result.content) if (part.type === 'text') text += part.text;
      return nonEmpty(resolved, { text, usage: toUsage(result.usage), finishReason: result.finishReason.unified });
    }
    const { stream } = await resolved.model.doStream(options);
    const reader = stream.getReader();
    let text = '';
    let usage: Usage = { inputTokens: 0, outputTokens: 0 };
    let finishReason: FinishReason = 'other';
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      switch (value.type) {
        case 'text-delta':
          if (value.delta) {
            text += value.delta;
            request.onDelta(value.delta);
          }
          break;
        case 'finish':
          usage = toUsage(value.usage);
          finishReason = value.finishReason.unified;
          break;
        case 'error':
          await reader.cancel().catch(() => undefined);
          throw value.error;
      }
    }
    if (finishReason === 'error') throw new Error('the provider ended the stream with an error');
    return nonEmpty(resolved, { text, usage, finishReason });
  } catch (error) {
    if (request.signal.aborted) throw request.signal.reason ?? error;
    throw toProviderError(error, resolved);
  }
}

/**
 * An answer with no text (a content filter, or a reasoning model that spent
 * every token thinking) is useless as a reference or as the final answer:
 * it fails the attempt, so the agent retries or falls back.
 */
function nonEmpty(resolved: Pick<ResolvedModel, 'provider' | 'label'>, result: CallResult): CallResult {
  if (result.text.trim()) return result;
  throw new ProviderError(`${resolved.label}: returned an empty answer (finish reason: ${result.finishReason})`, {
    provider: resolved.provider,
    model: resolved.label,
    isRetryable: true,
    code: 'empty_answer',
  });
}

const RETRYABLE_STATUS = new Set([408, 409, 429]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status) || status >= 500;
}

/** Retry-After in seconds or as an HTTP date; retry-after-ms in milliseconds. */
export function parseRetryAfter(headers: Record<string, string> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const lower: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) lower[key.toLowerCase()] = value;
  const milliseconds = Number(lower['retry-after-ms']);
  if (lower['retry-after-ms'] !== undefined && Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = lower['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

function upstreamMessage(error: APICallError): string {
  // Prefer the provider's own words from an OpenAI-style error body.
  if (error.responseBody) {
    try {
      const body = JSON.parse(error.responseBody) as { error?: { message?: unknown } | string; message?: unknown };
      const message =
        typeof body.error === 'string' ? body.error : typeof body.error?.message === 'string' ? body.error.message : body.message;
      if (typeof message === 'string' && message) return message;
    } catch {
      // not JSON: fall through to the SDK's message
    }
  }
  return error.message;
}

export function toProviderError(error: unknown, resolved: Pick<ResolvedModel, 'provider' | 'label'>): ProviderError {
  if (error instanceof ProviderError) return error;
  const base = { provider: resolved.provider, model: resolved.label, cause: error };
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const headers = error.responseHeaders;
    const requestId = headers?.['x-request-id'] ?? headers?.['request-id'];
    const retryAfterMs = parseRetryAfter(headers);
    // No status: the request never got an answer (connection refused, reset, DNS).
    const causeCode = status === undefined ? (error.cause as { cause?: { code?: string }; code?: string } | undefined) : undefined;
    const networkCode = causeCode?.code ?? causeCode?.cause?.code;
    return new ProviderError(
      `${resolved.label}: ${status ? `HTTP ${status}: ` : ''}${upstreamMessage(error)}${networkCode ? ` (${networkCode})` : ''}`,
      {
        ...base,
        ...(status !== undefined ? { status } : {}),
        ...(requestId ? { requestId } : {}),
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
        isRetryable: status !== undefined ? isRetryableStatus(status) : error.isRetryable,
        code: status === 429 ? 'rate_limited' : status === undefined ? 'network_error' : 'provider_error',
      },
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  const network =
    (error instanceof TypeError && /fetch failed|network|socket/i.test(message)) ||
    Boolean(cause?.code && /^(E[A-Z]+|UND_ERR)/.test(cause.code));
  return new ProviderError(`${resolved.label}: ${message}${cause?.code ? ` (${cause.code})` : ''}`, {
    ...base,
    isRetryable: network,
    code: network ? 'network_error' : 'provider_error',
  });
}
