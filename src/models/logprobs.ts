/**
 * Asking a model for its first token's top log-probabilities (a judge's soft preference) and
 * reading them back, in the shapes the SDK packages give (see provider-capabilities.ts).
 */
import { APICallError, type SharedV3ProviderOptions } from '@ai-sdk/provider';
import type { LogprobSupport } from './provider-capabilities.js';

/** One candidate token and its log-probability. */
export interface TokenLogprob {
  token: string;
  logprob: number;
}

/** Largest `top_logprobs` the OpenAI Chat Completions API accepts. */
export const MAX_TOP_LOGPROBS = 20;

export function logprobProviderOptions(support: LogprobSupport, top: number): SharedV3ProviderOptions | undefined {
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
export function firstTokenTopLogprobs(content: unknown): TokenLogprob[] | undefined {
  if (!Array.isArray(content) || content.length === 0) return undefined;
  const top = (content[0] as { top_logprobs?: unknown } | null)?.top_logprobs;
  if (!Array.isArray(top)) return undefined;
  return top.filter(isTokenLogprob).map((entry) => ({ token: entry.token, logprob: entry.logprob }));
}

/** `choices[0].logprobs.content` of an OpenAI-shaped chat completion (or stream chunk). */
export function choiceLogprobContent(body: unknown): unknown {
  const choices = (body as { choices?: unknown } | null)?.choices;
  if (!Array.isArray(choices)) return undefined;
  return (choices[0] as { logprobs?: { content?: unknown } | null } | undefined)?.logprobs?.content;
}

export function openAIMetadataLogprobs(providerMetadata: unknown): TokenLogprob[] | undefined {
  return firstTokenTopLogprobs((providerMetadata as { openai?: { logprobs?: unknown } } | undefined)?.openai?.logprobs);
}

/** A refusal of the logprobs parameters themselves (not of the prompt): worth one more try without them. */
export function rejectsLogprobs(error: unknown): boolean {
  if (!APICallError.isInstance(error)) return false;
  if (error.statusCode !== 400 && error.statusCode !== 422) return false;
  return /logprob/i.test(`${error.message} ${error.responseBody ?? ''}`);
}
