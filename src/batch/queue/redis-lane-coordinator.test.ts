// The Redis-backed lane coordinator against a real redis-server: two coordinators with their own
// connections stand for two worker processes sharing one provider account.
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startRedisServer, type TestRedisServer } from '../../../test/support/redis-server.js';
import { RateLimitWaitError, type CallOutcome, type LaneSettings } from '../../models/call-scheduler.js';
import { laneLeasesKey, RedisLaneCoordinator } from './redis-lane-coordinator.js';

let redis: TestRedisServer;
const clients: Redis[] = [];
let admin: Redis;

function connect(): Redis {
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  clients.push(client);
  return client;
}

const coordinators: RedisLaneCoordinator[] = [];
function coordinator(options: { leaseMs?: number; pollMs?: number } = {}): RedisLaneCoordinator {
  const made = new RedisLaneCoordinator({ client: connect(), subscriber: connect(), ...options });
  coordinators.push(made);
  return made;
}

beforeAll(async () => {
  redis = await startRedisServer();
  admin = connect();
});
afterAll(async () => {
  for (const made of coordinators) made.close();
  await Promise.all(clients.map((client) => client.quit().catch(() => undefined)));
  await redis?.stop();
});
beforeEach(async () => {
  await admin.flushall();
});

const LANE = '["fake","openai-compatible","http://127.0.0.1:1/v1","key","null"]';

function ask(target: RedisLaneCoordinator, settings: LaneSettings, extra: { model?: string; tokens?: number; maxWaitMs?: number; signal?: AbortSignal } = {}) {
  return target.acquire({
    lane: LANE,
    model: extra.model ?? 'fake:m',
    tokens: extra.tokens ?? 0,
    settings,
    ...(extra.maxWaitMs !== undefined ? { maxWaitMs: extra.maxWaitMs } : {}),
    ...(extra.signal ? { signal: extra.signal } : {}),
  });
}

/** Settles a promise into 'pending' when it has not settled by the time Redis answered a round trip twice. */
async function state(promise: Promise<unknown>): Promise<'resolved' | 'rejected' | 'pending'> {
  let result: 'resolved' | 'rejected' | 'pending' = 'pending';
  promise.then(
    () => void (result = 'resolved'),
    () => void (result = 'rejected'),
  );
  await admin.ping();
  await admin.ping();
  return result;
}

const OK: CallOutcome = { kind: 'ok' };
/** The pause keys the script writes (a release is sent without waiting for its answer). */
const pauseKey = (model?: string): string => laneLeasesKey(LANE).replace(/:leases$/, model === undefined ? ':pause' : `:pause:${model}`);

