/**
 * The one event stream every face consumes (CLI, server, batch, web page).
 * Plain JSON only and no `node:` imports: the browser page imports this file.
 */
import type { FinishReason, ToolCall, Usage } from '../models/usage.js';
import type { ErrorInfo } from '../util/errors.js';

export type { ErrorInfo, FinishReason, ToolCall, Usage };

/**
 * One turn of the conversation. Tool calls and their results appear when a client runs its own
 * tool loop through MoA: only the final aggregator sees them as such; every other agent gets them
 * as plain text.
 */
export type ChatMessage =
  | { role: 'system'; content: string }
  | { role: 'user'; content: string }
  | { role: 'assistant'; content: string; toolCalls?: ToolCall[] }
  | { role: 'tool'; toolCallId: string; toolName: string; content: string };

/** One of `samples` final answers over the same references (the OpenAI `n`). */
export interface FinalChoice {
  index: number;
  text: string;
  toolCalls?: ToolCall[];
  finishReason: FinishReason;
}

/** Which agents stream their tokens as `agent-delta` events. */
export type StreamMode = 'none' | 'final' | 'all';

export type LayerSkipReason = 'agreement' | 'tool-loop';

/** Why a synthesizing agent makes another call: see core/reference-feed.ts. */
export type AgentStepReason = 'early-start' | 'restart' | 'continue' | 'staircase' | 'window';

/** One reviewer's ranking in a rank layer: the previous layer's agents, best first. */
export interface RankingReview {
  agent: number;
  order: number[];
  /** False when the reviewer's ranking could not be read (it then counts for nothing). */
  parsed: boolean;
}

export interface RankingEntry {
  /** The previous layer's agent. */
  agent: number;
  /** Mean position given by the reviewers who ranked it (1 = best). */
  meanRank: number;
  votes: number;
}

/** Why the answer was made with less than planned. */
export type DegradedReason = 'failed' | 'cut' | 'fallback' | 'left-out';

export interface DegradedEntry {
  layer: number;
  agent: number;
  reason: DegradedReason;
  message: string;
}

export interface PlannedAgent {
  model: string;
  name?: string;
}

export interface PlannedLayer {
  agents: PlannedAgent[];
  /** True for the final layer, whose single agent writes the answer the user sees. */
  aggregator: boolean;
  /** propose / synthesize / rank (absent in traces written before layer kinds: propose first, synthesize after). */
  kind?: 'propose' | 'synthesize' | 'rank';
  /** How the layer consumes the previous one, when not the barrier. */
  aggregation?: { mode: 'early'; after: number; deadlineMs?: number; maxRestarts: number } | { mode: 'staircase'; chunkTokens: number; growth: number };
  referenceMaxTokens?: number;
  window?: number;
  minSuccessful: number;
  quorum?: number;
  graceMs?: number;
}

