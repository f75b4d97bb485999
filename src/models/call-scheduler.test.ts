import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AUTO_CONCURRENCY, CallScheduler, RateLimitWaitError, type CallGrant, type CallPriority, type Lane, type LaneSettings } from './call-scheduler.js';
import { estimateCallTokens } from './rate-buckets.js';

/** A manual clock and timer list: time moves only when the test says so. */
function manualTime() {
  let now = 0;
  let timers: Array<{ at: number; callback: () => void; cancelled: boolean }> = [];
  return {
    clock: () => now,
    setTimer: (callback: () => void, ms: number) => {
      const timer = { at: now + ms, callback, cancelled: false };
      timers.push(timer);
      return { cancel: () => void (timer.cancelled = true) };
    },
    /** Move the clock forward, firing due timers in order. */
    async advance(ms: number) {
      const target = now + ms;
      for (;;) {
        const due = timers.filter((timer) => !timer.cancelled && timer.at <= target).sort((a, b) => a.at - b.at)[0];
        if (!due) break;
        now = Math.max(now, due.at);
        timers = timers.filter((timer) => timer !== due);
        due.callback();
        await Promise.resolve();
      }
      now = target;
      await new Promise((resolve) => setImmediate(resolve));
    },
  };
}

function laneWith(settings: LaneSettings, time = manualTime()): { lane: Lane; time: ReturnType<typeof manualTime> } {
  const scheduler = new CallScheduler({ clock: time.clock, setTimer: time.setTimer });
  return { lane: scheduler.lane('test', settings), time };
}

const urgency = (layer = 0, runOrder = 0): CallPriority => ({ layer, runOrder });

