/**
 * One call to one model through the provider's own `doGenerate` / `doStream`
 * (never the `streamText` helper: it costs about three times the CPU). Only a
 * call whose tokens someone watches streams; every other call is a plain generate.
 *
 * Log-probabilities (`topLogprobs`), as the SDK packages offer them (read from their code):
 * - `openai` (`@ai-sdk/openai`, Chat Completions): `providerOptions.openai.logprobs = n` sends
 *   `logprobs: true, top_logprobs: n`; the answer's `providerMetadata.openai.logprobs` (generate,
 *   and the stream's `finish` part) lists every token with its `top_logprobs`. The package drops
 *   the option for reasoning models (a warning, no logprobs).
 * - `openai-compatible` (`@ai-sdk/openai-compatible`): no logprobs option and no logprobs in its
 *   metadata, but `providerOptions[<provider name>]` keys it does not know are copied into the
 *   request body (so `logprobs: true, top_logprobs: n` reach the server), and the SDK hands back
 *   the server's parsed JSON: `response.body` of a generate, `raw` stream parts with
 *   `includeRawChunks`. The OpenAI shape `choices[0].logprobs.content[0].top_logprobs` is read there.
 * - anthropic, google, ollama, local: no logprobs; the request is sent unchanged.
 * A server that refuses the logprobs parameters (HTTP 400/422 naming them) is asked once more
 * without them, so a judge falls back to the generated token instead of failing.
 */
import { createOpenAI } from '@ai-sdk/openai';
import { OpenAICompatibleChatLanguageModel } from '@ai-sdk/openai-compatible';
import {
  APICallError,
  type LanguageModelV3,
  type LanguageModelV3CallOptions,
  type LanguageModelV3Usage,
  type SharedV3ProviderOptions,
} from '@ai-sdk/provider';
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
  /**
   * Ask for the top N (1–20) log-probabilities of each generated token (openai and
   * openai-compatible providers; ignored by the others). The first token's come back on the result.
   */
  topLogprobs?: number;
}

/** One candidate token and its log-probability. */
export interface TokenLogprob {
  token: string;
  logprob: number;
}

export interface CallResult {
  text: string;
  usage: Usage;
  finishReason: FinishReason;
  /** The first generated token's top log-probabilities, when asked for and the provider returned them. */
  topLogprobs?: TokenLogprob[];
}

/** Largest `top_logprobs` the OpenAI Chat Completions API accepts. */
export const MAX_TOP_LOGPROBS = 20;

type LogprobSupport =
  | { kind: 'openai' }
  /** `optionsName`: the providerOptions key the package reads (its provider name, as the package derives it). */
  | { kind: 'openai-compatible'; optionsName: string }
  | { kind: 'none' };

let openAIChatPrototype: object | undefined;

/** Which way, if any, this model can be asked for log-probabilities. */
export function logprobSupport(model: LanguageModelV3): LogprobSupport {
  if (model instanceof OpenAICompatibleChatLanguageModel) {
    // The package's own key: `config.provider.split(".")[0].trim()` (its private providerOptionsName).
    return { kind: 'openai-compatible', optionsName: model.provider.split('.')[0]?.trim() ?? model.provider };
  }
  // @ai-sdk/openai does not export its chat model class from its main entry: take the
  // prototype of one it builds (no key needed until a request is made).
  openAIChatPrototype ??= Object.getPrototypeOf(createOpenAI({ apiKey: 'unused' }).chat('prototype')) as object;
  if (Object.getPrototypeOf(model) === openAIChatPrototype) return { kind: 'openai' };
  return { kind: 'none' };
}

function logprobProviderOptions(support: LogprobSupport, top: number): SharedV3ProviderOptions | undefined {
  switch (support.kind) {
    case 'openai':
      return { openai: { logprobs: top } };
    case 'openai-compatible':
      return { [support.optionsName]: { logprobs: true, top_logprobs: top } };
    case 'none':
      return undefined;
  }
}

function isTokenLogprob(entry: unknown): entry is TokenLogprob {
  return (
    typeof entry === 'object' &&
    entry !== null &&
    typeof (entry as TokenLogprob).token === 'string' &&
    typeof (entry as TokenLogprob).logprob === 'number' &&
    Number.isFinite((entry as TokenLogprob).logprob)
  );
}

/** `[{ token, logprob, top_logprobs: [...] }, …]` (OpenAI's `logprobs.content`) → the first token's top list. */
function firstTokenTopLogprobs(content: unknown): TokenLogprob[] | undefined {
  if (!Array.isArray(content) || content.length === 0) return undefined;
  const top = (content[0] as { top_logprobs?: unknown } | null)?.top_logprobs;
  if (!Array.isArray(top)) return undefined;
  return top.filter(isTokenLogprob).map((entry) => ({ token: entry.token, logprob: entry.logprob }));
}

/** `choices[0].logprobs.content` of an OpenAI-shaped chat completion (or stream chunk). */
function choiceLogprobContent(body: unknown): unknown {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return undefined;
  return (choices[0] as { logprobs?: { content?: unknown } | null } | undefined)?.logprobs?.content;
}

function openAIMetadataLogprobs(providerMetadata: unknown): TokenLogprob[] | undefined {
  return firstTokenTopLogprobs((providerMetadata as { openai?: { logprobs?: unknown } } | undefined)?.openai?.logprobs);
}

/** A refusal of the logprobs parameters themselves (not of the prompt): worth one more try without them. */
function rejectsLogprobs(error: unknown): boolean {
  if (!APICallError.isInstance(error)) return false;
  if (error.statusCode !== 400 && error.statusCode !== 422) return false;
  return /logprob/i.test(`${error.message} ${error.responseBody ?? ''}`);
}

