/**
 * One agent from its first call to its answer. It asks its reference feed for a view of the
 * previous layer (waiting as the aggregation policy says), calls its model with it, and repeats
 * while the feed has newer views: an early start restarting or continuing when another answer
 * arrives, the parts of a staircase, the windows of a windowed aggregator. Each call goes through
 * the model and then its fallbacks, retrying with backoff that honours Retry-After (a wait too long
 * gives the model up at once), within the model's time budget.
 *
 * What the agent has shown is never taken back: a call after text was committed (a later step, or
 * a retry after a call broke off mid-stream) continues that text, and the joiner drops what the
 * model repeats. Every step is an event (`agent-step`), so a trace explains the run.
 */
import type { LanguageModelV3Prompt } from '@ai-sdk/provider';
import type { ToolCallDelta } from '../models/call-model.js';
import type { CallSettings } from '../models/call-settings.js';
import type { ResolvedModel } from '../models/registry.js';
import { ProviderError, toErrorInfo, type ErrorInfo } from '../util/errors.js';
import { backoffDelay, sleep } from '../util/sleep.js';
import { AgentDeadline } from './agent-deadline.js';
import { ContinuationJoiner } from './continuation.js';
import { addUsage, ZERO_USAGE, type FinishReason, type ToolCall, type Usage } from './events.js';
import { estimateTokens, type AgentOutput } from './layer-outputs.js';
import { attempt, rateLimitedError } from './model-attempt.js';
import type { ReferenceFeed, ReferenceView } from './reference-feed.js';
import type { ResolvedAgent } from './resolve-preset.js';
import { responseCacheKey, type CachedResponse } from './response-cache.js';
import type { RunContext } from './run-context.js';
import { checkStructuredAnswer } from './structured-output.js';

export { rateLimitedError };

export type AgentOutcome =
  | { ok: true; text: string; usage: Usage; finishReason: FinishReason; toolCalls?: ToolCall[] }
  | {
      ok: false;
      error: ErrorInfo;
      errors: ErrorInfo[];
      cut: boolean;
      aborted: boolean;
      /** Requests that reached a provider (0: the agent never left the queue). */
      calls: number;
      /** The agent never started: its feed failed (the previous layer's error says why). */
      notStarted?: boolean;
    };

/** The reason a layer gives when its straggler policy cuts an agent. */
export const CUT_REASON = Symbol('moa.cut');
/** The reason the run gives agents still running once the final answer is written. */
export const NOT_NEEDED_REASON = Symbol('moa.not-needed');
/** The reason a feed's newer view gives the call it interrupts. */
const RESTART_REASON = Symbol('moa.restart');

export interface AgentTask {
  layer: number;
  index: number;
  agent: ResolvedAgent;
  feed: ReferenceFeed;
  /** Where the agent's committed text goes as it grows (the next layer reads it). */
  output: AgentOutput;
  /** The call of each view: the prompt for these references, continuing `written` when it is not empty. */
  buildPrompt: (view: ReferenceView, written: string) => LanguageModelV3Prompt;
  /** Emit agent-delta events for this delta? (asked per delta: a draft is picked by its first token) */
  watched: () => boolean;
  /** Stream calls even when nobody watches: a staircase consumer reads the text as it grows. */
  streams: boolean;
  /** The final aggregator's tools, response format and sampling settings. */
  settings?: CallSettings;
  /** This agent's occurrence among same-model agents of its layer (part of the cache key). */
  sample: number;
  /** Ask for the first token's top N log-probabilities (a judge's call; the final aggregator's option). */
  topLogprobs?: number;
  signal: AbortSignal;
  /** Called once, when the agent has its first view and is about to call (the layer starts). */
  onStart?: (view: ReferenceView) => void;
  /** Whether another agent of the layer has started (an agent stopped before its first call is then reported). */
  layerStarted?: () => boolean;
}

