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
import { toProviderError } from './provider-errors.js';
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
