/**
 * Provider limits shared by every worker: a `LaneCoordinator` (models/call-scheduler.ts) backed
 * by Redis. Each process's scheduler first gives a call a local slot, then asks here; the answer
 * comes from one Lua script, so checking and taking are one atomic step on the Redis server, on
 * the Redis server's clock (workers' clocks never matter):
 *
 * - pauses: a 429's Retry-After is written as a key with that TTL — for the model that answered
 *   it (`provider:model`), or the whole lane when the limit is account-wide — and every worker's
 *   calls to it wait (or are refused at once when the pause outlasts what the call may wait,
 *   `RateLimitWaitError`, as a local pause does);
 * - `maxConcurrency` (a number): a semaphore of leases, a sorted set of lease ids by expiry. A
 *   worker renews its leases while its calls run; a worker that dies stops renewing and its leases
 *   expire after `leaseMs`, so its slots come back without anyone's help. `auto` has no global cap:
 *   each worker's lane adapts on its own (AIMD), while pauses and per-minute budgets stay global;
 * - requests / tokens per minute: token buckets stored in Redis, refilled on the server's clock,
 *   the token estimate corrected with the real usage when the call ends.
 *
 * A call that finds the semaphore full waits for a release, announced on the lane's channel
 * (pub/sub), or at the latest `pollMs` (a dead worker's lease expires silently). Lanes are the
 * scheduler's keys (provider name, type, base URL, a fingerprint of the key): workers that talk to
 * the same account share one lane, a worker with another API key has its own.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { CallOutcome, LaneCoordinator, LaneSettings } from '../../models/call-scheduler.js';
import { RateLimitWaitError } from '../../models/call-scheduler.js';
import { QUEUE_PREFIX } from './queued-batch.js';

/** KEYS: leases, requests bucket, tokens bucket, account pause, model pause. ARGV: op, … (see below). */
const LANE_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local op = ARGV[1]
local function refill(key, perMinute)
  local capacity = math.max(1, perMinute / 60)
  local perMs = perMinute / 60000
  local state = redis.call('HMGET', key, 'level', 'at')
  local level = tonumber(state[1])
  local at = tonumber(state[2])
  if level == nil or at == nil then
    level = capacity
    at = now
  end
  if now > at then level = math.min(capacity, level + (now - at) * perMs) end
  return level, capacity, perMs
end
local function save(key, level)
  redis.call('HSET', key, 'level', tostring(level), 'at', tostring(now))
  redis.call('PEXPIRE', key, 120000)
end
if op == 'acquire' then
  -- ARGV: op, leaseId, leaseMs, maxConcurrency (0: none), rpm (0: none), tpm (0: none), tokens
  local pause = math.max(redis.call('PTTL', KEYS[4]), redis.call('PTTL', KEYS[5]))
  if pause > 0 then return {1, pause} end
  local cap = tonumber(ARGV[4])
  if cap > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
    if redis.call('ZCARD', KEYS[1]) >= cap then return {2, 0} end
  end
  local rpm = tonumber(ARGV[5])
  local tpm = tonumber(ARGV[6])
  local tokens = tonumber(ARGV[7])
  local wait = 0
  local requestLevel, tokenLevel
  if rpm > 0 then
    local level, capacity, perMs = refill(KEYS[2], rpm)
    requestLevel = level
    local need = math.min(1, capacity)
    if level < need then wait = math.max(wait, math.ceil((need - level) / perMs)) end
  end
  if tpm > 0 and tokens > 0 then
    local level, capacity, perMs = refill(KEYS[3], tpm)
    tokenLevel = level
    local need = math.min(tokens, capacity)
    if level < need then wait = math.max(wait, math.ceil((need - level) / perMs)) end
  end
  if wait > 0 then return {3, wait} end
  if requestLevel ~= nil then save(KEYS[2], requestLevel - 1) end
  if tokenLevel ~= nil then save(KEYS[3], tokenLevel - tokens) end
  if cap > 0 then
    redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
    redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[3]) * 4)
  end
  return {0, 0}
elseif op == 'release' then
  -- ARGV: op, leaseId, channel, tpm, estimated tokens, actual tokens (-1: unknown), pause ms, pause scope
  local removed = redis.call('ZREM', KEYS[1], ARGV[2])
  local tpm = tonumber(ARGV[4])
  local estimated = tonumber(ARGV[5])
  local actual = tonumber(ARGV[6])
  if tpm > 0 and estimated > 0 and actual >= 0 then
    local level, capacity = refill(KEYS[3], tpm)
    save(KEYS[3], math.min(capacity, level + estimated - actual))
  end
  local pauseMs = tonumber(ARGV[7])
  if pauseMs > 0 then
    local key = KEYS[5]
    if ARGV[8] == 'account' then key = KEYS[4] end
    if redis.call('PTTL', key) < pauseMs then redis.call('SET', key, '1', 'PX', pauseMs) end
  end
  if removed > 0 then redis.call('PUBLISH', ARGV[3], '1') end
  return {0, removed}
