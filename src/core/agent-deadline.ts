/**
 * The time budget of one model of an agent (`timeoutMs`): it covers everything
 * that model does for the agent — waiting for a concurrency slot, waiting for
 * the rate limiter (and any pause after a 429), every retry and its delay, and
 * the calls themselves. When it runs out, `signal` aborts with `reason`.
 */
import { ProviderError } from '../util/errors.js';

export class AgentDeadline {
  private readonly controller = new AbortController();
  private readonly timer: ReturnType<typeof setTimeout>;
  private readonly endsAt: number;
  private readonly onParentAbort: () => void;
  /** The timeout error the signal aborts with once the budget is spent. */
  readonly reason: ProviderError;

  constructor(
    readonly budgetMs: number,
    private readonly parent: AbortSignal,
    model: { provider: string; label: string },
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.endsAt = clock() + budgetMs;
    this.reason = new ProviderError(
      `${model.label}: no complete answer within ${budgetMs} ms (timeoutMs covers waiting for a free slot and rate limits, retries and the calls)`,
      { provider: model.provider, model: model.label, isRetryable: true, code: 'timeout' },
    );
    this.timer = setTimeout(() => this.controller.abort(this.reason), budgetMs);
    this.onParentAbort = () => this.controller.abort(parent.reason);
    if (parent.aborted) this.onParentAbort();
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
  }

  /** Aborts when the budget is spent or the agent is stopped (cut, cancelled). */
  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** True when the budget ran out (not when the agent was stopped by its caller). */
  get expired(): boolean {
    return this.controller.signal.aborted && this.controller.signal.reason === this.reason;
  }

  remainingMs(): number {
    return Math.max(0, this.endsAt - this.clock());
  }

  release(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}
