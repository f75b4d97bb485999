import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { CallSettings } from '../models/call-settings.js';
import type { ResolvedModel } from '../models/registry.js';
import type { BackoffOptions } from '../util/sleep.js';
import type { ResponseCache } from './response-cache.js';
import type { ChatMessage, MoAEvent, MoAEventBody, StreamMode } from './events.js';

/** What a running MoA shares with its layers and agents. */
export interface RunContext {
  emit(body: MoAEventBody): MoAEvent;
  now(): number;
  resolveModel(model: string | LanguageModelV3): ResolvedModel;
  isFinalLayer(layer: number): boolean;
  messages: readonly ChatMessage[];
  /** The final aggregator's tools, response format and sampling settings (RunOptions.final). */
  final?: CallSettings;
  /** The final aggregator asks for its first token's top N log-probabilities (a judge's soft preference). */
  topLogprobs?: number;
  /** True when the final aggregator has tools or the conversation holds tool calls: advisers are told they cannot call tools. */
  toolsInPlay: boolean;
  synthesisPrompt: string;
  stream: StreamMode;
  /** This run's place in the process's order of runs: older runs' calls go first. */
  runOrder: number;
  /** The run's own signal: aborted when its caller cancels. */
  signal: AbortSignal;
  timeoutMs: number;
  /** Longest one call may take (within timeoutMs) before it is abandoned and retried; undefined: no own limit. */
  attemptTimeoutMs?: number;
  maxRetries: number;
  /** The longest Retry-After (or pause after a 429) an agent waits for; longer gives the model up at once. */
  maxRetryAfterMs: number;
  backoff: BackoffOptions;
  /** Random numbers in [0, 1) (backoff jitter, a rank layer's shuffles); injectable for tests. */
  random: () => number;
  /** Consulted before every model call; successful answers are stored. */
  cache?: ResponseCache;
}
