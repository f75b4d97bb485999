/**
 * A provider's rate limits, shared by every call to that provider through one
 * registry (every agent of every layer of every run that uses the registry, so
 * every item of a batch): requests per minute and tokens per minute as token
 * buckets, and a provider-wide pause after a 429.
 *
 * - Each bucket holds at most one second's allowance and refills at the
 *   per-minute rate, so throughput reaches the allowance without bursting far
 *   past it (no 429 storm at the start of a batch).
 * - A call's token cost is estimated before it starts (prompt size + max output
 *   tokens) and corrected with the real usage when it ends; a call larger than
 *   a second's allowance waits for a full bucket and then goes (the bucket goes
 *   into debt), so no call waits forever.
 * - `pause(ms)` (a 429, with its Retry-After) holds every call that has not
 *   started yet until then: one rate limit slows the whole provider instead of
 *   every queued call running into its own 429.
 * - Waiters are served in arrival order; an aborted waiter leaves the line.
 * - A waiter may say how long it can wait at most (`maxWaitMs`, what is left of
 *   its deadline): when a pause would hold it longer, it is refused at once with
 *   a `RateLimitWaitError` instead of sitting in line until its deadline.
 *
 * The concurrency limit (`maxConcurrency`) stays with the provider's p-queue;
 * this limiter is consulted once a call holds a concurrency slot. Clock and
 * timers are injectable so tests need no wall-clock time.
 */
export interface RateLimits {
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

export interface RateLimiterOptions extends RateLimits {
  /** Milliseconds from an arbitrary origin; default performance.now. */
  clock?: () => number;
  /** Schedules a wake-up; default setTimeout. */
  setTimer?: (callback: () => void, ms: number) => { cancel(): void };
}

/** What a call took from the limiter; `settle` corrects the token estimate with the real usage. */
export interface RatePermit {
  readonly estimatedTokens: number;
  settle(actualTokens?: number): void;
}

/** Thrown by `acquire` when a pause after a 429 would hold the call longer than it may wait. */
export class RateLimitWaitError extends Error {
  /** How long the pause still holds new calls. */
  readonly pausedForMs: number;
  constructor(pausedForMs: number, maxWaitMs: number) {
    super(`paused for ${Math.ceil(pausedForMs)} ms after a 429, longer than the ${Math.max(0, Math.floor(maxWaitMs))} ms this call may wait`);
    this.name = 'RateLimitWaitError';
    this.pausedForMs = pausedForMs;
  }
}

export interface AcquireOptions {
  /** Refuse (RateLimitWaitError) rather than wait longer than this for a pause to end. */
  maxWaitMs?: number;
}

interface Waiter {
  tokens: number;
  /** The limiter clock's time after which this waiter must not start (its deadline); Infinity when none. */
  latestStart: number;
  resolve: (permit: RatePermit) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

const MINUTE_MS = 60_000;

class Bucket {
  readonly capacity: number;
  readonly perMs: number;
  level: number;
  updatedAt: number;
  constructor(perMinute: number, now: number) {
    this.perMs = perMinute / MINUTE_MS;
    this.capacity = Math.max(1, perMinute / 60);
    this.level = this.capacity;
    this.updatedAt = now;
  }
  refill(now: number): void {
    if (now > this.updatedAt) {
      this.level = Math.min(this.capacity, this.level + (now - this.updatedAt) * this.perMs);
      this.updatedAt = now;
    }
  }
  /** Milliseconds until `amount` (capped at the capacity) is available; 0 when it is now. */
  waitFor(amount: number): number {
    const needed = Math.min(amount, this.capacity);
    if (this.level >= needed) return 0;
    return Math.ceil((needed - this.level) / this.perMs);
  }
}

/**
 * Not unref'd: a call waiting for its turn is work in progress, and the wake-up
 * may be the only thing left on the event loop (every other call of a batch
 * waiting behind a 429's pause); an unref'd timer would let the process exit
 * with that work undone.
 */
function defaultTimer(callback: () => void, ms: number): { cancel(): void } {
  const timer = setTimeout(callback, ms);
  return { cancel: () => clearTimeout(timer) };
}

export class RateLimiter {
  private readonly clock: () => number;
  private readonly setTimer: NonNullable<RateLimiterOptions['setTimer']>;
  private readonly requests: Bucket | undefined;
  private readonly tokens: Bucket | undefined;
  private readonly waiters: Waiter[] = [];
  private pausedUntil = -Infinity;
  private wakeUp: { at: number; cancel(): void } | undefined;

  constructor(options: RateLimiterOptions = {}) {
    this.clock = options.clock ?? (() => performance.now());
    this.setTimer = options.setTimer ?? defaultTimer;
    const now = this.clock();
    if (options.requestsPerMinute !== undefined) this.requests = new Bucket(options.requestsPerMinute, now);
    if (options.tokensPerMinute !== undefined) this.tokens = new Bucket(options.tokensPerMinute, now);
  }