function toUsage(usage: LanguageModelV3Usage | undefined): Usage {
  return { inputTokens: usage?.inputTokens.total ?? 0, outputTokens: usage?.outputTokens.total ?? 0 };
}

export async function callModel(resolved: ResolvedModel, request: CallRequest): Promise<CallResult> {
  const top = request.topLogprobs !== undefined ? Math.min(MAX_TOP_LOGPROBS, Math.max(0, Math.floor(request.topLogprobs))) : 0;
  const support: LogprobSupport = top > 0 ? logprobSupport(resolved.model) : { kind: 'none' };
  try {
    if (support.kind === 'none') return await callOnce(resolved, request, { kind: 'none' }, 0);
    try {
      return await callOnce(resolved, request, support, top);
    } catch (error) {
      if (request.signal.aborted || !rejectsLogprobs(error)) throw error;
      return await callOnce(resolved, request, { kind: 'none' }, 0);
    }
  } catch (error) {
    if (request.signal.aborted) throw request.signal.reason ?? error;
    throw toProviderError(error, resolved);
  }
}

async function callOnce(resolved: ResolvedModel, request: CallRequest, support: LogprobSupport, top: number): Promise<CallResult> {
  const providerOptions = logprobProviderOptions(support, top);
  const options: LanguageModelV3CallOptions = {
    prompt: request.prompt,
    abortSignal: request.signal,
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { maxOutputTokens: request.maxTokens } : {}),
    ...(providerOptions ? { providerOptions } : {}),
    ...(support.kind === 'openai-compatible' && request.onDelta ? { includeRawChunks: true } : {}),
  };
  const withLogprobs = (result: CallResult, topLogprobs: TokenLogprob[] | undefined): CallResult =>
    topLogprobs !== undefined ? { ...result, topLogprobs } : result;
  if (!request.onDelta) {
    const result = await resolved.model.doGenerate(options);
    let text = '';
    for (const part of result.content) if (part.type === 'text') text += part.text;
    const topLogprobs =
      support.kind === 'openai'
        ? openAIMetadataLogprobs(result.providerMetadata)
        : support.kind === 'openai-compatible'
          ? firstTokenTopLogprobs(choiceLogprobContent(result.response?.body))
          : undefined;
    return nonEmpty(resolved, withLogprobs({ text, usage: toUsage(result.usage), finishReason: result.finishReason.unified }, topLogprobs));
  }
  const { stream } = await resolved.model.doStream(options);
  const reader = stream.getReader();
  let text = '';
  let usage: Usage = { inputTokens: 0, outputTokens: 0 };
  let finishReason: FinishReason = 'other';
  let topLogprobs: TokenLogprob[] | undefined;
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
      case 'raw':
        // Only asked for (includeRawChunks) on openai-compatible models with logprobs: the first chunk listing token logprobs.
        topLogprobs ??= firstTokenTopLogprobs(choiceLogprobContent(value.rawValue));
        break;
      case 'finish':
        usage = toUsage(value.usage);
        finishReason = value.finishReason.unified;
        if (support.kind === 'openai') topLogprobs = openAIMetadataLogprobs(value.providerMetadata);
        break;
      case 'error':
        await reader.cancel().catch(() => undefined);
        throw value.error;
    }
  }
  if (finishReason === 'error') throw new Error('the provider ended the stream with an error');
  return nonEmpty(resolved, withLogprobs({ text, usage, finishReason }, topLogprobs));
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

/**
 * google.rpc.RetryInfo in a Google error body (`{error:{details:[{'@type': '…RetryInfo', retryDelay: '37s'}]}}`):
 * the Gemini API says when to retry a 429 there, not in a Retry-After header.
 */
export function parseRetryInfo(responseBody: string | undefined): number | undefined {
  if (!responseBody) return undefined;
  try {
    const details = (JSON.parse(responseBody) as { error?: { details?: unknown } } | null)?.error?.details;
    if (!Array.isArray(details)) return undefined;
    for (const detail of details as Array<{ '@type'?: unknown; retryDelay?: unknown } | null>) {
      if (typeof detail?.['@type'] !== 'string' || !detail['@type'].endsWith('google.rpc.RetryInfo')) continue;
      const match = typeof detail.retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay) : null;
      if (match) return Math.round(Number(match[1]) * 1000);
    }
  } catch {
    // not JSON: no retry information
  }
  return undefined;
}

/**
 * Anthropic's error types and the HTTP status each stands for. An error event inside a stream that
 * had already begun (`event: error`, e.g. `overloaded_error`) reaches us from @ai-sdk/anthropic as
 * the plain `{ type, message }` object the server sent.
 */
const ANTHROPIC_ERROR_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
};

function isStreamErrorBody(error: unknown): error is { type: string; message: string } {
  return (
    typeof error === 'object' &&
    error !== null &&
    !(error instanceof Error) &&
    typeof (error as { type?: unknown }).type === 'string' &&
    typeof (error as { message?: unknown }).message === 'string'
  );
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
    const retryAfterMs = parseRetryAfter(headers) ?? parseRetryInfo(error.responseBody);
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
  if (isStreamErrorBody(error)) {
    const status = ANTHROPIC_ERROR_STATUS[error.type];
    return new ProviderError(`${resolved.label}: ${error.message} (${error.type} in the stream)`, {
      ...base,
      ...(status !== undefined ? { status } : {}),
      isRetryable: status !== undefined && isRetryableStatus(status),
      code: status === 429 ? 'rate_limited' : 'provider_error',
    });
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
