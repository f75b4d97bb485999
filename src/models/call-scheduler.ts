/**
 * One scheduler per process owns every model call: the CLI's runs, the batch runner's items and
 * the server's requests all wait here, in one line per provider connection (a "lane").
 *
 * A queued call may go when
 * - its lane has a free slot: `maxConcurrency` calls in flight at once, a fixed number or `auto`
 *   (AIMD, like TCP: start at 16, grow while calls queue and succeed, halve on a 429; 1..256; a
 *   call counts as a success once its response has started, where a 429 would have shown);
 * - the lane's requests/tokens per minute allow it (token buckets, see rate-buckets.ts);
 * - neither its model nor the lane is paused: a 429 pauses the model that answered it
 *   (`provider:model`) for its Retry-After, the whole lane only when the error says the limit is
 *   account-wide; calls to the lane's other models go on meanwhile.
 * Among the calls that may go, the most urgent goes first: a later layer before an earlier one
 * (answers finish instead of every run advancing a little), then an older run before a newer one,
 * then the order of arrival.
 *
 * A call states how long it can wait for a pause at most (`maxWaitMs`, what is left of its
 * deadline): when a pause outlasts that, it is refused at once with a `RateLimitWaitError`.
 * A `LaneCoordinator` (e.g. Redis-backed, shared by several processes) may add global admission
 * on top of the local one. Clock and timers are injectable, so tests need no wall-clock time.
 */
import { Bucket, RateLimitWaitError } from './rate-buckets.js';

export { RateLimitWaitError };

/** Calls in flight at once: a fixed number, or `auto` (AIMD). */
export type ConcurrencySetting = number | 'auto';

export const AUTO_CONCURRENCY = { initial: 16, min: 1, max: 256 } as const;

export interface LaneSettings {
  maxConcurrency?: ConcurrencySetting;
  requestsPerMinute?: number;
  tokensPerMinute?: number;
}

/** Who goes first: later layers, then older runs (lower `runOrder`), then arrival. */
export interface CallPriority {
  layer: number;
  runOrder: number;
}

export interface CallTicketRequest {
  /** "provider:model-id": what a 429 pauses. */
  model: string;
  priority: CallPriority;
  /** The call's estimated tokens (prompt + output budget), for tokensPerMinute. */
  tokens: number;
  signal?: AbortSignal;
  /** Refuse at once (RateLimitWaitError) when a pause would hold the call longer than this. */
  maxWaitMs?: number;
}

/** How a call ended, so the lane can adapt (AIMD), correct its token estimate and pause. */
export type CallOutcome =
  { kind: 'ok'; tokens?: number } | { kind: 'rate-limited'; retryAfterMs?: number; scope: 'model' | 'account'; tokens?: number } | { kind: 'failed'; tokens?: number };

/** A slot held by a call in flight; `release` exactly once when it ends. */
export interface CallGrant {
  /** The lane's concurrency limit when the call was let through. */
  readonly limit: number;
  /**
   * The provider has started answering (a 2xx status): an `auto` limit may grow now rather than
   * when the answer ends, as TCP's slow start grows per acknowledgement, not per finished transfer.
   * Optional to call; a later `release({ kind: 'ok' })` does not count the call twice.
   */
  responded(): void;
  release(outcome: CallOutcome): void;
}

/** Admission shared with other processes (global limits); consulted once a call holds a local slot. */
export interface LaneCoordinator {
  acquire(request: {
    lane: string;
    model: string;
    tokens: number;
    signal?: AbortSignal;
    maxWaitMs?: number;
    /** The lane's configured limits (what a global limiter enforces across processes). */
    settings: LaneSettings;
  }): Promise<{ release(outcome: CallOutcome): void }>;
}

export interface SchedulerOptions {
  clock?: () => number;
  setTimer?: (callback: () => void, ms: number) => { cancel(): void };
  coordinator?: LaneCoordinator;
}

interface Ticket {
  request: CallTicketRequest;
  /** Arrival order, the last tie-breaker. */
  order: number;
  /** The clock's time after which this call must not start (from maxWaitMs); Infinity when none. */
  latestStart: number;
  resolve: (grant: CallGrant) => void;
  reject: (reason: unknown) => void;
  onAbort: () => void;
}

