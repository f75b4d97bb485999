/**
 * One attempt of one call: wait for a slot on the provider's lane (concurrency, per-minute
 * budgets, pauses after a 429, priorities) without waiting past the model's deadline, then call
 * the model under the deadline and the attempt's own time limit, and tell the lane how it went.
 */
import { callModel } from '../models/call-model.js';
import type { CallGrant, CallOutcome } from '../models/call-scheduler.js';
import { estimateCallTokens, RateLimitWaitError } from '../models/rate-buckets.js';
import { watchResponseStart } from '../models/response-start.js';
import type { ResolvedModel } from '../models/registry.js';
import { ProviderError } from '../util/errors.js';
import type { AgentDeadline } from './agent-deadline.js';
import type { RunContext } from './run-context.js';

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

export async function attempt(
  context: RunContext,
  layer: number,
  resolved: ResolvedModel,
  request: Omit<Parameters<typeof callModel>[1], 'signal'>,
  deadline: AgentDeadline,
  /** Called once the request really leaves for the provider, with the lane's concurrency limit then. */
  onSend: (limit: number) => void,
  /** Aborts the wait and the call: the deadline's signal, or one that also aborts when the caller interrupts the call. */
  outer: AbortSignal = deadline.signal,
): ReturnType<typeof callModel> {
  const lane = resolved.lane;
  const queued = outer;
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
  const unwatchResponse = watchResponseStart(signal, () => grant.responded());
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
    unwatchResponse();
    grant.release(outcome);
    // The HTTP client may keep the signal alive: drop the listeners, or they
    // would keep this call's prompt and answer in memory.
    signal.removeEventListener('abort', onAbort);
    queued.removeEventListener('abort', onDeadline);
    if (attemptTimer !== undefined) clearTimeout(attemptTimer);
  }
}
