/**
 * A result is a fold of the event stream: `reduceEvents(events)`. The engine
 * builds its own result this way, replay does the same from a trace, and the
 * web page folds live events with it. No `node:` imports.
 */
import type { ErrorInfo } from '../util/errors.js';
import {
  addUsage,
  ZERO_USAGE,
  type ChatMessage,
  type DegradedEntry,
  type DegradedReason,
  type FinalChoice,
  type FinishReason,
  type LayerSkipReason,
  type MoAEvent,
  type PlannedLayer,
  type RankingEntry,
  type RankingReview,
  type StreamMode,
  type ToolCall,
  type Usage,
} from './events.js';

export type AgentStatus = 'waiting' | 'running' | 'streaming' | 'retrying' | 'done' | 'failed' | 'cut' | 'skipped';

export interface AgentResult {
  model: string;
  name?: string;
  status: AgentStatus;
  /** The answer; while streaming, the text received so far. */
  text?: string;
  error?: ErrorInfo;
  /** Every failed attempt's error, oldest first (retries and fallbacks included). */
  errors: ErrorInfo[];
  usage: Usage;
  latencyMs?: number;
  attempts: number;
  /** Requests that reached a provider (from `agent-call` events; absent in traces written before them). */
  calls?: number;
  finishReason?: FinishReason;
  /** True when the answer came from the response cache. */
  cached?: boolean;
  /** The first token's top log-probabilities, when the agent asked for them and the provider returned some. */
  topLogprobs?: Array<{ token: string; logprob: number }>;
  /** Tool calls the agent answered with (while streaming: as received so far). */
  toolCalls?: ToolCall[];
  /** Calls a multi-step agent made (early restarts, staircase parts, windows); absent for one-call agents. */
  steps?: number;
}

export interface LayerResult {
  index: number;
  aggregator: boolean;
  status: 'waiting' | 'running' | 'done' | 'skipped';
  agents: AgentResult[];
  /** What the layer does (traces written before layer kinds: propose first, synthesize after). */
  kind: NonNullable<PlannedLayer['kind']>;
  /** Why the layer did not run (status 'skipped'). */
  skipped?: { reason: LayerSkipReason; message: string };
  /** A rank layer: each reviewer's ranking and their aggregate (best first). */
  ranking?: { reviews: RankingReview[]; ranking: RankingEntry[]; summary: string };
}

export interface Warning {
  code: string;
  message: string;
  layer?: number;
  agent?: number;
}

export interface MoAResult {
  runId: string;
  preset?: string;
  status: 'running' | 'done' | 'failed';
  /** The final answer ('' when the run failed). */
  text: string;
  /** Why the final answer ended ('tool-calls' when it calls tools). */
  finishReason?: FinishReason;
  /** The tool calls the final answer makes, if any. */
  toolCalls?: ToolCall[];
  /** Every final answer, when the run asked for several (`samples`); `text` is the first. */
  choices?: FinalChoice[];
  /** Run start to the first text of the final answer. */
  ttftMs?: number;
  /**
   * Where the answer was made with less than planned: an agent that failed or was cut, a fallback model,
   * an answer left out because it came too late. Empty when every planned agent contributed.
   */
  degraded: DegradedEntry[];
  /** `draft: true`: the proposer streaming as the draft. */
  draft?: { layer: number; agent: number; model: string };
  /** Each provider's concurrency limit in force at its last call (adaptive limits move). */
  concurrency?: Record<string, number>;
  messages: ChatMessage[];
  stream: StreamMode;
  layers: LayerResult[];
  /** Tokens spent by every agent of every layer. */
  usage: Usage;
  latencyMs: number;
  warnings: Warning[];
  error?: ErrorInfo;
  /** The sequence number of the last event folded in. */
  lastSeq: number;
}

export function initialResult(runId = ''): MoAResult {
  return {
    runId,
    status: 'running',
    text: '',
    messages: [],
    stream: 'none',
    layers: [],
    usage: { ...ZERO_USAGE },
    latencyMs: 0,
    warnings: [],
    degraded: [],
    lastSeq: -1,
  };
}

/** One entry per agent: the latest reason wins (a fallback that then failed is 'failed'). */
function markDegraded(state: MoAResult, layer: number, agent: number, reason: DegradedReason, message: string): void {
  const existing = state.degraded.find((entry) => entry.layer === layer && entry.agent === agent);
  if (existing) {
    existing.reason = reason;
    existing.message = message;
  } else state.degraded.push({ layer, agent, reason, message });
}

function agentAt(state: MoAResult, layer: number, agent: number): AgentResult | undefined {
  return state.layers[layer]?.agents[agent];
}

/**
 * Fold one event into the state, in place, and return it. Mutation keeps the
 * per-token cost flat; callers that need immutability copy before folding.
 */