/** Why an agent stopped when its signal aborted: cut by its layer's straggler policy, not needed any more, or cancelled. */
function stoppedError(model: string, signal: AbortSignal, waitingToRetry: boolean, calls: number): { info: ErrorInfo; cut: boolean } {
  if (signal.reason === NOT_NEEDED_REASON) {
    return { info: { name: 'CutError', code: 'not_needed', message: `${model}: stopped, the final answer was written without it` }, cut: true };
  }
  const cut = signal.reason === CUT_REASON;
  const how = calls === 0 ? 'not started: cut while still queued' : waitingToRetry ? 'cut while waiting to retry' : 'cut after the grace period';
  const info: ErrorInfo = cut
    ? { name: 'CutError', code: 'cut', message: `${model}: ${how} (the straggler policy's quorum was reached)` }
    : { name: 'AbortedError', code: 'aborted', message: `${model}: cancelled` };
  return { info, cut };
}

type StepOutcome =
  | {
      kind: 'done';
      text: string;
      usage: Usage;
      finishReason: FinishReason;
      toolCalls?: ToolCall[];
      cached: boolean;
      topLogprobs?: Array<{ token: string; logprob: number }>;
    }
  | { kind: 'interrupted'; view: ReferenceView; usage: Usage }
  | { kind: 'failed'; stopped?: { info: ErrorInfo; cut: boolean } };