  /** True when neither requests nor tokens per minute are limited (a pause after a 429 still applies). */
  get unlimited(): boolean {
    return !this.requests && !this.tokens;
  }

  /** Calls waiting for their turn. */
  get waiting(): number {
    return this.waiters.length;
  }

  /** Until when (the limiter's clock) new calls are held after a 429; -Infinity when not paused. */
  get pausedUntilTime(): number {
    return this.pausedUntil;
  }

  /**
   * Wait for the turn of a call estimated at `tokens` tokens. Rejects with the
   * signal's reason when it aborts first.
   */
  acquire(tokens = 0, signal?: AbortSignal, options: AcquireOptions = {}): Promise<RatePermit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.clock();
    const latestStart = options.maxWaitMs === undefined ? Infinity : now + Math.max(0, options.maxWaitMs);
    if (this.pausedUntil > latestStart) return Promise.reject(new RateLimitWaitError(this.pausedUntil - now, latestStart - now));
    if (this.waiters.length === 0 && this.readyIn(tokens) === 0) return Promise.resolve(this.take(tokens));
    return new Promise<RatePermit>((resolve, reject) => {
      const waiter: Waiter = {
        tokens,
        latestStart,
        resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.waiters.indexOf(waiter);
          if (index >= 0) this.waiters.splice(index, 1);
          reject(signal?.reason);
          this.pump();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.waiters.push(waiter);
      this.pump();
    });
  }

  /** Hold every call not yet started for `ms` (e.g. a 429's Retry-After). Pauses only ever extend. */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    const now = this.clock();
    this.pausedUntil = Math.max(this.pausedUntil, now + ms);
    // Waiters the pause would hold past their deadline learn it now, not when the deadline hits.
    for (const waiter of [...this.waiters]) {
      if (this.pausedUntil <= waiter.latestStart) continue;
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.signal?.removeEventListener('abort', waiter.onAbort);
      waiter.reject(new RateLimitWaitError(this.pausedUntil - now, waiter.latestStart - now));
    }
    this.pump();
  }

  /** Milliseconds a pause after a 429 still holds new calls (0 when not paused). */
  pausedForMs(): number {
    return Math.max(0, this.pausedUntil - this.clock());
  }

  /** Milliseconds until a call of `tokens` could start; 0 when it can start now. */
  private readyIn(tokens: number): number {
    const now = this.clock();
    const paused = Math.max(0, this.pausedUntil - now);
    this.requests?.refill(now);
    this.tokens?.refill(now);
    return Math.max(paused, this.requests?.waitFor(1) ?? 0, tokens > 0 ? (this.tokens?.waitFor(tokens) ?? 0) : 0);
  }

  private take(tokens: number): RatePermit {
    if (this.requests) this.requests.level -= 1;
    const bucket = this.tokens;
    if (bucket) bucket.level -= tokens;
    let settled = false;
    return {
      estimatedTokens: tokens,
      settle: (actualTokens) => {
        if (settled || !bucket || actualTokens === undefined) return;
        settled = true;
        bucket.refill(this.clock());
        bucket.level = Math.min(bucket.capacity, bucket.level + tokens - actualTokens);
        if (actualTokens < tokens) this.pump();
      },
    };
  }

  /** Serve waiters in order while they fit; otherwise schedule one wake-up for the first. */
  private pump(): void {
    while (this.waiters.length > 0) {
      const first = this.waiters[0]!;
      const wait = this.readyIn(first.tokens);
      if (wait > 0) {
        const at = this.clock() + wait;
        if (this.wakeUp && this.wakeUp.at <= at) return;
        this.wakeUp?.cancel();
        const timer = this.setTimer(() => {
          if (this.wakeUp === handle) this.wakeUp = undefined;
          this.pump();
        }, wait);
        const handle = { at, cancel: () => timer.cancel() };
        this.wakeUp = handle;
        return;
      }
      this.waiters.shift();
      first.signal?.removeEventListener('abort', first.onAbort);
      first.resolve(this.take(first.tokens));
    }
    this.wakeUp?.cancel();
    this.wakeUp = undefined;
  }
}

/** Characters per token for the estimate (English text averages about four). */
const CHARACTERS_PER_TOKEN = 4;
/** Output tokens assumed when a call sets no maximum. */
export const DEFAULT_ESTIMATED_OUTPUT_TOKENS = 1024;

/** A call's token estimate before it runs: its prompt's text length / 4 + its output budget. */
export function estimateCallTokens(prompt: ReadonlyArray<{ content: unknown }>, maxOutputTokens: number | undefined): number {
  let characters = 0;
  for (const message of prompt) {
    const content = message.content;
    if (typeof content === 'string') characters += content.length;
    else if (Array.isArray(content)) {
      for (const part of content as Array<{ text?: unknown }>) if (typeof part.text === 'string') characters += part.text.length;
    }
  }
  return Math.ceil(characters / CHARACTERS_PER_TOKEN) + (maxOutputTokens ?? DEFAULT_ESTIMATED_OUTPUT_TOKENS);
}