/** Start `count` calls and record when (on the manual clock) each is let through, and its grant. */
function acquireMany(
  lane: Lane,
  time: ReturnType<typeof manualTime>,
  count: number,
  options: { model?: string; tokens?: number; priority?: CallPriority; signal?: AbortSignal } = {},
) {
  const grantedAt: Array<number | undefined> = Array.from({ length: count }, () => undefined);
  const grants: Array<CallGrant | undefined> = Array.from({ length: count }, () => undefined);
  const pending: Array<Promise<CallGrant>> = [];
  for (let index = 0; index < count; index++) {
    const granted = lane.acquire({
      model: options.model ?? 'p:m',
      priority: options.priority ?? urgency(),
      tokens: options.tokens ?? 0,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    granted.then(
      (grant) => {
        grantedAt[index] = time.clock();
        grants[index] = grant;
      },
      () => undefined,
    );
    pending.push(granted);
  }
  return { grantedAt, grants, pending };
}

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('a lane of the call scheduler', () => {
  it('never lets more than maxConcurrency calls through; each release lets the next one go', async () => {
    const { lane, time } = laneWith({ maxConcurrency: 2 });
    const { grantedAt, grants } = acquireMany(lane, time, 5);
    await flush();
    expect(grantedAt.map((at) => at !== undefined)).toEqual([true, true, false, false, false]);
    expect(lane.inFlight).toBe(2);
    grants[0]!.release({ kind: 'ok' });
    await flush();
    expect(grantedAt.map((at) => at !== undefined)).toEqual([true, true, true, false, false]);
    expect(lane.waiting).toBe(2);
  });

  it('serves the most urgent call first: a later layer, then an older run, then arrival', async () => {
    const { lane, time } = laneWith({ maxConcurrency: 1 });
    const holder = acquireMany(lane, time, 1);
    await flush();
    const order: string[] = [];
    const wait = (name: string, priority: CallPriority) =>
      void lane.acquire({ model: 'p:m', priority, tokens: 0 }).then((grant) => {
        order.push(name);
        grant.release({ kind: 'ok' });
      });
    wait('run 2, layer 1', urgency(0, 2));
    wait('run 3, layer 2', urgency(1, 3));
    wait('run 1, layer 1 (first)', urgency(0, 1));
    wait('run 1, layer 1 (second)', urgency(0, 1));
    wait('run 2, layer 3', urgency(2, 2));
    holder.grants[0]!.release({ kind: 'ok' });
    for (let step = 0; step < 10; step++) await flush();
    expect(order).toEqual(['run 2, layer 3', 'run 3, layer 2', 'run 1, layer 1 (first)', 'run 1, layer 1 (second)', 'run 2, layer 1']);
  });

  it("a 429 pauses the model that answered it; the lane's other models go on", async () => {
    const { lane, time } = laneWith({ maxConcurrency: 4 });
    const first = acquireMany(lane, time, 1, { model: 'p:busy' });
    await flush();
    first.grants[0]!.release({ kind: 'rate-limited', retryAfterMs: 1_000, scope: 'model' });
    const busy = acquireMany(lane, time, 2, { model: 'p:busy' });
    const other = acquireMany(lane, time, 2, { model: 'p:other' });
    await flush();
    expect(other.grantedAt).toEqual([0, 0]);
    expect(busy.grantedAt).toEqual([undefined, undefined]);
    expect(lane.pausedForMs('p:busy')).toBe(1_000);
    expect(lane.pausedForMs('p:other')).toBe(0);
    await time.advance(1_000);
    expect(busy.grantedAt).toEqual([1_000, 1_000]);
  });

  it('an account-wide 429 pauses every model of the lane', async () => {
    const { lane, time } = laneWith({ maxConcurrency: 4 });
    const first = acquireMany(lane, time, 1, { model: 'p:a' });
    await flush();
    first.grants[0]!.release({ kind: 'rate-limited', retryAfterMs: 500, scope: 'account' });
    const other = acquireMany(lane, time, 1, { model: 'p:b' });
    await time.advance(499);
    expect(other.grantedAt).toEqual([undefined]);
    await time.advance(1);
    expect(other.grantedAt).toEqual([500]);
  });

  it('pauses only ever extend', async () => {
    const { lane, time } = laneWith({});
    lane.pause(2_000, 'p:m');
    const { grantedAt } = acquireMany(lane, time, 3);
    await time.advance(1_000);
    lane.pause(500, 'p:m');
    await time.advance(999);
    expect(grantedAt).toEqual([undefined, undefined, undefined]);
    await time.advance(1);
    expect(grantedAt).toEqual([2_000, 2_000, 2_000]);
  });

  it('refuses at once a call whose maxWaitMs a pause outlasts, and a waiter when a new pause outlasts its wait', async () => {
    const { lane, time } = laneWith({});
    lane.pause(3_600_000, 'p:m');
    const refused = lane.acquire({ model: 'p:m', priority: urgency(), tokens: 0, maxWaitMs: 60_000 });
    await expect(refused).rejects.toBeInstanceOf(RateLimitWaitError);
    await expect(refused).rejects.toThrow('paused for 3600000 ms after a 429, longer than the 60000 ms this call may wait');

    lane.pause(1_000, 'p:n');
    const patient = lane.acquire({ model: 'p:n', priority: urgency(), tokens: 0, maxWaitMs: 5_000 });
    const unbounded = lane.acquire({ model: 'p:n', priority: urgency(), tokens: 0 });
    expect(lane.waiting).toBe(2);
    lane.pause(10_000, 'p:n'); // a second 429 asks for longer than the first waiter may wait
    await expect(patient).rejects.toBeInstanceOf(RateLimitWaitError);
    expect(lane.waiting).toBe(1);
    await time.advance(10_000);
    await expect(unbounded).resolves.toBeDefined();
  });

  it('an aborted waiter leaves the line and rejects with the abort reason', async () => {
    const { lane, time } = laneWith({ maxConcurrency: 1 });
    const holder = acquireMany(lane, time, 1);
    const controller = new AbortController();
    const aborted = lane.acquire({ model: 'p:m', priority: urgency(), tokens: 0, signal: controller.signal });
    const behind = acquireMany(lane, time, 1);
    await flush();
    expect(lane.waiting).toBe(2);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(lane.waiting).toBe(1);
    holder.grants[0]!.release({ kind: 'ok' });
    await flush();
    expect(behind.grantedAt).toEqual([0]);
    await expect(lane.acquire({ model: 'p:m', priority: urgency(), tokens: 0, signal: controller.signal })).rejects.toThrow('stop');
  });
});

describe('adaptive concurrency (maxConcurrency: auto)', () => {
  it(`starts at ${AUTO_CONCURRENCY.initial}, grows while calls queue and succeed, halves on a 429`, async () => {
    const { lane, time } = laneWith({ maxConcurrency: 'auto' });
    expect(lane.limit).toBe(16);
    const { grants } = acquireMany(lane, time, 40);
    await flush();
    expect(lane.inFlight).toBe(16);
    // Slow start: each success while calls wait adds one slot.
    for (let index = 0; index < 4; index++) grants[index]!.release({ kind: 'ok' });
    await flush();
    expect(lane.limit).toBe(20);
    expect(lane.inFlight).toBe(20);
    // A 429 halves it; more 429s from calls let through before the decrease do not halve again.
    grants[4]!.release({ kind: 'rate-limited', scope: 'model' });
    grants[5]!.release({ kind: 'rate-limited', scope: 'model' });
    expect(lane.limit).toBe(10);
    await flush();
    // After a decrease: one more slot per round of `limit` successes (additive increase).
    const live = grants.filter((grant): grant is CallGrant => grant !== undefined);
    for (const grant of live.slice(6, 16)) grant.release({ kind: 'ok' });
    await flush();
    expect(lane.limit).toBe(11);
  });

  it('grows as soon as a call reports its response started, and does not count that call again when it ends', async () => {
    const { lane, time } = laneWith({ maxConcurrency: 'auto' });
    const { grants } = acquireMany(lane, time, 64);
    await flush();
    expect(lane.inFlight).toBe(16);
    // Every call in flight has started answering: slow start doubles the limit before any answer ends.
    for (const grant of grants.slice(0, 16)) grant!.responded();
    await flush();
    expect(lane.limit).toBe(32);
    expect(lane.inFlight).toBe(32);
    grants[0]!.responded(); // twice: once
    for (const grant of grants.slice(0, 16)) grant!.release({ kind: 'ok' });
    await flush();
    expect(lane.limit).toBe(32);
    expect(lane.inFlight).toBe(32);
    // A call that never reported its start still counts when it ends well.
    grants[16]!.release({ kind: 'ok' });
    await flush();
    expect(lane.limit).toBe(33);
  });

  it('does not grow when nothing waits, and stays within 1..256', async () => {
    const { lane, time } = laneWith({ maxConcurrency: 'auto' });
    const { grants } = acquireMany(lane, time, 3);
    await flush();
    for (const grant of grants) grant!.release({ kind: 'ok' });
    expect(lane.limit).toBe(16);
    for (let round = 0; round < 10; round++) {
      const { grants: more } = acquireMany(lane, time, 1);
      await flush();
      more[0]!.release({ kind: 'rate-limited', scope: 'model' });
    }
    expect(lane.limit).toBe(1);
  });

  it('a pinned number never moves', async () => {
    const { lane, time } = laneWith({ maxConcurrency: 3 });
    const { grants } = acquireMany(lane, time, 10);
    await flush();
    grants[0]!.release({ kind: 'rate-limited', scope: 'model' });
    grants[1]!.release({ kind: 'ok' });
    expect(lane.limit).toBe(3);
  });
});

describe('per-minute budgets', () => {
  it('requests per minute: a one-second burst, then the per-minute rate, in order', async () => {
    const { lane, time } = laneWith({ requestsPerMinute: 120 });
    const { grantedAt, grants } = acquireMany(lane, time, 6);
    await time.advance(0);
    // 120/min = 2 per second: a burst of 2, then one every 500 ms
    expect(grantedAt).toEqual([0, 0, undefined, undefined, undefined, undefined]);
    for (let step = 0; step < 4; step++) {
      await time.advance(500);
      for (const grant of grants) grant?.release({ kind: 'ok' });
    }
    expect(grantedAt).toEqual([0, 0, 500, 1000, 1500, 2000]);
  });

  it('never exceeds the allowance in any minute over a long run', async () => {
    const { lane, time } = laneWith({ requestsPerMinute: 600, maxConcurrency: 10_000 });
    const { grantedAt } = acquireMany(lane, time, 1500);
    await time.advance(180_000);
    const times = grantedAt.map((at) => at!);
    expect(times.every((at) => at !== undefined)).toBe(true);
    for (let start = 0; start <= 120_000; start += 5_000) {
      const inWindow = times.filter((at) => at >= start && at < start + 60_000).length;
      expect(inWindow).toBeLessThanOrEqual(610); // the allowance plus at most one second's burst
    }
    // and it does reach the allowance: 1500 calls at 10/s take about 149 s
    expect(Math.max(...times)).toBeGreaterThan(145_000);
    expect(Math.max(...times)).toBeLessThan(150_000);
  });

  it('tokens per minute: estimates are charged up front and corrected with the real usage', async () => {
    // 6000 tokens/min = 100 per second (the bucket's capacity)
    const { lane, time } = laneWith({ tokensPerMinute: 6000 });
    const first = acquireMany(lane, time, 1, { tokens: 100 });
    await time.advance(0);
    const second = acquireMany(lane, time, 1, { tokens: 100 });
    await time.advance(0);
    expect(second.grantedAt[0]).toBeUndefined();
    // the first call really used only 10 tokens: 90 come back, the waiter needs 10 more (100 ms)
    first.grants[0]!.release({ kind: 'ok', tokens: 10 });
    await time.advance(99);
    expect(second.grantedAt[0]).toBeUndefined();
    await time.advance(1);
    expect(second.grantedAt[0]).toBe(100);
  });

  it('a call larger than one second of tokens waits for a full bucket, then goes into debt', async () => {
    const { lane, time } = laneWith({ tokensPerMinute: 6000 });
    const { grantedAt } = acquireMany(lane, time, 2, { tokens: 500 });
    await time.advance(0);
    expect(grantedAt[0]).toBe(0);
    // the bucket is at -400 after the first: the second waits until it is full again (5 s)
    await time.advance(4_999);
    expect(grantedAt[1]).toBeUndefined();
    await time.advance(1);
    expect(grantedAt[1]).toBe(5_000);
  });
});

describe('the scheduler', () => {
  it('gives one lane per connection key (the settings given last win) and one per model object', () => {
    const scheduler = new CallScheduler();
    const first = scheduler.lane('openai|key-a', { maxConcurrency: 4 });
    expect(scheduler.lane('openai|key-a', { maxConcurrency: 8 })).toBe(first);
    expect(first.limit).toBe(8);
    expect(scheduler.lane('openai|key-b')).not.toBe(first);
    const model = {};
    expect(scheduler.objectLane(model, 'mock:a')).toBe(scheduler.objectLane(model, 'mock:a'));
  });

  it('a call waiting out a pause keeps the process alive until its turn (nothing else on the event loop)', () => {
    const module = fileURLToPath(new URL('./call-scheduler.ts', import.meta.url));
    const script = `const { CallScheduler } = await import(${JSON.stringify(module)});
      const lane = new CallScheduler().lane('k');
      lane.pause(150, 'p:m');
      await lane.acquire({ model: 'p:m', priority: { layer: 0, runOrder: 0 }, tokens: 0 });
      process.stdout.write('granted');`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(output).toBe('granted');
  });

  it('estimates tokens from the prompt text and the output budget', () => {
    const prompt = [{ content: 'x'.repeat(400) }, { content: [{ type: 'text', text: 'y'.repeat(40) }] }];
    expect(estimateCallTokens(prompt, 50)).toBe(110 + 50);
    expect(estimateCallTokens(prompt, undefined)).toBe(110 + 1024);
  });
});