export async function runAgent(context: RunContext, task: AgentTask): Promise<AgentOutcome> {
  const { layer, index, agent, feed, output, signal } = task;
  const models = [agent.label, ...agent.fallbacks];
  const settings = task.settings;
  const hasTools = (settings?.tools?.length ?? 0) > 0;
  const structured = settings?.responseFormat?.type === 'json' ? settings.responseFormat : undefined;
  const errors: ErrorInfo[] = [];
  let attempts = 0;
  let calls = 0;
  let modelIndex = 0;
  let model = agent.label;
  let written = '';
  let usage: Usage = { ...ZERO_USAGE };
  let started: number | undefined;
  let steps = 0;

  const fail = (error: ErrorInfo, cut: boolean, aborted: boolean): AgentOutcome => {
    context.emit({
      type: 'agent-error',
      layer,
      agent: index,
      model,
      error,
      errors,
      cut,
      usage,
      latencyMs: context.now() - (started ?? context.now()),
      attempts,
    });
    output.finish(false, '');
    return { ok: false, error, errors, cut, aborted, calls };
  };

  let view: ReferenceView | undefined;
  try {
    view = await feed.first(signal);
    // Stopped while its view was on the way (a skipped layer, a cut): as if stopped while waiting.
    if (signal.aborted) throw signal.reason;
  } catch (error) {
    if (signal.aborted) {
      // Stopped before its first call: say so only if its layer had started (its agents are shown).
      const { info, cut } = stoppedError(model, signal, false, 0);
      errors.push(info);
      if (!task.layerStarted?.()) {
        output.finish(false, '');
        return { ok: false, error: info, errors, cut, aborted: !cut, calls: 0, notStarted: true };
      }
      started = context.now();
      return fail(info, cut, !cut);
    }
    output.finish(false, '');
    const info = toErrorInfo(error);
    return { ok: false, error: info, errors: [info], cut: false, aborted: false, calls: 0, notStarted: true };
  }
  task.onStart?.(view);
  output.start();
  started = context.now();

  let last: Extract<StepOutcome, { kind: 'done' }> | undefined;
  while (view) {
    steps++;
    if (steps > 1 || view.reason !== 'initial') {
      const shown = view.references.filter((reference) => reference.source >= 0);
      context.emit({
        type: 'agent-step',
        layer,
        agent: index,
        step: steps,
        reason: view.reason === 'initial' ? 'continue' : view.reason,
        references: shown.map((reference) => reference.source),
        partial: shown.filter((reference) => reference.partial).map((reference) => reference.source),
        ...(view.outputTokens !== undefined ? { outputTokens: view.outputTokens } : {}),
      });
    }
    const outcome = await runStep(view);
    if (outcome.kind === 'failed') {
      if (outcome.stopped) return fail(outcome.stopped.info, outcome.stopped.cut, !outcome.stopped.cut);
      return fail(errors[errors.length - 1]!, false, false);
    }
    if (outcome.kind === 'interrupted') {
      usage = addUsage(usage, outcome.usage);
      view = outcome.view;
      continue;
    }
    usage = addUsage(usage, outcome.usage);
    last = outcome;
    try {
      view = await feed.next({ text: outcome.text, finishReason: outcome.finishReason }, signal);
    } catch (error) {
      if (!signal.aborted) throw error;
      // Stopped while waiting for more of the references: what it wrote stands, if it wrote anything.
      if (!written) {
        const { info, cut } = stoppedError(model, signal, false, calls);
        errors.push(info);
        return fail(info, cut, !cut);
      }
      view = undefined;
    }
  }
  for (const late of feed.leftOut()) {
    context.emit({
      type: 'warning',
      code: 'reference-left-out',
      message: `layer ${layer}: the answer of agent ${late + 1} came after ${agent.label} had used its restarts and was left out`,
      layer: layer - 1,
      agent: late,
    });
  }
  const final = last!;
  const text = written;
  context.emit({
    type: 'agent-end',
    layer,
    agent: index,
    model,
    text,
    usage,
    finishReason: final.finishReason,
    latencyMs: context.now() - started,
    attempts,
    ...(final.cached && steps === 1 ? { cached: true } : {}),
    ...(final.topLogprobs && final.topLogprobs.length > 0 ? { topLogprobs: final.topLogprobs } : {}),
    ...(final.toolCalls ? { toolCalls: final.toolCalls } : {}),
  });
  output.finish(true, text);
  return { ok: true, text, usage, finishReason: final.finishReason, ...(final.toolCalls ? { toolCalls: final.toolCalls } : {}) };

  /** One view's call: the model, then its fallbacks, with retries; a retry after shown text continues it. */
  async function runStep(stepView: ReferenceView): Promise<StepOutcome> {
    let stepUsage: Usage = { ...ZERO_USAGE };
    for (; modelIndex < models.length; modelIndex++) {
      const resolved = context.resolveModel(modelIndex === 0 ? agent.model : models[modelIndex]!);
      model = resolved.label;
      const maxRetries = resolved.maxRetries ?? context.maxRetries;
      // One budget per step for everything this model does: queue, rate limits, retries, calls.
      const deadline = new AgentDeadline(resolved.timeoutMs ?? context.timeoutMs, signal, resolved);
      try {
        for (let retry = 0; ; retry++) {
          const result = await oneAttempt(stepView, resolved, deadline);
          if (result.kind === 'ok') {
            return { ...result.step, usage: addUsage(stepUsage, result.step.usage) };
          }
          if (result.kind === 'interrupted') return { kind: 'interrupted', view: result.view, usage: addUsage(stepUsage, result.usage) };
          if (result.kind === 'stopped') return { kind: 'failed', stopped: result.stopped };
          stepUsage = addUsage(stepUsage, result.usage);
          // The budget ran out while queued or calling: the timeout is the error (this model is done).
          const error = deadline.expired ? deadline.reason : result.error;
          const info = toErrorInfo(error);
          const retryable = error instanceof ProviderError && error.isRetryable && !deadline.expired;
          errors.push(info);
          if (!retryable || retry >= maxRetries) break;
          // Retry-After is honoured as sent, unless it is longer than a run waits or than the budget left:
          // then this model is given up at once (the fallback, if any, takes over) instead of sitting silent.
          const retryAfterMs = error.retryAfterMs;
          const pausedForMs = resolved.lane.pausedForMs(resolved.label);
          const waitMs = Math.max(retryAfterMs ?? 0, pausedForMs);
          if (waitMs > context.maxRetryAfterMs || waitMs >= deadline.remainingMs()) {
            errors.push(toErrorInfo(rateLimitedError(resolved, waitMs, waitMs > context.maxRetryAfterMs ? 'cap' : 'deadline', context.maxRetryAfterMs)));
            break;
          }
          // The delay really applied: the provider's Retry-After, or our backoff, or the pause another call's 429 started.
          const delayMs = Math.max(retryAfterMs ?? backoffDelay(retry + 1, context.backoff), pausedForMs);
          context.emit({
            type: 'agent-retry',
            layer,
            agent: index,
            attempt: attempts,
            model,
            error: info,
            delayMs,
            ...(written ? { continues: true } : {}),
          });
          try {
            await sleep(delayMs, deadline.signal);
          } catch {
            if (signal.aborted) {
              const stopped = stoppedError(model, signal, true, calls);
              errors.push(stopped.info);
              return { kind: 'failed', stopped };
            }
            errors.push(toErrorInfo(deadline.reason));
            break;
          }
        }
      } finally {
        deadline.release();
      }
      const nextModel = models[modelIndex + 1];
      if (nextModel !== undefined) {
        const lastError = errors[errors.length - 1]!;
        context.emit({
          type: 'agent-retry',
          layer,
          agent: index,
          attempt: attempts,
          model,
          error: lastError,
          delayMs: 0,
          nextModel,
          ...(written ? { continues: true } : {}),
        });
        context.emit({ type: 'warning', code: 'fallback', message: `${lastError.message}; falling back to ${nextModel}`, layer, agent: index });
      }
    }
    modelIndex = models.length - 1; // later steps (if any) stay with the last model tried
    return { kind: 'failed' };
  }

  type AttemptResult =
    | { kind: 'ok'; step: Extract<StepOutcome, { kind: 'done' }> }
    | { kind: 'interrupted'; view: ReferenceView; usage: Usage }
    | { kind: 'stopped'; stopped: { info: ErrorInfo; cut: boolean } }
    | { kind: 'error'; error: unknown; usage: Usage };

  /** One call of one model for one view: from the cache, or sent; streamed when watched or read as it grows. */
  async function oneAttempt(stepView: ReferenceView, resolved: ResolvedModel, deadline: AgentDeadline): Promise<AttemptResult> {
    const continuing = stepView.commits && written.length > 0;
    const prompt = task.buildPrompt(stepView, continuing ? written : '');
    const commits = stepView.commits;
    const alreadyWritten = estimateTokens(written);
    const budget =
      stepView.outputTokens !== undefined
        ? Math.min(stepView.outputTokens, agent.maxTokens ?? Infinity)
        : agent.maxTokens !== undefined
          ? Math.max(1, agent.maxTokens - (continuing ? alreadyWritten : 0))
          : undefined;
    const joiner = continuing ? new ContinuationJoiner(written) : undefined;
    const commit = (delta: string): void => {
      if (!delta || !commits) return;
      written += delta;
      output.append(delta);
      if (task.watched()) context.emit({ type: 'agent-delta', layer, agent: index, delta });
    };
    // JSON is checked before anyone sees it, so such an answer is committed in one piece; otherwise text is
    // committed as it streams when someone watches it or reads it as it grows.
    const streamIt = commits && !structured && (task.streams || task.watched());
    const onDelta = streamIt ? (delta: string) => commit(joiner ? joiner.push(delta) : delta) : undefined;
    const onToolCallDelta =
      streamIt && hasTools ? (delta: ToolCallDelta) => void context.emit({ type: 'agent-tool-call-delta', layer, agent: index, ...delta }) : undefined;

    const cacheKey = context.cache
      ? responseCacheKey({
          provider: resolved.provider,
          modelId: resolved.modelId,
          prompt,
          ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
          ...(budget !== undefined ? { maxTokens: budget } : {}),
          sample: task.sample,
          ...(task.topLogprobs !== undefined ? { topLogprobs: task.topLogprobs } : {}),
          ...(settings !== undefined ? { settings } : {}),
        })
      : undefined;
    const finishText = (text: string, streamed: boolean): string => {
      // What was not streamed is committed now (through the joiner when continuing).
      if (!streamed) commit(joiner ? joiner.push(text) + joiner.end() : text);
      else if (joiner) commit(joiner.end());
      return text;
    };

    if (context.cache && cacheKey !== undefined) {
      let hit: CachedResponse | undefined;
      try {
        hit = await context.cache.get(cacheKey);
      } catch (error) {
        context.emit({ type: 'warning', code: 'cache-error', message: `response cache read failed: ${toErrorInfo(error).message}`, layer, agent: index });
      }
      // An answer stored without log-probabilities (by a store that keeps only text and usage) cannot serve a call that asks for them.
      if (hit && task.topLogprobs !== undefined && !Array.isArray(hit.topLogprobs)) hit = undefined;
      if (hit && !signal.aborted) {
        attempts++;
        context.emit({ type: 'agent-start', layer, agent: index, model, ...(written ? { continues: true } : {}) });
        const text = finishText(hit.text, false);
        if (task.watched()) {
          hit.toolCalls?.forEach((call, callIndex) =>
            context.emit({
              type: 'agent-tool-call-delta',
              layer,
              agent: index,
              index: callIndex,
              toolCallId: call.id,
              toolName: call.name,
              argumentsDelta: call.arguments,
            }),
          );
        }
        return {
          kind: 'ok',
          step: {
            kind: 'done',
            text,
            usage: hit.usage,
            finishReason: hit.finishReason,
            cached: true,
            ...(hit.toolCalls ? { toolCalls: hit.toolCalls } : {}),
            ...(hit.topLogprobs ? { topLogprobs: hit.topLogprobs } : {}),
          },
        };
      }
    }

    attempts++;
    const attemptNumber = attempts;
    context.emit({ type: 'agent-start', layer, agent: index, model, ...(written ? { continues: true } : {}) });
    // A newer view may interrupt this call (an early start meeting another answer).
    const interruption = new AbortController();
    const callSignal = AbortSignal.any([deadline.signal, interruption.signal]);
    let interruptedBy: ReferenceView | undefined;
    const watch = feed.interruption?.(interruption.signal);
    watch?.then(
      (newer) => {
        interruptedBy = newer;
        interruption.abort(RESTART_REASON);
      },
      () => undefined,
    );
    try {
      const result = await attempt(
        context,
        layer,
        resolved,
        {
          prompt,
          ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
          ...(budget !== undefined ? { maxTokens: budget } : {}),
          ...(onDelta ? { onDelta } : {}),
          ...(onToolCallDelta ? { onToolCallDelta } : {}),
          ...(task.topLogprobs !== undefined ? { topLogprobs: task.topLogprobs } : {}),
          ...(settings ? { settings } : {}),
          ...(continuing ? { allowEmpty: true } : {}),
        },
        deadline,
        (limit) => {
          calls++;
          context.emit({ type: 'agent-call', layer, agent: index, model, attempt: attemptNumber, concurrency: limit });
        },
        callSignal,
      );
      let text = result.text;
      if (structured && !result.toolCalls) {
        const check = checkStructuredAnswer(text, structured);
        if (!check.ok) {
          throw new ProviderError(`${resolved.label}: ${check.reason}`, {
            provider: resolved.provider,
            model: resolved.label,
            isRetryable: true,
            code: 'invalid_output',
          });
        }
        text = check.text;
      }
      finishText(text, onDelta !== undefined);
      if (context.cache && cacheKey !== undefined) {
        try {
          await context.cache.set(cacheKey, {
            text,
            usage: result.usage,
            finishReason: result.finishReason,
            ...(task.topLogprobs !== undefined ? { topLogprobs: result.topLogprobs ?? [] } : {}),
            ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
          });
        } catch (error) {
          context.emit({ type: 'warning', code: 'cache-error', message: `response cache write failed: ${toErrorInfo(error).message}`, layer, agent: index });
        }
      }
      return {
        kind: 'ok',
        step: {
          kind: 'done',
          text,
          usage: result.usage,
          finishReason: result.finishReason,
          cached: false,
          ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
          ...(result.topLogprobs ? { topLogprobs: result.topLogprobs } : {}),
        },
      };
    } catch (thrown) {
      if (signal.aborted) {
        const stopped = stoppedError(model, signal, false, calls);
        errors.push(stopped.info);
        return { kind: 'stopped', stopped };
      }
      if (interruptedBy) {
        if (joiner) commit(joiner.end());
        return { kind: 'interrupted', view: interruptedBy, usage: { ...ZERO_USAGE } };
      }
      if (joiner) commit(joiner.end());
      return { kind: 'error', error: thrown, usage: { ...ZERO_USAGE } };
    } finally {
      if (!interruption.signal.aborted) interruption.abort();
    }
  }
}