/** Not unref'd: a queued call is work in progress and may be all that is left on the event loop. */
function defaultTimer(callback: () => void, ms: number): { cancel(): void } {
  const timer = setTimeout(callback, ms);
  return { cancel: () => clearTimeout(timer) };
}

function compareTickets(a: Ticket, b: Ticket): number {
  return b.request.priority.layer - a.request.priority.layer || a.request.priority.runOrder - b.request.priority.runOrder || a.order - b.order;
}

export class Lane {
  private settings: LaneSettings = {};
  private concurrency: number = AUTO_CONCURRENCY.initial;
  /** AIMD: grow one per success until the first 429 (slow start), then one per round of `limit` successes. */
  private slowStart = true;
  /** Successes since the last additive increase. */
  private growthCredit = 0;
  /** Bumped at every decrease: a 429 from a call let through before it does not halve again. */
  private epoch = 0;
  private requests: Bucket | undefined;
  private tokens: Bucket | undefined;
  private inFlightCount = 0;
  private readonly queue: Ticket[] = [];
  private readonly modelPauses = new Map<string, number>();
  private lanePausedUntil = -Infinity;
  private wakeUp: { at: number; cancel(): void } | undefined;
  private arrivals = 0;

  constructor(
    readonly key: string,
    settings: LaneSettings,
    private readonly clock: () => number,
    private readonly setTimer: NonNullable<SchedulerOptions['setTimer']>,
    private readonly coordinator: LaneCoordinator | undefined,
  ) {
    this.configure(settings);
  }

  /** Apply (new) settings; an `auto` limit keeps what it has learned. */
  configure(settings: LaneSettings): void {
    const previous = this.settings;
    this.settings = { ...settings };
    const setting = settings.maxConcurrency ?? 'auto';
    if (typeof setting === 'number') this.concurrency = setting;
    else if (typeof previous.maxConcurrency === 'number') this.concurrency = AUTO_CONCURRENCY.initial;
    const now = this.clock();
    if (settings.requestsPerMinute !== previous.requestsPerMinute) {
      this.requests = settings.requestsPerMinute !== undefined ? new Bucket(settings.requestsPerMinute, now) : undefined;
    }
    if (settings.tokensPerMinute !== previous.tokensPerMinute) {
      this.tokens = settings.tokensPerMinute !== undefined ? new Bucket(settings.tokensPerMinute, now) : undefined;
    }
    this.pump();
  }

  /** The concurrency limit in force now. */
  get limit(): number {
    return this.concurrency;
  }

  get adaptive(): boolean {
    return (this.settings.maxConcurrency ?? 'auto') === 'auto';
  }

  get inFlight(): number {
    return this.inFlightCount;
  }

  get waiting(): number {
    return this.queue.length;
  }

  /** True when no requests/tokens per minute limit applies (pauses still do). */
  get unmetered(): boolean {
    return !this.requests && !this.tokens;
  }

  /** Milliseconds a pause still holds calls to `model` (its own, or the lane's); 0 when none. */
  pausedForMs(model: string): number {
    const until = Math.max(this.lanePausedUntil, this.modelPauses.get(model) ?? -Infinity);
    return Math.max(0, until - this.clock());
  }

  /** Hold calls to `model` (or, account-wide, every call of the lane) for `ms`. Pauses only ever extend. */
  pause(ms: number, model?: string): void {
    if (!(ms > 0)) return;
    const until = this.clock() + ms;
    if (model === undefined) this.lanePausedUntil = Math.max(this.lanePausedUntil, until);
    else this.modelPauses.set(model, Math.max(this.modelPauses.get(model) ?? -Infinity, until));
    this.refuseOutlastedWaiters();
    this.pump();
  }

