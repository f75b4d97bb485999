/**
 * What each provider type's AI SDK package can do, known where providers are created (no
 * sniffing of vendor classes): the `providerOptions` key its package reads, how to ask it for
 * log-probabilities, whether function tools work, and whether tool calls survive streaming.
 *
 * Log-probabilities, as the SDK packages offer them (read from their code):
 * - `openai` (`@ai-sdk/openai`, Chat Completions): `providerOptions.openai.logprobs = n` sends
 *   `logprobs: true, top_logprobs: n`; the answer's `providerMetadata.openai.logprobs` (generate,
 *   and the stream's `finish` part) lists every token with its `top_logprobs`.
 * - `openai-compatible`: no logprobs option, but `providerOptions[<provider name>]` keys it does not
 *   know are copied into the request body (so `logprobs: true, top_logprobs: n` reach the server),
 *   and the SDK hands back the server's parsed JSON (`response.body`, `raw` stream parts).
 * - anthropic, google, ollama, local: none.
 */
import type { ProviderSettings } from './provider-schema.js';

export type ProviderType = ProviderSettings['type'] | 'object';

export type LogprobSupport =
  | { kind: 'openai' }
  /** `optionsName`: the providerOptions key the package reads (the provider's name). */
  | { kind: 'openai-compatible'; optionsName: string }
  | { kind: 'none' };

export interface ProviderCapabilities {
  type: ProviderType;
  /** The `providerOptions` key this provider's package reads. */
  optionsKey: string;
  logprobs: LogprobSupport;
  /** Function tools (`tools`, `toolChoice`) work. */
  tools: boolean;
  /** Tool calls survive streaming (Ollama drops them: such a model is called without streaming when it has tools). */
  streamsToolCalls: boolean;
}

export function providerCapabilities(type: ProviderType, providerName: string): ProviderCapabilities {
  switch (type) {
    case 'openai':
      return { type, optionsKey: 'openai', logprobs: { kind: 'openai' }, tools: true, streamsToolCalls: true };
    case 'openai-compatible':
      return { type, optionsKey: providerName, logprobs: { kind: 'openai-compatible', optionsName: providerName }, tools: true, streamsToolCalls: true };
    case 'anthropic':
      return { type, optionsKey: 'anthropic', logprobs: { kind: 'none' }, tools: true, streamsToolCalls: true };
    case 'google':
      return { type, optionsKey: 'google', logprobs: { kind: 'none' }, tools: true, streamsToolCalls: true };
    case 'ollama':
      return { type, optionsKey: 'ollama', logprobs: { kind: 'none' }, tools: true, streamsToolCalls: false };
    case 'local':
      return { type, optionsKey: 'local', logprobs: { kind: 'none' }, tools: false, streamsToolCalls: false };
    case 'object':
      // A LanguageModel passed from code: an AI SDK model, so tools are its package's business.
      return { type, optionsKey: providerName.split('.')[0]?.trim() || providerName, logprobs: { kind: 'none' }, tools: true, streamsToolCalls: true };
  }
}