export function applyEvent(state: MoAResult, event: MoAEvent): MoAResult {
  state.lastSeq = event.seq;
  state.latencyMs = event.t;
  switch (event.type) {
    case 'run-start':
      state.runId = event.runId;
      if (event.preset !== undefined) state.preset = event.preset;
      state.messages = event.messages;
      state.stream = event.stream;
      state.layers = event.layers.map((layer, index) => ({
        index,
        aggregator: layer.aggregator,
        kind: layer.kind ?? (index === 0 ? 'propose' : 'synthesize'),
        status: 'waiting',
        agents: layer.agents.map((agent) => ({
          model: agent.model,
          ...(agent.name !== undefined ? { name: agent.name } : {}),
          status: 'waiting' as const,
          errors: [],
          usage: { ...ZERO_USAGE },
          attempts: 0,
        })),
      }));
      break;
    case 'layer-start': {
      const layer = state.layers[event.layer];
      if (layer) layer.status = 'running';
      break;
    }
    case 'agent-start': {
      const agent = agentAt(state, event.layer, event.agent);
      if (agent) {
        agent.status = 'running';
        agent.model = event.model;
        agent.attempts += 1;
        // A call that continues the text already shown keeps it: the answer never shrinks.
        if (!event.continues) agent.text = '';
      }
      break;
    }
    case 'agent-step': {
      const agent = agentAt(state, event.layer, event.agent);
      if (agent) agent.steps = event.step;
      break;
    }
    case 'layer-ranking': {
      const layer = state.layers[event.layer];
      if (layer) layer.ranking = { reviews: event.reviews, ranking: event.ranking, summary: event.summary };
      break;
    }
    case 'draft-start':
      state.draft = { layer: event.layer, agent: event.agent, model: event.model };
      break;
    case 'agent-call': {
      const agent = agentAt(state, event.layer, event.agent);
      if (agent) agent.calls = (agent.calls ?? 0) + 1;
      if (event.concurrency !== undefined) (state.concurrency ??= {})[event.model.slice(0, event.model.indexOf(':'))] = event.concurrency;
      break;
    }
    case 'agent-tool-call-delta': {
      const agent = agentAt(state, event.layer, event.agent);
      if (agent) {
        agent.status = 'streaming';
        const calls = (agent.toolCalls ??= []);
        const call = (calls[event.index] ??= { id: event.toolCallId, name: event.toolName, arguments: '' });
        call.arguments += event.argumentsDelta;
      }
      break;
    }
    case 'agent-delta': {
      const agent = agentAt(state, event.layer, event.agent);
      if (agent) {
        agent.status = 'streaming';
        agent.text = (agent.text ?? '') + event.delta;
      }
      break;
    }
    case 'agent-retry': {
      const agent = agentAt(state, event.layer, event.agent);
      if (agent) {
        agent.status = 'retrying';
        agent.errors.push(event.error);
        // Text already shown stays: the next attempt continues after it.
        if (!event.continues) {
          agent.text = '';
          delete agent.toolCalls;
        }
      }
      if (event.nextModel !== undefined) {
        markDegraded(state, event.layer, event.agent, 'fallback', `${event.model} failed (${event.error.message}); ${event.nextModel} answered instead`);
      }
      break;
    }
    case 'agent-end': {
      const agent = agentAt(state, event.layer, event.agent);
      if (agent) {
        agent.status = 'done';
        agent.model = event.model;
        agent.text = event.text;
        agent.usage = event.usage;
        agent.latencyMs = event.latencyMs;
        agent.attempts = event.attempts;
        agent.finishReason = event.finishReason;
        if (event.cached) agent.cached = true;
        else delete agent.cached;
        if (event.topLogprobs) agent.topLogprobs = event.topLogprobs;
        else delete agent.topLogprobs;
        if (event.toolCalls) agent.toolCalls = event.toolCalls;
        else delete agent.toolCalls;
        delete agent.error;
      }
      state.usage = addUsage(state.usage, event.usage);
      break;
    }
    case 'agent-error': {
      const agent = agentAt(state, event.layer, event.agent);
      if (agent) {
        agent.status = event.cut ? 'cut' : 'failed';
        agent.model = event.model;
        agent.error = event.error;
        agent.errors = event.errors;
        agent.usage = event.usage;
        agent.latencyMs = event.latencyMs;
        agent.attempts = event.attempts;
        delete agent.text;
      }
      state.usage = addUsage(state.usage, event.usage);
      if (event.error.code === 'not_needed') markDegraded(state, event.layer, event.agent, 'left-out', event.error.message);
      else if (event.error.code !== 'aborted') markDegraded(state, event.layer, event.agent, event.cut ? 'cut' : 'failed', event.error.message);
      break;
    }
    case 'layer-end': {
      const layer = state.layers[event.layer];
      if (layer) layer.status = 'done';
      break;
    }
    case 'layer-skipped': {
      const layer = state.layers[event.layer];
      if (layer) {
        layer.status = 'skipped';
        layer.skipped = { reason: event.reason, message: event.message };
        for (const agent of layer.agents) if (agent.status === 'waiting') agent.status = 'skipped';
      }
      break;
    }
    case 'warning':
      if (event.code === 'reference-left-out' && event.layer !== undefined && event.agent !== undefined) {
        markDegraded(state, event.layer, event.agent, 'left-out', event.message);
      }
      state.warnings.push({
        code: event.code,
        message: event.message,
        ...(event.layer !== undefined ? { layer: event.layer } : {}),
        ...(event.agent !== undefined ? { agent: event.agent } : {}),
      });
      break;
    case 'run-end':
      state.status = 'done';
      state.text = event.text;
      if (event.finishReason !== undefined) state.finishReason = event.finishReason;
      if (event.toolCalls) state.toolCalls = event.toolCalls;
      if (event.choices) state.choices = event.choices;
      if (event.ttftMs !== undefined) state.ttftMs = event.ttftMs;
      state.usage = event.usage;
      state.latencyMs = event.latencyMs;
      break;
    case 'run-error':
      state.status = 'failed';
      state.error = event.error;
      state.usage = event.usage;
      state.latencyMs = event.latencyMs;
      break;
  }
  return state;
}

export function reduceEvents(events: Iterable<MoAEvent>): MoAResult {
  let state = initialResult();
  for (const event of events) state = applyEvent(state, event);
  return state;
}