elseif op == 'renew' then
  -- ARGV: op, leaseMs, leaseId...
  local renewed = 0
  for index = 3, #ARGV do
    renewed = renewed + redis.call('ZADD', KEYS[1], 'XX', 'CH', now + tonumber(ARGV[2]), ARGV[index])
  end
  redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 4)
  return {0, renewed}
end
return redis.error_reply('unknown op ' .. tostring(op))
`;

interface LaneScriptClient extends Redis {
  moaLane(...args: Array<string | number>): Promise<[number, number]>;
}

export interface RedisLaneCoordinatorOptions {
  /** For the script calls. Not closed by the coordinator. */
  client: Redis;
  /** A second connection, put in subscriber mode for release announcements. Not closed by the coordinator. */
  subscriber: Redis;
  /** How long a lease lives without renewal (a dead worker's slots come back after this). Default 30 s. */
  leaseMs?: number;
  /** The longest a call waits for a slot without hearing of a release before it asks again. Default 1 s. */
  pollMs?: number;
}

interface LaneKeys {
  keys: [string, string, string, string];
  channel: string;
}

/** Sleeps `ms` or until `wake` is called; rejects when the signal aborts. */
function pause(ms: number, signal: AbortSignal | undefined, register?: (wake: () => void) => () => void): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    let unregister: (() => void) | undefined;
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      unregister?.();
    };
    const timer = setTimeout(
      () => {
        done();
        resolve();
      },
      Math.max(1, ms),
    );
    const onAbort = (): void => {
      done();
      reject(signal?.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    unregister = register?.(() => {
      done();
      resolve();
    });
  });
}

export class RedisLaneCoordinator implements LaneCoordinator {
  private readonly client: LaneScriptClient;
  private readonly subscriber: Redis;
  private readonly leaseMs: number;
  private readonly pollMs: number;
  private readonly processTag = randomBytes(6).toString('hex');
  private leaseCounter = 0;
  /** Lease ids held now, by lane hash (renewed together). */
  private readonly held = new Map<string, Set<string>>();
  private readonly laneKeys = new Map<string, LaneKeys>();
  /** Waiters for a release on a lane's channel. */
  private readonly waiters = new Map<string, Set<() => void>>();
  /** Releases heard per channel: a release between "full" and starting to wait is not missed. */
  private readonly releases = new Map<string, number>();
  private readonly subscribed = new Set<string>();
  private readonly renewTimer: NodeJS.Timeout;
  private closed = false;

  constructor(options: RedisLaneCoordinatorOptions) {
    this.leaseMs = options.leaseMs ?? 30_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.client = options.client as LaneScriptClient;
    if (typeof this.client.moaLane !== 'function') this.client.defineCommand('moaLane', { numberOfKeys: 5, lua: LANE_SCRIPT });
    this.subscriber = options.subscriber;
    this.subscriber.on('message', (channel: string) => {
      this.releases.set(channel, (this.releases.get(channel) ?? 0) + 1);
      const waiting = this.waiters.get(channel);
      if (!waiting) return;
      for (const wake of [...waiting]) wake();
    });
    this.renewTimer = setInterval(() => void this.renew(), Math.max(50, Math.floor(this.leaseMs / 3)));
    this.renewTimer.unref();
  }

  private keysFor(lane: string): LaneKeys & { hash: string } {
    const hash = createHash('sha256').update(lane).digest('hex').slice(0, 16);
    let keys = this.laneKeys.get(hash);
    if (!keys) {
      const base = `${QUEUE_PREFIX}:lane:${hash}`;
      keys = { keys: [`${base}:leases`, `${base}:requests`, `${base}:tokens`, `${base}:pause`], channel: `${base}:released` };
      this.laneKeys.set(hash, keys);
    }
    return { ...keys, hash };
  }

  private async subscribe(channel: string): Promise<void> {
    if (this.subscribed.has(channel)) return;
    this.subscribed.add(channel);
    try {
      await this.subscriber.subscribe(channel);
    } catch {
      this.subscribed.delete(channel); // polling still works; try again next time
    }
  }

  async acquire(request: {
    lane: string;
    model: string;
    tokens: number;
    signal?: AbortSignal;
    maxWaitMs?: number;
    settings: LaneSettings;
  }): Promise<{ release(outcome: CallOutcome): void }> {
    const { signal, settings } = request;
    const lane = this.keysFor(request.lane);
    const [leasesKey, requestsKey, tokensKey, accountPauseKey] = lane.keys;
    const modelPauseKey = `${accountPauseKey}:${request.model}`;
    const keys = [leasesKey, requestsKey, tokensKey, accountPauseKey, modelPauseKey];
    const cap = typeof settings.maxConcurrency === 'number' ? settings.maxConcurrency : 0;
    const rpm = settings.requestsPerMinute ?? 0;
    const tpm = settings.tokensPerMinute ?? 0;
    const tokens = tpm > 0 ? Math.max(0, Math.ceil(request.tokens)) : 0;
    const started = Date.now();
    if (cap > 0) await this.subscribe(lane.channel);
    for (;;) {
      if (signal?.aborted) throw signal.reason;
      if (this.closed) throw new Error('the shared provider limits (Redis) were closed');
      const leaseId = `${this.processTag}:${++this.leaseCounter}`;
      const heardBefore = this.releases.get(lane.channel) ?? 0;
      const [status, waitMs] = await this.callScript(keys, ['acquire', leaseId, this.leaseMs, cap, rpm, tpm, tokens], signal, () =>
        this.grant(lane.hash, keys, lane.channel, leaseId, cap > 0, tpm, tokens).release({ kind: 'failed' }),
      );
      if (status === 0) {
        if (cap > 0) this.hold(lane.hash, leaseId);
        return this.grant(lane.hash, keys, lane.channel, leaseId, cap > 0, tpm, tokens);
      }
      if (status === 1) {
        // Paused by a 429 somewhere: wait it out, unless that is longer than this call may wait.
        if (request.maxWaitMs !== undefined) {
          const left = request.maxWaitMs - (Date.now() - started);
          if (waitMs > left) throw new RateLimitWaitError(waitMs, left);
        }
        await pause(waitMs, signal);
      } else if (status === 3) {
        await pause(waitMs, signal);
      } else if ((this.releases.get(lane.channel) ?? 0) === heardBefore) {
        await pause(this.pollMs, signal, (wake) => this.onRelease(lane.channel, wake));
      }
    }
  }

  /** The script's answer, or the signal's reason first; a lease granted after an abort is given back at once. */
  private callScript(keys: string[], args: Array<string | number>, signal: AbortSignal | undefined, leased: () => void): Promise<[number, number]> {
    const call = this.client.moaLane(...keys, ...args);
    if (!signal) return call;
    if (signal.aborted) {
      call.then(
        ([status]) => status === 0 && leased(),
        () => undefined,
      );
      return Promise.reject(signal.reason);
    }
    return new Promise<[number, number]>((resolve, reject) => {
      let settled = false;
      const onAbort = (): void => {
        settled = true;
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      call.then(
        (answer) => {
          signal.removeEventListener('abort', onAbort);
          if (settled) {
            if (answer[0] === 0) leased();
            return;
          }
          resolve(answer);
        },
        (error: unknown) => {
          signal.removeEventListener('abort', onAbort);
          if (!settled) reject(error);
        },
      );
    });
  }

  private onRelease(channel: string, wake: () => void): () => void {
    let set = this.waiters.get(channel);
    if (!set) {
      set = new Set();
      this.waiters.set(channel, set);
    }
    set.add(wake);
    return () => {
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(channel);
    };
  }

  private hold(laneHash: string, leaseId: string): void {
    let set = this.held.get(laneHash);
    if (!set) {
      set = new Set();
      this.held.set(laneHash, set);
    }
    set.add(leaseId);
  }

  private grant(
    laneHash: string,
    keys: string[],
    channel: string,
    leaseId: string,
    leased: boolean,
    tpm: number,
    tokens: number,
  ): { release(outcome: CallOutcome): void } {
    let released = false;
    return {
      release: (outcome) => {
        if (released) return;
        released = true;
        if (leased) this.held.get(laneHash)?.delete(leaseId);
        const pauseMs = outcome.kind === 'rate-limited' && outcome.retryAfterMs !== undefined ? Math.max(0, Math.ceil(outcome.retryAfterMs)) : 0;
        const scope = outcome.kind === 'rate-limited' ? outcome.scope : 'model';
        const actual = outcome.tokens ?? -1;
        if (!leased && pauseMs === 0 && !(tpm > 0 && actual >= 0)) return; // nothing to tell Redis
        // Fire and forget: a release that cannot reach Redis expires with its lease.
        this.client.moaLane(...keys, 'release', leaseId, channel, tpm, tokens, actual, pauseMs, scope).catch(() => undefined);
      },
    };
  }

  private async renew(): Promise<void> {
    for (const [laneHash, leases] of this.held) {
      if (leases.size === 0) continue;
      const keys = this.laneKeys.get(laneHash);
      if (!keys) continue;
      const [leasesKey, requestsKey, tokensKey, pauseKey] = keys.keys;
      await this.client.moaLane(leasesKey, requestsKey, tokensKey, pauseKey, pauseKey, 'renew', this.leaseMs, ...leases).catch(() => undefined);
    }
  }

  /** Stop renewing (held leases expire) and wake every waiter; the connections stay the caller's. */
  close(): void {
    this.closed = true;
    clearInterval(this.renewTimer);
    for (const set of this.waiters.values()) for (const wake of [...set]) wake();
  }
}

/** What one lease is (for tests and status): exported so nobody spells the keys twice. */
export function laneLeasesKey(lane: string): string {
  const hash = createHash('sha256').update(lane).digest('hex').slice(0, 16);
  return `${QUEUE_PREFIX}:lane:${hash}:leases`;
}
