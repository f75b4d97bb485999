/** What one item of a batch is and what its work is given: the runner's context (runs and calls with the batch's limits, cache, cost and traces). */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { PresetInput } from '../core/config-schema.js';
import type { Usage } from '../core/events.js';
import type { MoAResult } from '../core/reducer.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import type { MoAInput, RunOptions } from '../core/stream-moa.js';
import type { ModelRegistry } from '../models/registry.js';

export interface BatchItem {
  /** Unique within the batch; the resume key. */
  id: string;
}

/** Options of one MoA run inside an item (the batch's registry, cache and signal are always used). */
export type ItemRunOptions = Pick<RunOptions, 'stream' | 'timeoutMs' | 'maxRetries' | 'onEvent' | 'runId' | 'final' | 'draft'>;

export interface ModelCallOptions {
  temperature?: number;
  maxTokens?: number;
  /** A system prompt for this call (in addition to any system messages of `input`). */
  system?: string;
  timeoutMs?: number;
  maxRetries?: number;
  /** Ask for the first token's top N log-probabilities (openai and openai-compatible providers; others ignore it). */
  topLogprobs?: number;
}

export interface ModelAnswer {
  text: string;
  usage: Usage;
  /** True when the answer came from the response cache. */
  cached: boolean;
  latencyMs: number;
  /** The first token's top log-probabilities, when asked for (`topLogprobs`) and the provider returned some. */
  topLogprobs?: Array<{ token: string; logprob: number }>;
}

export interface BatchItemContext {
  readonly id: string;
  /** Aborted when the batch is interrupted. */
  readonly signal: AbortSignal;
  readonly registry: ModelRegistry;
  /**
   * One MoA run with the batch's registry (limits), cache and signal; its usage
   * and cost count for the item; with `tracesDir` its events go to
   * `<dir>/<id>.jsonl` (the item's second run to `<id>.2.jsonl`, …).
   * Rejects with MoARunError (carrying the partial result) when the run fails.
   */
  runMoA(preset: PresetInput | ResolvedPreset, input: MoAInput, options?: ItemRunOptions): Promise<MoAResult>;
  /** One call to one model (a judge): a one-layer run, with the same retries, limits, cache, cost and traces. */
  callModel(model: string | LanguageModelV3, input: MoAInput, options?: ModelCallOptions): Promise<ModelAnswer>;
  /** Tokens of every call of this item so far (cache hits included). */
  readonly usage: Usage;
  /** USD spent by this item so far (cache hits are free); undefined when a model used has no price. */
  readonly costUsd: number | undefined;
  /** Answers of this item served from the cache. */
  readonly cacheHits: number;
  /** Milliseconds since the item started. */
  elapsedMs(): number;
}

/** A source entry that is not an item (a bad input line): reported and skipped, or fatal with `strict`. */
export interface InvalidInput {
  invalid: true;
  /** 1-based line (or record number) in the input. */
  line: number;
  message: string;
}

export type BatchSource<Item> = Iterable<Item | InvalidInput> | AsyncIterable<Item | InvalidInput>;
