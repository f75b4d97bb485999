/**
 * One agent: its model (then its fallbacks), retries with backoff that honour
 * Retry-After, a per-call timeout, the provider's concurrency queue, and the
 * events that tell the world about each step.
 */
import type { ResolvedModel } from '../models/registry.js';
import { callModel } from '../models/call-model.js';
import { estimateCallTokens } from '../models/rate-limiter.js';
import { ProviderError, toErrorInfo, type ErrorInfo } from '../util/errors.js';
import { backoffDelay, sleep } from '../util/sleep.js';
import type { RunContext } from './run-context.js';
import type { ResolvedAgent } from './resolve-preset.js';
import { buildAgentPrompt } from './synthesis-prompt.js';
import { ZERO_USAGE, type Usage } from './events.js';
import { responseCacheKey, type CachedResponse } from './response-cache.js';

export type AgentOutcome =
  | { ok: true; text: string; usage: Usage }
  | { ok: false; error: ErrorInfo; errors: ErrorInfo[]; cut: boolean; aborted: boolean };

/** The reason a layer gives when its straggler policy cuts an agent. */
export const CUT_REASON = Symbol('moa.cut');

function linkedController(parent: AbortSignal): { controller: AbortController; release: () => void } {
  const controller = new AbortController();
  const onAbort = (): void => controller.abort(parent.reason);
  if (parent.aborted) controller.abort(parent.reason);
  else parent.addEventListener('abort', onAbort, { once: true });
  return { controller, release: () => parent.removeEventListener('abort', onAbort) };
}

async function attempt(
  context: RunContext,
  resolved: ResolvedModel,
  request: Omit<Parameters<typeof callModel>[1], 'signal'>,
  signal: AbortSignal,
): ReturnType<typeof callModel> {
  const timeoutMs = resolved.timeoutMs ?? context.timeoutMs;
  const limiter = resolved.limiter;
  return resolved.queue.add(
    async () => {
      // Holding a concurrency slot, wait for the provider's rate limits (and any pause after a 429).
      const permit = limiter ? await limiter.acquire(limiter.unlimited ? 0 : estimateCallTokens(request.prompt, request.maxTokens), signal) : undefined;
      let actualTokens: number | undefined;
      const { controller, release } = linkedController(signal);
      const timer = setTimeout(() => {
        controller.abort(
          new ProviderError(`${resolved.label}: no complete answer within ${timeoutMs} ms (timeoutMs)`, {
            provider: resolved.provider,
            model: resolved.label,
            isRetryable: true,
            code: 'timeout',
          }),
        );
      }, timeoutMs);
      // Race the call against its own signal too, so a provider that ignores
      // the abort signal cannot hold the agent past its timeout.
      let rejectAborted: (reason: unknown) => void = () => undefined;
      const aborted = new Promise<never>((_, reject) => {
        rejectAborted = reject;
      });
      aborted.catch(() => undefined);
      const onAbort = (): void => rejectAborted(controller.signal.reason);
      controller.signal.addEventListener('abort', onAbort, { once: true });
      try {
        const onDelta = request.onDelta;
        const guarded = onDelta
          ? { ...request, onDelta: (delta: string) => void (controller.signal.aborted || onDelta(delta)) }
          : request;
        const result = await Promise.race([callModel(resolved, { ...guarded, signal: controller.signal }), aborted]);
        actualTokens = result.usage.inputTokens + result.usage.outputTokens;
        return result;
      } catch (error) {
        // A 429 with Retry-After holds the whole provider, not just this call: no storm of 429s.
        if (error instanceof ProviderError && error.status === 429 && error.retryAfterMs !== undefined) limiter?.pause(error.retryAfterMs);
        throw error;
      } finally {
        permit?.settle(actualTokens);
        clearTimeout(timer);
        // The HTTP client may keep the signal alive: drop the listener, or it
        // would keep this call's prompt and answer in memory.
        controller.signal.removeEventListener('abort', onAbort);
        release();
      }
    },
    { signal },
  );
}

