/**
 * A result is a fold of the event stream: `reduceEvents(events)`. The engine
 * builds its own result this way, replay does the same from a trace, and the
 * web page folds live events with it. No `node:` imports.
 */
import type { ErrorInfo } from '../util/errors.js';
import { addUsage, ZERO_USAGE, type ChatMessage, type FinalChoice, type FinishReason, type LayerSkipReason, type MoAEvent, type StreamMode, type ToolCall, type Usage } from './events.js';

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
}

export interface LayerResult {
  index: number;
  aggregator: boolean;
  status: 'waiting' | 'running' | 'done' | 'skipped';
  agents: AgentResult[];
  /** Why the layer did not run (status 'skipped'). */
  skipped?: { reason: LayerSkipReason; message: string };
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
    lastSeq: -1,
  };
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
        agent.text = '';
      }
      break;
    }
    case 'agent-call': {
      const agent = agentAt(state, event.layer, event.agent);
      if (agent) agent.calls = (agent.calls ?? 0) + 1;
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
        agent.text = '';
        delete agent.toolCalls;
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