export type MoAEventBody =
  | {
      type: 'run-start';
      preset?: string;
      layers: PlannedLayer[];
      stream: StreamMode;
      messages: ChatMessage[];
    }
  | { type: 'layer-start'; layer: number; references: number }
  /** An attempt begins (`continues`: the agent's shown text stays, this call goes on after it). */
  | { type: 'agent-start'; layer: number; agent: number; model: string; continues?: boolean }
  /**
   * A synthesizing agent's next call: it starts early, restarts or continues with more of the references, writes
   * the next part of a staircase, or synthesizes the next window. Agents that make one call emit none.
   */
  | {
      type: 'agent-step';
      layer: number;
      agent: number;
      /** 1 for the first call. */
      step: number;
      reason: AgentStepReason;
      /** The previous layer's agents this call sees, and which of them are still being written. */
      references: number[];
      partial: number[];
      /** The most tokens this step writes (a staircase step); absent: to the end. */
      outputTokens?: number;
    }
  /** A request left for the provider: the agent held a concurrency slot and passed the rate limiter (a cache hit sends none). */
  | {
      type: 'agent-call';
      layer: number;
      agent: number;
      model: string;
      attempt: number;
      /** The provider's concurrency limit in force when the call left (adaptive limits move). */
      concurrency?: number;
    }
  | { type: 'agent-delta'; layer: number; agent: number; delta: string }
  /** A streamed piece of a tool call's arguments (final aggregator with tools); `index` orders the calls of one answer. */
  | { type: 'agent-tool-call-delta'; layer: number; agent: number; index: number; toolCallId: string; toolName: string; argumentsDelta: string }
  | {
      type: 'agent-retry';
      layer: number;
      agent: number;
      /** The attempt that failed (1-based) and the model it used. */
      attempt: number;
      model: string;
      error: ErrorInfo;
      delayMs: number;
      /** Set when the agent falls back to another model instead of retrying the same one. */
      nextModel?: string;
      /** True when text of this agent was already shown: the next attempt continues after it instead of starting over. */
      continues?: boolean;
    }
  | {
      type: 'agent-end';
      layer: number;
      agent: number;
      model: string;
      text: string;
      usage: Usage;
      finishReason: FinishReason;
      latencyMs: number;
      attempts: number;
      /** True when the answer came from the response cache (no call was made). */
      cached?: boolean;
      /** The first token's top log-probabilities, when the agent asked for them (`topLogprobs`) and the provider returned some. */
      topLogprobs?: Array<{ token: string; logprob: number }>;
      /** Tool calls the final aggregator answered with (finishReason 'tool-calls'). */
      toolCalls?: ToolCall[];
    }
  | {
      type: 'agent-error';
      layer: number;
      agent: number;
      model: string;
      error: ErrorInfo;
      /** Every attempt's error, oldest first. */
      errors: ErrorInfo[];
      /** True when the straggler policy cut the agent (not a failure of the provider). */
      cut: boolean;
      usage: Usage;
      latencyMs: number;
      attempts: number;
    }
  | { type: 'layer-end'; layer: number; succeeded: number[]; failed: number[]; cut: number[] }
  /** A rank layer's reviews and their aggregate; the next layer gets the answers in that order. */
  | { type: 'layer-ranking'; layer: number; reviews: RankingReview[]; ranking: RankingEntry[]; summary: string }
  /** `draft: true`: the proposer whose answer streams as a labelled draft while the real answer is made. */
  | { type: 'draft-start'; layer: number; agent: number; model: string }
  /** A planned layer that does not run: answers already agree, or a tool loop reuses the references of its user turn. */
  | { type: 'layer-skipped'; layer: number; reason: LayerSkipReason; message: string }
  | { type: 'warning'; code: string; message: string; layer?: number; agent?: number }
  | {
      type: 'run-end';
      text: string;
      usage: Usage;
      latencyMs: number;
      /** Why the final answer ended ('tool-calls' when it calls tools). Absent in traces written before it. */
      finishReason?: FinishReason;
      toolCalls?: ToolCall[];
      /** Every final answer, when the run asked for more than one (`samples`). */
      choices?: FinalChoice[];
      /** Run start to the first text of the final answer (absent in older traces). */
      ttftMs?: number;
    }
  | { type: 'run-error'; error: ErrorInfo; usage: Usage; latencyMs: number };

export interface EventEnvelope {
  runId: string;
  /** 0, 1, 2, … with no gaps. */
  seq: number;
  /** Milliseconds since the run started, from the run's clock. */
  t: number;
}

type WithEnvelope<T> = T extends unknown ? T & EventEnvelope : never;
export type MoAEvent = WithEnvelope<MoAEventBody>;
export type MoAEventType = MoAEvent['type'];

const EVENT_TYPE_LIST = [
  'run-start',
  'layer-start',
  'agent-start',
  'agent-step',
  'agent-call',
  'agent-delta',
  'agent-tool-call-delta',
  'agent-retry',
  'agent-end',
  'agent-error',
  'layer-end',
  'layer-ranking',
  'draft-start',
  'layer-skipped',
  'warning',
  'run-end',
  'run-error',
] as const satisfies readonly MoAEventType[];

/** Every event type, in the order a run emits them (trace readers refuse others). */
export const EVENT_TYPES: readonly MoAEventType[] = EVENT_TYPE_LIST;

/** Event types missing from EVENT_TYPES: `never` (a type test holds it there). */
export type UnlistedEventType = Exclude<MoAEventType, (typeof EVENT_TYPE_LIST)[number]>;

export function addUsage(a: Usage, b: Usage): Usage {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
}

export const ZERO_USAGE: Usage = Object.freeze({ inputTokens: 0, outputTokens: 0 });