  /** Wait for this call's turn; rejects with the signal's reason when it aborts first. */
  acquire(request: CallTicketRequest): Promise<CallGrant> {
    const signal = request.signal;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const now = this.clock();
    const latestStart = request.maxWaitMs === undefined ? Infinity : now + Math.max(0, request.maxWaitMs);
    const pausedUntil = now + this.pausedForMs(request.model);
    if (pausedUntil > latestStart) return Promise.reject(new RateLimitWaitError(pausedUntil - now, latestStart - now));
    const local = new Promise<CallGrant>((resolve, reject) => {
      const ticket: Ticket = {
        request,
        order: this.arrivals++,
        latestStart,
        resolve,
        reject,
        onAbort: () => {
          if (this.remove(ticket)) {
            reject(signal?.reason);
            this.pump();
          }
        },
      };
      signal?.addEventListener('abort', ticket.onAbort, { once: true });
      this.insert(ticket);
      this.pump();
    });
    return this.coordinator ? local.then((grant) => this.coordinate(grant, request)) : local;
  }

  /** Local slot held: wait for the global one too (released together). */
  private async coordinate(grant: CallGrant, request: CallTicketRequest): Promise<CallGrant> {
    try {
      const remaining = request.maxWaitMs === undefined ? undefined : Math.max(0, request.maxWaitMs);
      const shared = await this.coordinator!.acquire({
        lane: this.key,
        model: request.model,
        tokens: request.tokens,
        settings: { ...this.settings },
        ...(request.signal ? { signal: request.signal } : {}),
        ...(remaining !== undefined ? { maxWaitMs: remaining } : {}),
      });
      return {
        limit: grant.limit,
        responded: () => grant.responded(),
        release: (outcome) => {
          shared.release(outcome);
          grant.release(outcome);
        },
      };
    } catch (error) {
      grant.release({ kind: 'failed' });
      throw error;
    }
  }

  private insert(ticket: Ticket): void {
    // Binary search: the queue stays sorted by urgency.
    let low = 0;
    let high = this.queue.length;
    while (low < high) {
      const middle = (low + high) >>> 1;
      if (compareTickets(this.queue[middle]!, ticket) <= 0) low = middle + 1;
      else high = middle;
    }
    this.queue.splice(low, 0, ticket);
  }

  private remove(ticket: Ticket): boolean {
    const index = this.queue.indexOf(ticket);
    if (index < 0) return false;
    this.queue.splice(index, 1);
    ticket.request.signal?.removeEventListener('abort', ticket.onAbort);
    return true;
  }

  private refuseOutlastedWaiters(): void {
    const now = this.clock();
    for (const ticket of [...this.queue]) {
      const pausedUntil = now + this.pausedForMs(ticket.request.model);
      if (pausedUntil <= ticket.latestStart) continue;
      this.remove(ticket);
      ticket.reject(new RateLimitWaitError(pausedUntil - now, ticket.latestStart - now));
    }
  }

  private grant(ticket: Ticket): void {
    this.remove(ticket);
    this.inFlightCount++;
    this.requests && (this.requests.level -= 1);
    const estimated = ticket.request.tokens;
    const tokenBucket = this.tokens;
    if (tokenBucket) tokenBucket.level -= estimated;
    const epoch = this.epoch;
    const limit = this.concurrency;
    let released = false;
    let counted = false;
    ticket.resolve({
      limit,
      responded: () => {
        if (released || counted) return;
        counted = true;
        this.grow();
        this.pump();
      },
      release: (outcome) => {
        if (released) return;
        released = true;
        this.inFlightCount--;
        if (tokenBucket && outcome.tokens !== undefined) {
          tokenBucket.refill(this.clock());
          tokenBucket.level = Math.min(tokenBucket.capacity, tokenBucket.level + estimated - outcome.tokens);
        }
        if (outcome.kind === 'rate-limited') this.decrease(epoch);
        else if (outcome.kind === 'ok' && !counted) this.grow();
        if (outcome.kind === 'rate-limited' && outcome.retryAfterMs !== undefined) {
          this.pause(outcome.retryAfterMs, outcome.scope === 'account' ? undefined : ticket.request.model);
        }
        this.pump();
      },
    });
  }

  /** AIMD for `auto`, the multiplicative half: a 429 halves the limit (once per decrease). */
  private decrease(epoch: number): void {
    if (!this.adaptive) return;
    if (epoch !== this.epoch) return; // sent before the last decrease: that one already counted
    this.epoch++;
    this.slowStart = false;
    this.growthCredit = 0;
    this.concurrency = Math.max(AUTO_CONCURRENCY.min, Math.floor(this.concurrency / 2));
  }