describe('RedisLaneCoordinator', () => {
  it('maxConcurrency holds across processes; a release in one wakes a waiter in the other', async () => {
    const first = coordinator();
    const second = coordinator();
    const held = [await ask(first, { maxConcurrency: 2 }), await ask(first, { maxConcurrency: 2 })];
    const waiting = ask(second, { maxConcurrency: 2 });
    expect(await state(waiting)).toBe('pending');
    expect(await admin.zcard(laneLeasesKey(LANE))).toBe(2);
    held[0]!.release(OK);
    const granted = await waiting;
    expect(await admin.zcard(laneLeasesKey(LANE))).toBe(2);
    granted.release(OK);
    held[1]!.release(OK);
    await admin.ping();
    await expect.poll(() => admin.zcard(laneLeasesKey(LANE))).toBe(0);
  });

  it("a dead process's slots come back when its leases expire; a live one keeps renewing them", async () => {
    const dying = coordinator({ leaseMs: 600 });
    const living = coordinator({ leaseMs: 600, pollMs: 50 });
    await ask(dying, { maxConcurrency: 1 });
    dying.close(); // stops renewing, as a SIGKILL would
    const taken = await ask(living, { maxConcurrency: 1 }); // waits for the expiry, then gets the slot
    // Held well past its lease: renewed, so a third process still finds the lane full.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const third = coordinator({ leaseMs: 600, pollMs: 50 });
    const blocked = ask(third, { maxConcurrency: 1 });
    expect(await state(blocked)).toBe('pending');
    taken.release(OK);
    (await blocked).release(OK);
  });

  it("a 429's Retry-After pauses the model for every process; too long a pause is refused at once; account-wide pauses every model", async () => {
    const first = coordinator();
    const second = coordinator();
    const call = await ask(first, {});
    call.release({ kind: 'rate-limited', retryAfterMs: 60_000, scope: 'model' });
    await expect.poll(() => admin.exists(pauseKey('fake:m'))).toBe(1);
    await expect(ask(second, {}, { maxWaitMs: 1_000 })).rejects.toBeInstanceOf(RateLimitWaitError);
    const refused = await ask(second, {}, { maxWaitMs: 1_000 }).catch((error: RateLimitWaitError) => error);
    expect((refused as RateLimitWaitError).pausedForMs).toBeGreaterThan(50_000);
    // Another model of the lane is not held back…
    (await ask(second, {}, { model: 'fake:other', maxWaitMs: 1_000 })).release(OK);
    // …unless the limit is the account's.
    (await ask(first, {}, { model: 'fake:other' })).release({ kind: 'rate-limited', retryAfterMs: 60_000, scope: 'account' });
    await expect.poll(() => admin.exists(pauseKey())).toBe(1);
    await expect(ask(second, {}, { model: 'fake:third', maxWaitMs: 1_000 })).rejects.toBeInstanceOf(RateLimitWaitError);
  });

  it('a short pause is waited out, not refused', async () => {
    const first = coordinator();
    const second = coordinator();
    (await ask(first, {})).release({ kind: 'rate-limited', retryAfterMs: 300, scope: 'model' });
    await expect.poll(() => admin.exists(pauseKey('fake:m')), { interval: 5 }).toBe(1);
    const waited = ask(second, {}, { maxWaitMs: 10_000 });
    expect(await state(waited)).toBe('pending');
    (await waited).release(OK);
  });

  it('requests and tokens per minute are one budget in Redis, corrected with the real usage', async () => {
    const first = coordinator();
    const second = coordinator();
    // 600 tokens a minute: a bucket of 10 (one second's worth).
    const call = await ask(first, { tokensPerMinute: 600 }, { tokens: 10 });
    const key = laneLeasesKey(LANE).replace(/:leases$/, ':tokens');
    expect(Number(await admin.hget(key, 'level'))).toBeLessThan(1);
    const waiting = ask(second, { tokensPerMinute: 600 }, { tokens: 10 });
    expect(await state(waiting)).toBe('pending');
    // It used 2 tokens, not 10: the difference goes back to the bucket and the other call goes.
    call.release({ kind: 'ok', tokens: 2 });
    (await waiting).release({ kind: 'ok', tokens: 10 });
    // 60 requests a minute: one now, the next a second later.
    (await ask(first, { requestsPerMinute: 60 })).release(OK);
    const requestKey = laneLeasesKey(LANE).replace(/:leases$/, ':requests');
    expect(Number(await admin.hget(requestKey, 'level'))).toBeLessThan(0.5);
    const next = ask(second, { requestsPerMinute: 60 });
    expect(await state(next)).toBe('pending');
    (await next).release(OK);
  });

  it('a waiter whose call is cancelled stops waiting and takes no slot', async () => {
    const first = coordinator();
    const second = coordinator();
    const held = await ask(first, { maxConcurrency: 1 });
    const controller = new AbortController();
    const waiting = ask(second, { maxConcurrency: 1 }, { signal: controller.signal });
    controller.abort(new Error('cancelled'));
    await expect(waiting).rejects.toThrow('cancelled');
    held.release(OK);
    await expect.poll(() => admin.zcard(laneLeasesKey(LANE))).toBe(0);
  });
});
