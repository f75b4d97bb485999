/**
 * One agent: its model (then its fallbacks), retries with backoff that honour
 * Retry-After, a per-call timeout, the provider's concurrency queue, and the
 * events that tell the world about each step.
 */
import type { ResolvedModel } from '../models/registry.js';
import { callModel, type ToolCallDelta } from '../models/call-model.js';
import type { CallGrant, CallOutcome } from '../models/call-scheduler.js';
import { estimateCallTokens, RateLimitWaitError } from '../models/rate-buckets.js';
import { ProviderError, toErrorInfo, type ErrorInfo } from '../util/errors.js';
import { backoffDelay, sleep } from '../util/sleep.js';
import { AgentDeadline } from './agent-deadline.js';
import type { RunContext } from './run-context.js';
import type { ResolvedAgent } from './resolve-preset.js';
import { buildAgentPrompt } from './synthesis-prompt.js';
import { ZERO_USAGE, type FinishReason, type ToolCall, type Usage } from './events.js';
import { checkStructuredAnswer } from './structured-output.js';
import { responseCacheKey, type CachedResponse } from './response-cache.js';

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
    };

/** The reason a layer gives when its straggler policy cuts an agent. */
export const CUT_REASON = Symbol('moa.cut');

/** Seconds for messages: "3600 s", "1.5 s". */
function seconds(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** A Retry-After (or limiter pause) the agent will not wait for: this model is given up for now. */
export function rateLimitedError(resolved: ResolvedModel, waitMs: number, why: 'cap' | 'deadline', capMs: number): ProviderError {
  const longer = why === 'cap' ? `longer than the ${seconds(capMs)} a run waits for a rate limit (maxRetryAfterMs)` : 'longer than what is left of timeoutMs';
  return new ProviderError(`${resolved.label}: rate-limited by ${resolved.provider} for ${seconds(waitMs)}, ${longer}`, {
    provider: resolved.provider,
    model: resolved.label,
    status: 429,
    isRetryable: false,
    code: 'rate_limited',
  });
}

async function attempt(
  context: RunContext,
  layer: number,
  resolved: ResolvedModel,
  request: Omit<Parameters<typeof callModel>[1], 'signal'>,
  deadline: AgentDeadline,
  /** Called once the request really leaves for the provider, with the lane's concurrency limit then. */
  onSend: (limit: number) => void,
): ReturnType<typeof callModel> {
  const lane = resolved.lane;
  const queued = deadline.signal;
  // Wait for a slot, the per-minute budgets and any pause after a 429 — never past the deadline:
  // a pause longer than that (or than a run waits for a rate limit) fails the attempt at once.
  const maxWaitMs = Math.min(deadline.remainingMs(), context.maxRetryAfterMs);
  let grant: CallGrant;
  try {
    grant = await lane.acquire({
      model: resolved.label,
      priority: { layer, runOrder: context.runOrder },
      tokens: lane.unmetered ? 0 : estimateCallTokens(request.prompt, request.maxTokens),
      signal: queued,
      maxWaitMs,
    });
  } catch (error) {
    if (error instanceof RateLimitWaitError) {
      throw rateLimitedError(resolved, error.pausedForMs, maxWaitMs === context.maxRetryAfterMs ? 'cap' : 'deadline', context.maxRetryAfterMs);
    }
    throw error;
  }
  let outcome: CallOutcome = { kind: 'failed' };
  // The call's own signal: the deadline, and the attempt's own limit when one is set (a hung call is retried).
  const attemptTimeoutMs = resolved.attemptTimeoutMs ?? context.attemptTimeoutMs;
  const call = new AbortController();
  const onDeadline = (): void => call.abort(queued.reason);
  if (queued.aborted) onDeadline();
  else queued.addEventListener('abort', onDeadline, { once: true });
  const attemptTimer =
    attemptTimeoutMs !== undefined && attemptTimeoutMs < deadline.remainingMs()
      ? setTimeout(
          () =>
            call.abort(
              new ProviderError(`${resolved.label}: no complete answer within ${attemptTimeoutMs} ms (attemptTimeoutMs)`, {
                provider: resolved.provider,
                model: resolved.label,
                isRetryable: true,
                code: 'timeout',
              }),
            ),
          attemptTimeoutMs,
        )
      : undefined;
  const signal = call.signal;
  // Race the call against its own signal too, so a provider that ignores
  // the abort signal cannot hold the agent past its deadline.
  let rejectAborted: (reason: unknown) => void = () => undefined;
  const aborted = new Promise<never>((_, reject) => {
    rejectAborted = reject;
  });
  aborted.catch(() => undefined);
  const onAbort = (): void => rejectAborted(signal.reason);
  signal.addEventListener('abort', onAbort, { once: true });
  try {
    if (signal.aborted) throw signal.reason;
    onSend(grant.limit);
    const onDelta = request.onDelta;
    const guarded = onDelta ? { ...request, onDelta: (delta: string) => void (signal.aborted || onDelta(delta)) } : request;
    const result = await Promise.race([callModel(resolved, { ...guarded, signal }), aborted]);
    outcome = { kind: 'ok', tokens: result.usage.inputTokens + result.usage.outputTokens };
    return result;
  } catch (error) {
    // A 429 pauses the model that answered it (the lane, when the limit is account-wide) and halves an adaptive limit.
    if (error instanceof ProviderError && error.status === 429) {
      outcome = {
        kind: 'rate-limited',
        ...(error.retryAfterMs !== undefined ? { retryAfterMs: error.retryAfterMs } : {}),
        scope: error.rateLimitScope ?? 'model',
      };
    }
    throw error;
  } finally {
    grant.release(outcome);
    // The HTTP client may keep the signal alive: drop the listeners, or they
    // would keep this call's prompt and answer in memory.
    signal.removeEventListener('abort', onAbort);
    queued.removeEventListener('abort', onDeadline);
    if (attemptTimer !== undefined) clearTimeout(attemptTimer);
  }
}

/** Why an agent stopped when its signal aborted: cut by its layer's straggler policy, or cancelled. */
function stoppedError(model: string, signal: AbortSignal, waitingToRetry: boolean, calls: number): { info: ErrorInfo; cut: boolean } {
  const cut = signal.reason === CUT_REASON;
  const how = calls === 0 ? 'not started: cut while still queued' : waitingToRetry ? 'cut while waiting to retry' : 'cut after the grace period';
  const info: ErrorInfo = cut
    ? { name: 'CutError', code: 'cut', message: `${model}: ${how} (the straggler policy's quorum was reached)` }
    : { name: 'AbortedError', code: 'aborted', message: `${model}: cancelled` };
  return { info, cut };
}

export async function runAgent(
  context: RunContext,
  layer: number,
  index: number,
  agent: ResolvedAgent,
  references: readonly string[],
  signal: AbortSignal,
  /** This agent's occurrence among same-model agents of its layer (part of the cache key). */
  sample = 0,
): Promise<AgentOutcome> {
  const models = [agent.label, ...agent.fallbacks];
  const stream = context.stream === 'all' || (context.stream === 'final' && context.isFinalLayer(layer));
  // Tools, response format and sampling settings are the final aggregator's alone; everyone else advises in text.
  const settings = context.isFinalLayer(layer) ? context.final : undefined;
  const hasTools = (settings?.tools?.length ?? 0) > 0;
  const structured = settings?.responseFormat?.type === 'json' ? settings.responseFormat : undefined;
  const prompt = buildAgentPrompt(context.messages, {
    ...(agent.system !== undefined ? { agentSystem: agent.system } : {}),
    references,
    synthesisTemplate: context.synthesisPrompt,
    view: hasTools ? 'tools' : 'text',
    toolsInPlay: context.toolsInPlay,
  });
  const emitDelta = stream ? (delta: string) => void context.emit({ type: 'agent-delta', layer, agent: index, delta }) : undefined;
  // JSON is checked before anyone sees it: such an answer is shown in one piece, once it passed.
  const onDelta = structured ? undefined : emitDelta;
  const emitToolCall = stream
    ? (delta: ToolCallDelta) => void context.emit({ type: 'agent-tool-call-delta', layer, agent: index, ...delta })
    : undefined;
  const started = context.now();
  const errors: ErrorInfo[] = [];
  let attempts = 0;
  let calls = 0;
  let model = agent.label;

  const fail = (error: ErrorInfo, cut: boolean, aborted: boolean): AgentOutcome => {
    context.emit({
      type: 'agent-error',
      layer,
      agent: index,
      model,
      error,
      errors,
      cut,
      usage: { ...ZERO_USAGE },
      latencyMs: context.now() - started,
      attempts,
    });
    return { ok: false, error, errors, cut, aborted, calls };
  };

  for (let modelIndex = 0; modelIndex < models.length; modelIndex++) {
    const resolved = context.resolveModel(modelIndex === 0 ? agent.model : models[modelIndex]!);
    model = resolved.label;
    const maxRetries = resolved.maxRetries ?? context.maxRetries;
    const cacheKey = context.cache
      ? responseCacheKey({
          provider: resolved.provider,
          modelId: resolved.modelId,
          prompt,
          ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
          ...(agent.maxTokens !== undefined ? { maxTokens: agent.maxTokens } : {}),
          sample,
          ...(agent.topLogprobs !== undefined ? { topLogprobs: agent.topLogprobs } : {}),
          ...(settings !== undefined ? { settings } : {}),
        })
      : undefined;
    if (context.cache && cacheKey !== undefined) {
      let hit: CachedResponse | undefined;
      try {
        hit = await context.cache.get(cacheKey);
      } catch (error) {
        context.emit({ type: 'warning', code: 'cache-error', message: `response cache read failed: ${toErrorInfo(error).message}`, layer, agent: index });
      }
      // An answer stored without log-probabilities (by a store that keeps only text and usage) cannot serve a call that asks for them.
      if (hit && agent.topLogprobs !== undefined && !Array.isArray(hit.topLogprobs)) hit = undefined;
      if (hit && !signal.aborted) {
        attempts++;
        context.emit({ type: 'agent-start', layer, agent: index, model });
        if (emitDelta && hit.text) emitDelta(hit.text);
        hit.toolCalls?.forEach((call, callIndex) =>
          emitToolCall?.({ index: callIndex, toolCallId: call.id, toolName: call.name, argumentsDelta: call.arguments }),
        );
        context.emit({
          type: 'agent-end',
          layer,
          agent: index,
          model,
          text: hit.text,
          usage: hit.usage,
          finishReason: hit.finishReason,
          latencyMs: context.now() - started,
          attempts,
          cached: true,
          ...(hit.topLogprobs && hit.topLogprobs.length > 0 ? { topLogprobs: hit.topLogprobs } : {}),
          ...(hit.toolCalls ? { toolCalls: hit.toolCalls } : {}),
        });
        return { ok: true, text: hit.text, usage: hit.usage, finishReason: hit.finishReason, ...(hit.toolCalls ? { toolCalls: hit.toolCalls } : {}) };
      }
    }
    // One budget for everything this model does for the agent: queue, rate limits, retries, calls.
    const deadline = new AgentDeadline(resolved.timeoutMs ?? context.timeoutMs, signal, resolved);
    try {
      for (let retry = 0; ; retry++) {
        attempts++;
        const attemptNumber = attempts;
        context.emit({ type: 'agent-start', layer, agent: index, model });
        try {
          const result = await attempt(
            context,
            layer,
            resolved,
            {
              prompt,
              ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
              ...(agent.maxTokens !== undefined ? { maxTokens: agent.maxTokens } : {}),
              ...(onDelta ? { onDelta } : {}),
              ...(onDelta && emitToolCall && hasTools ? { onToolCallDelta: emitToolCall } : {}),
              ...(agent.topLogprobs !== undefined ? { topLogprobs: agent.topLogprobs } : {}),
              ...(settings ? { settings } : {}),
            },
            deadline,
            (limit) => {
              calls++;
              context.emit({ type: 'agent-call', layer, agent: index, model, attempt: attemptNumber, concurrency: limit });
            },
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
            if (emitDelta) emitDelta(text);
          }
          context.emit({
            type: 'agent-end',
            layer,
            agent: index,
            model,
            text,
            usage: result.usage,
            finishReason: result.finishReason,
            latencyMs: context.now() - started,
            attempts,
            ...(result.topLogprobs && result.topLogprobs.length > 0 ? { topLogprobs: result.topLogprobs } : {}),
            ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
          });
          if (context.cache && cacheKey !== undefined) {
            try {
              await context.cache.set(cacheKey, {
                text,
                usage: result.usage,
                finishReason: result.finishReason,
                ...(agent.topLogprobs !== undefined ? { topLogprobs: result.topLogprobs ?? [] } : {}),
                ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}),
              });
            } catch (error) {
              context.emit({ type: 'warning', code: 'cache-error', message: `response cache write failed: ${toErrorInfo(error).message}`, layer, agent: index });
            }
          }
          return { ok: true, text, usage: result.usage, finishReason: result.finishReason, ...(result.toolCalls ? { toolCalls: result.toolCalls } : {}) };
        } catch (thrown) {
          if (signal.aborted) {
            const { info, cut } = stoppedError(model, signal, false, calls);
            errors.push(info);
            return fail(info, cut, !cut);
          }
          // The budget ran out while queued or calling: the timeout is the error (this model is done).
          const error = deadline.expired ? deadline.reason : thrown;
          const info = toErrorInfo(error);
          const retryable = error instanceof ProviderError && error.isRetryable && !deadline.expired;
          if (retryable && retry < maxRetries) {
            // Retry-After is honoured as sent, unless it is longer than a run waits or than the budget left:
            // then this model is given up at once (the fallback, if any, takes over) instead of sitting silent.
            const retryAfterMs = error.retryAfterMs;
            const pausedForMs = resolved.lane.pausedForMs(resolved.label);
            const waitMs = Math.max(retryAfterMs ?? 0, pausedForMs);
            if (waitMs > context.maxRetryAfterMs || waitMs >= deadline.remainingMs()) {
              errors.push(info);
              errors.push(toErrorInfo(rateLimitedError(resolved, waitMs, waitMs > context.maxRetryAfterMs ? 'cap' : 'deadline', context.maxRetryAfterMs)));
            } else {
              errors.push(info);
              // The delay really applied: the provider's Retry-After, or our backoff, or the pause another call's 429 started.
              const delayMs = Math.max(retryAfterMs ?? backoffDelay(retry + 1, context.backoff), pausedForMs);
              context.emit({ type: 'agent-retry', layer, agent: index, attempt: attempts, model, error: info, delayMs });
              try {
                await sleep(delayMs, deadline.signal);
              } catch {
                if (signal.aborted) {
                  const { info: stopped, cut } = stoppedError(model, signal, true, calls);
                  errors.push(stopped);
                  return fail(stopped, cut, !cut);
                }
                errors.push(toErrorInfo(deadline.reason));
                break;
              }
              continue;
            }
          } else {
            errors.push(info);
          }
          break;
        }
      }
    } finally {
      deadline.release();
    }
    const nextModel = models[modelIndex + 1];
    if (nextModel !== undefined) {
      const last = errors[errors.length - 1]!;
      context.emit({ type: 'agent-retry', layer, agent: index, attempt: attempts, model, error: last, delayMs: 0, nextModel });
      context.emit({ type: 'warning', code: 'fallback', message: `${last.message}; falling back to ${nextModel}`, layer, agent: index });
    }
  }
  return fail(errors[errors.length - 1]!, false, false);
}