  /** AIMD for `auto`, the additive half: a success grows the limit while calls wait for it. */
  private grow(): void {
    // Grow only when the limit held calls back: no evidence otherwise.
    if (!this.adaptive || this.queue.length === 0 || this.concurrency >= AUTO_CONCURRENCY.max) return;
    if (this.slowStart) this.concurrency++;
    else if (++this.growthCredit >= this.concurrency) {
      this.growthCredit = 0;
      this.concurrency++;
    }
  }

  /** Let through, most urgent first, every call that may go; otherwise schedule one wake-up. */
  private pump(): void {
    if (this.queue.length === 0) {
      this.wakeUp?.cancel();
      this.wakeUp = undefined;
      return;
    }
    const now = this.clock();
    let nextWake = Infinity;
    this.requests?.refill(now);
    this.tokens?.refill(now);
    for (let index = 0; index < this.queue.length && this.inFlightCount < this.concurrency;) {
      const ticket = this.queue[index]!;
      const paused = this.pausedForMs(ticket.request.model);
      if (paused > 0) {
        // A paused model does not hold back the lane's other models.
        nextWake = Math.min(nextWake, now + paused);
        index++;
        continue;
      }
      const wait = Math.max(this.requests?.waitFor(1) ?? 0, ticket.request.tokens > 0 ? (this.tokens?.waitFor(ticket.request.tokens) ?? 0) : 0);
      if (wait > 0) {
        // The per-minute budget is the lane's: nobody behind this call may overtake it.
        nextWake = Math.min(nextWake, now + wait);
        break;
      }
      this.grant(ticket); // removes it: the same index now holds the next ticket
    }
    // Full: the next release pumps. Nothing waiting on time: nothing to wake up for.
    if (this.inFlightCount >= this.concurrency) return;
    if (nextWake === Infinity) {
      this.wakeUp?.cancel();
      this.wakeUp = undefined;
      return;
    }
    if (this.wakeUp && this.wakeUp.at <= nextWake && this.wakeUp.at > now) return;
    this.wakeUp?.cancel();
    const timer = this.setTimer(
      () => {
        if (this.wakeUp === handle) this.wakeUp = undefined;
        this.pump();
      },
      Math.max(1, Math.ceil(nextWake - now)),
    );
    const handle = { at: nextWake, cancel: () => timer.cancel() };
    this.wakeUp = handle;
  }
}

export class CallScheduler {
  private readonly lanes = new Map<string, Lane>();
  private readonly objectLanes = new WeakMap<object, Lane>();
  private readonly clock: () => number;
  private readonly setTimer: NonNullable<SchedulerOptions['setTimer']>;
  private readonly coordinator: LaneCoordinator | undefined;
  private runs = 0;

  constructor(options: SchedulerOptions = {}) {
    this.clock = options.clock ?? (() => performance.now());
    this.setTimer = options.setTimer ?? defaultTimer;
    this.coordinator = options.coordinator;
  }

  /** The lane of a provider connection (name, type, base URL, key, headers); settings given last win. */
  lane(key: string, settings: LaneSettings = {}): Lane {
    let lane = this.lanes.get(key);
    if (lane) lane.configure(settings);
    else {
      lane = new Lane(key, settings, this.clock, this.setTimer, this.coordinator);
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /** The lane of a model object passed from code (no provider connection to share). */
  objectLane(model: object, label: string, settings: LaneSettings = {}): Lane {
    let lane = this.objectLanes.get(model);
    if (!lane) {
      lane = new Lane(`object:${label}`, settings, this.clock, this.setTimer, this.coordinator);
      this.objectLanes.set(model, lane);
    }
    return lane;
  }

  /** A number for each run, in start order: older runs go first. */
  nextRunOrder(): number {
    return this.runs++;
  }
}

let processScheduler: CallScheduler | undefined;

/** The scheduler every registry of this process shares unless given its own. */
export function defaultScheduler(): CallScheduler {
  processScheduler ??= new CallScheduler();
  return processScheduler;
}