/** Why an agent stopped when its signal aborted: cut by its layer's straggler policy, or cancelled. */
function stoppedError(model: string, signal: AbortSignal, waitingToRetry: boolean): { info: ErrorInfo; cut: boolean } {
  const cut = signal.reason === CUT_REASON;
  const info: ErrorInfo = cut
    ? {
        name: 'CutError',
        code: 'cut',
        message: `${model}: cut by the straggler policy ${waitingToRetry ? 'while waiting to retry' : '(quorum reached, grace period over)'}`,
      }
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
  const prompt = buildAgentPrompt(context.messages, {
    ...(agent.system !== undefined ? { agentSystem: agent.system } : {}),
    references,
    synthesisTemplate: context.synthesisPrompt,
  });
  const onDelta = stream ? (delta: string) => void context.emit({ type: 'agent-delta', layer, agent: index, delta }) : undefined;
  const started = context.now();
  const errors: ErrorInfo[] = [];
  let attempts = 0;
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
    return { ok: false, error, errors, cut, aborted };
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
        if (onDelta) onDelta(hit.text);
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
        });
        return { ok: true, text: hit.text, usage: hit.usage };
      }
    }
    for (let retry = 0; ; retry++) {
      attempts++;
      context.emit({ type: 'agent-start', layer, agent: index, model });
      try {
        const result = await attempt(
          context,
          resolved,
          {
            prompt,
            ...(agent.temperature !== undefined ? { temperature: agent.temperature } : {}),
            ...(agent.maxTokens !== undefined ? { maxTokens: agent.maxTokens } : {}),
            ...(onDelta ? { onDelta } : {}),
            ...(agent.topLogprobs !== undefined ? { topLogprobs: agent.topLogprobs } : {}),
          },
          signal,
        );
        context.emit({
          type: 'agent-end',
          layer,
          agent: index,
          model,
          text: result.text,
          usage: result.usage,
          finishReason: result.finishReason,
          latencyMs: context.now() - started,
          attempts,
          ...(result.topLogprobs && result.topLogprobs.length > 0 ? { topLogprobs: result.topLogprobs } : {}),
        });
        if (context.cache && cacheKey !== undefined) {
          try {
            await context.cache.set(cacheKey, {
              text: result.text,
              usage: result.usage,
              finishReason: result.finishReason,
              ...(agent.topLogprobs !== undefined ? { topLogprobs: result.topLogprobs ?? [] } : {}),
            });
          } catch (error) {
            context.emit({ type: 'warning', code: 'cache-error', message: `response cache write failed: ${toErrorInfo(error).message}`, layer, agent: index });
          }
        }
        return { ok: true, text: result.text, usage: result.usage };
      } catch (error) {
        if (signal.aborted) {
          const { info, cut } = stoppedError(model, signal, false);
          errors.push(info);
          return fail(info, cut, !cut);
        }
        const info = toErrorInfo(error);
        errors.push(info);
        const retryable = error instanceof ProviderError && error.isRetryable;
        if (retryable && retry < maxRetries) {
          const delayMs = backoffDelay(retry + 1, (error as ProviderError).retryAfterMs, context.backoff);
          context.emit({ type: 'agent-retry', layer, agent: index, attempt: attempts, model, error: info, delayMs });
          try {
            await sleep(delayMs, signal);
          } catch {
            const { info: stopped, cut } = stoppedError(model, signal, true);
            errors.push(stopped);
            return fail(stopped, cut, !cut);
          }
          continue;
        }
        const nextModel = models[modelIndex + 1];
        if (nextModel !== undefined) {
          context.emit({ type: 'agent-retry', layer, agent: index, attempt: attempts, model, error: info, delayMs: 0, nextModel });
          context.emit({
            type: 'warning',
            code: 'fallback',
            message: `${info.message}; falling back to ${nextModel}`,
            layer,
            agent: index,
          });
        }
        break;
      }
    }
  }
  return fail(errors[errors.length - 1]!, false, false);
}
