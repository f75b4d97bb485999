/**
 * When a synthesizing agent may call its model, and what it sees of the previous layer: the
 * aggregation policy as a feed of views. An agent asks for its `first` view (waiting as the
 * policy says), calls its model with it, and after each call asks for the `next` view until there
 * is none. A feed may also interrupt a call in flight with a newer view (an early start meeting a
 * new answer).
 *
 * - barrier: one view, once the previous layer is complete, every answer whole;
 * - window (Self-MoA-Seq): the complete answers W at a time, the running synthesis carried on;
 * - early: once `after` answers are in (or `deadlineMs` after the first), then a restart or a
 *   continuation for each later answer, at most `maxRestarts`; answers after that are left out;
 * - staircase: views of every answer's beginning, each `chunk` tokens further than the last
 *   (chunks grow by `growth`), the agent writing its own answer a part at a time; the last view
 *   sees every answer whole.
 */
import { AbortedError } from '../util/errors.js';
import type { AgentStepReason, FinishReason } from './events.js';
import { estimateTokens, type CompletedLayer, type LayerOutputs, type Reference } from './layer-outputs.js';
import type { AggregationPolicy } from './resolve-preset.js';

/** A reference the feed adds itself: the running synthesis of a windowed aggregator. */
export const SYNTHESIS_SOURCE = -1;

export interface ReferenceView {
  references: Reference[];
  /** A rank layer's summary of the peer review, when the references come from one. */
  summary?: string;
  /** 'initial' for a one-call agent's only view (no agent-step event). */
  reason: AgentStepReason | 'initial';
  /** Go on after the text already written (true), or write a fresh answer. */
  continues: boolean;
  /** The most tokens this call writes (a staircase part); absent: to the end. */
  outputTokens?: number;
  /** This call's text is part of the agent's answer (false for a window before the last). */
  commits: boolean;
}

export interface StepEnd {
  /** What the call wrote (for a window: the running synthesis). */
  text: string;
  finishReason: FinishReason;
}

export interface ReferenceFeed {
  first(signal: AbortSignal): Promise<ReferenceView>;
  /** A newer view that should interrupt the call in flight; undefined when this feed never interrupts. */
  interruption?(signal: AbortSignal): Promise<ReferenceView>;
  next(step: StepEnd, signal: AbortSignal): Promise<ReferenceView | undefined>;
  /** The previous layer's agents whose answers came too late and were left out (early). */
  leftOut(): number[];
}

function cut(text: string, maxTokens: number | undefined): string {
  if (maxTokens === undefined || estimateTokens(text) <= maxTokens) return text;
  const kept = text.slice(0, maxTokens * 4);
  return `${kept}\n[… cut here: about ${estimateTokens(text) - estimateTokens(kept)} more tokens]`;
}

function withLimit(references: Reference[], maxTokens: number | undefined): Reference[] {
  return maxTokens === undefined ? references : references.map((reference) => ({ ...reference, text: cut(reference.text, maxTokens) }));
}

/**
 * Resolve when `ready()` returns true, checked now and at every change of `source`; reject when
 * the signal aborts or `source` fails (its error), or resolve early when `deadline` passes.
 */
function until(source: LayerOutputs, ready: () => boolean, signal: AbortSignal, deadlineMs?: () => number | undefined): Promise<void> {
  if (signal.aborted) return Promise.reject(signal.reason ?? new AbortedError());
  if (ready()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const done = (error?: unknown): void => {
      off();
      signal.removeEventListener('abort', onAbort);
      if (timer !== undefined) clearTimeout(timer);
      // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- the source's own error, passed on as it came
      if (error !== undefined) reject(error);
      else resolve();
    };
    const armDeadline = (): void => {
      const at = deadlineMs?.();
      if (at === undefined || timer !== undefined) return;
      timer = setTimeout(() => done(), Math.max(0, at - Date.now()));
    };
    const check = (): void => {
      if (ready()) done();
      else armDeadline();
    };
    const off = source.onChange(check);
    const onAbort = (): void => done(signal.reason ?? new AbortedError());
    signal.addEventListener('abort', onAbort, { once: true });
    // A source that fails (below minSuccessful) never becomes ready: fail with it.
    source.complete.catch((error: unknown) => done(error));
    armDeadline();
  });
}

export function noReferencesFeed(): ReferenceFeed {
  return {
    first: async () => ({ references: [], reason: 'initial', continues: false, commits: true }),
    next: async () => undefined,
    leftOut: () => [],
  };
}

export function barrierFeed(inputs: LayerOutputs, referenceMaxTokens?: number): ReferenceFeed {
  return {
    async first() {
      const layer = await inputs.complete;
      return {
        references: withLimit(layer.references, referenceMaxTokens),
        ...(layer.summary !== undefined ? { summary: layer.summary } : {}),
        reason: 'initial',
        continues: false,
        commits: true,
      };
    },
    next: async () => undefined,
    leftOut: () => [],
  };
}

/** W references at a time; each window after the first also sees the synthesis so far, as its first reference. */
export function windowFeed(inputs: LayerOutputs, size: number, referenceMaxTokens?: number): ReferenceFeed {
  let layer: CompletedLayer | undefined;
  let position = 0;
  const view = (references: Reference[], end: number, withSynthesis: string | undefined): ReferenceView => {
    const last = end >= layer!.references.length;
    return {
      references: [
        ...(withSynthesis !== undefined ? [{ source: SYNTHESIS_SOURCE, text: withSynthesis, partial: false }] : []),
        ...withLimit(references, referenceMaxTokens),
      ],
      ...(last && layer!.summary !== undefined ? { summary: layer!.summary } : {}),
      reason: layer!.references.length > size ? 'window' : 'initial',
      continues: false,
      commits: last,
    };
  };
  return {
    async first() {
      layer = await inputs.complete;
      position = Math.min(size, layer.references.length);
      return view(layer.references.slice(0, position), position, undefined);
    },
    async next(step) {
      if (!layer || position >= layer.references.length) return undefined;
      const start = position;
      position = Math.min(layer.references.length, position + size);
      return view(layer.references.slice(start, position), position, step.text);
    },
    leftOut: () => [],
  };
}

export function earlyFeed(inputs: LayerOutputs, policy: Extract<AggregationPolicy, { mode: 'early' }>, referenceMaxTokens?: number): ReferenceFeed {
  let source: LayerOutputs | undefined;
  const included = new Set<number>();
  let restarts = 0;
  let firstDoneAt: number | undefined;
  const done = (): number[] => source!.agents.filter((agent) => agent.state === 'done').map((agent) => agent.agent);
  const allFinished = (): boolean => source!.agents.every((agent) => agent.finished);
  const fresh = (): number[] => done().filter((agent) => !included.has(agent));
  const view = (reason: ReferenceView['reason'], continues: boolean): ReferenceView => {
    for (const agent of done()) included.add(agent);
    const references = [...included].sort((a, b) => a - b).map((agent) => ({ source: agent, text: source!.agents[agent]!.text, partial: false }));
    return { references: withLimit(references, referenceMaxTokens), reason, continues, commits: true };
  };
  const noteFirstDone = (): void => {
    if (firstDoneAt === undefined && done().length > 0) firstDoneAt = Date.now();
  };
  return {
    async first(signal) {
      source = await inputs.resolution;
      await until(
        source,
        () => {
          noteFirstDone();
          return done().length >= policy.after || allFinished();
        },
        signal,
        () => (policy.deadlineMs !== undefined && firstDoneAt !== undefined ? firstDoneAt + policy.deadlineMs : undefined),
      );
      if (done().length === 0) await inputs.complete; // every answer failed: the layer's own error says why
      return view(allFinished() ? 'initial' : 'early-start', false);
    },
    interruption(signal) {
      return (async () => {
        if (restarts >= policy.maxRestarts) return new Promise<never>(() => undefined);
        await until(source!, () => fresh().length > 0, signal);
        restarts++;
        return view('restart', true);
      })();
    },
    async next(_step, signal) {
      if (restarts >= policy.maxRestarts) return undefined;
      await until(source!, () => fresh().length > 0 || allFinished(), signal).catch((error: unknown) => {
        if (signal.aborted) throw error;
      });
      if (fresh().length === 0) return undefined;
      restarts++;
      return view('continue', true);
    },
    leftOut: () => (source ? source.agents.filter((agent) => !included.has(agent.agent) && agent.state !== 'failed').map((agent) => agent.agent) : []),
  };
}

export function staircaseFeed(inputs: LayerOutputs, policy: Extract<AggregationPolicy, { mode: 'staircase' }>, referenceMaxTokens?: number): ReferenceFeed {
  let source: LayerOutputs | undefined;
  let step = 0;
  /** Tokens of each answer the last view saw. */
  let seen: number[] = [];
  let sawEverything = false;
  const chunk = (index: number): number => Math.round(Math.min(policy.chunkTokens * 8, policy.chunkTokens * policy.growth ** index));
  const allFinished = (): boolean => source!.agents.every((agent) => agent.finished);
  /** Every answer still being written has grown by `tokens` since the last view (or ended). */
  const grownBy = (tokens: number): boolean =>
    source!.agents.every((agent) => agent.finished || agent.tokens >= (seen[agent.agent] ?? 0) + tokens) &&
    source!.agents.some((agent) => agent.state === 'done' || agent.tokens > 0);
  const view = (continues: boolean): ReferenceView => {
    const everything = allFinished();
    sawEverything = everything;
    seen = source!.agents.map((agent) => agent.tokens);
    const references = source!.agents
      .filter((agent) => agent.state !== 'failed' && agent.text.length > 0)
      .map((agent) => ({ source: agent.agent, text: agent.text, partial: !agent.finished }));
    const outputTokens = everything ? undefined : chunk(step - 1);
    return {
      references: withLimit(references, referenceMaxTokens),
      reason: 'staircase',
      continues,
      ...(outputTokens !== undefined ? { outputTokens } : {}),
      commits: true,
    };
  };
  return {
    async first(signal) {
      source = await inputs.resolution;
      step = 1;
      await until(source, () => grownBy(chunk(0)) || allFinished(), signal);
      if (allFinished() && !source.agents.some((agent) => agent.state === 'done')) await inputs.complete;
      return view(false);
    },
    async next(end, signal) {
      if (sawEverything) return undefined;
      step++;
      // An answer the model ended by itself waits for the references to end, then gets one last look.
      const wanted = end.finishReason === 'stop' ? Infinity : chunk(step - 1);
      await until(source!, () => (wanted !== Infinity && grownBy(wanted)) || allFinished(), signal);
      return view(true);
    },
    leftOut: () => [],
  };
}
