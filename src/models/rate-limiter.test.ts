import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { estimateCallTokens, RateLimiter, RateLimitWaitError, type RatePermit } from './rate-limiter.js';

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
    get pendingTimers() {
      return timers.filter((timer) => !timer.cancelled).length;
    },
  };
}

/** Start `count` acquisitions and record when (on the manual clock) each one is granted. */
function acquireMany(limiter: RateLimiter, time: ReturnType<typeof manualTime>, count: number, tokens = 0, signal?: AbortSignal) {
  const grantedAt: Array<number | undefined> = Array.from({ length: count }, () => undefined);
  const permits: Array<Promise<RatePermit>> = [];
  for (let index = 0; index < count; index++) {
    const permit = limiter.acquire(tokens, signal);
    permit.then(
      () => void (grantedAt[index] = time.clock()),
      () => undefined,
    );
    permits.push(permit);
  }
  return { grantedAt, permits };
}

describe('RateLimiter', () => {
  it('lets calls through at once when nothing is limited', async () => {
    const time = manualTime();
    const limiter = new RateLimiter({ clock: time.clock, setTimer: time.setTimer });
    const { grantedAt } = acquireMany(limiter, time, 50, 1000);
    await time.advance(0);
    expect(grantedAt.every((at) => at === 0)).toBe(true);
    expect(limiter.unlimited).toBe(true);
  });

  it('requests per minute: a one-second burst, then the per-minute rate, in arrival order', async () => {
    const time = manualTime();
    const limiter = new RateLimiter({ requestsPerMinute: 120, clock: time.clock, setTimer: time.setTimer });
    const { grantedAt } = acquireMany(limiter, time, 6);
    await time.advance(0);
    // 120/min = 2 per second: a burst of 2, then one every 500 ms
    expect(grantedAt).toEqual([0, 0, undefined, undefined, undefined, undefined]);
    await time.advance(2_000);
    expect(grantedAt).toEqual([0, 0, 500, 1000, 1500, 2000]);
  });

  it('never exceeds the allowance in any minute over a long run', async () => {
    const time = manualTime();
    const limiter = new RateLimiter({ requestsPerMinute: 600, clock: time.clock, setTimer: time.setTimer });
    const { grantedAt } = acquireMany(limiter, time, 1500);
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
    const time = manualTime();
    // 6000 tokens/min = 100 per second (the bucket's capacity)
    const limiter = new RateLimiter({ tokensPerMinute: 6000, clock: time.clock, setTimer: time.setTimer });
    const first = await limiter.acquire(100);
    const { grantedAt } = acquireMany(limiter, time, 1, 100);
    await time.advance(0);
    expect(grantedAt[0]).toBeUndefined();
    // the first call really used only 10 tokens: 90 come back, the waiter needs 10 more (100 ms)
    first.settle(10);
    await time.advance(99);
    expect(grantedAt[0]).toBeUndefined();
    await time.advance(1);
    expect(grantedAt[0]).toBe(100);
  });

  it('a call larger than one second of tokens waits for a full bucket, then goes into debt', async () => {
    const time = manualTime();
    const limiter = new RateLimiter({ tokensPerMinute: 6000, clock: time.clock, setTimer: time.setTimer });
    const { grantedAt } = acquireMany(limiter, time, 2, 500);
    await time.advance(0);
    expect(grantedAt[0]).toBe(0);
    // the bucket is at -400 after the first: the second waits until it is full again (5 s)
    await time.advance(4_999);
    expect(grantedAt[1]).toBeUndefined();
    await time.advance(1);
    expect(grantedAt[1]).toBe(5_000);
  });

  it('pause() holds every waiting and new call until the Retry-After has passed', async () => {
    const time = manualTime();
    const limiter = new RateLimiter({ clock: time.clock, setTimer: time.setTimer });
    limiter.pause(2_000);
    const { grantedAt } = acquireMany(limiter, time, 3);
    await time.advance(1_000);
    limiter.pause(500); // a pause ending sooner never shortens the longer one
    await time.advance(999);
    expect(grantedAt).toEqual([undefined, undefined, undefined]);
    await time.advance(1);
    expect(grantedAt).toEqual([2_000, 2_000, 2_000]);
    const after = await limiter.acquire();
    expect(after.estimatedTokens).toBe(0);
  });

  it('an aborted waiter leaves the line and rejects with the abort reason', async () => {
    const time = manualTime();
    const limiter = new RateLimiter({ requestsPerMinute: 60, clock: time.clock, setTimer: time.setTimer });
    await limiter.acquire();
    const controller = new AbortController();
    const aborted = limiter.acquire(0, controller.signal);
    const { grantedAt } = acquireMany(limiter, time, 1);
    expect(limiter.waiting).toBe(2);
    controller.abort(new Error('stop'));
    await expect(aborted).rejects.toThrow('stop');
    expect(limiter.waiting).toBe(1);
    await time.advance(1_000);
    expect(grantedAt[0]).toBe(1_000);
    await expect(limiter.acquire(0, controller.signal)).rejects.toThrow('stop');
  });

  it('refuses at once a call whose maxWaitMs a pause outlasts, and a waiter when a new pause outlasts its wait', async () => {
    const time = manualTime();
    const limiter = new RateLimiter({ clock: time.clock, setTimer: time.setTimer });
    limiter.pause(3_600_000);
    const refused = limiter.acquire(0, undefined, { maxWaitMs: 60_000 });
    await expect(refused).rejects.toBeInstanceOf(RateLimitWaitError);
    await expect(refused).rejects.toThrow('paused for 3600000 ms after a 429, longer than the 60000 ms this call may wait');

    const fresh = new RateLimiter({ clock: time.clock, setTimer: time.setTimer });
    fresh.pause(1_000);
    const patient = fresh.acquire(0, undefined, { maxWaitMs: 5_000 });
    const unbounded = fresh.acquire(0);
    expect(fresh.waiting).toBe(2);
    fresh.pause(10_000); // a second 429 asks for longer than the first waiter may wait
    await expect(patient).rejects.toBeInstanceOf(RateLimitWaitError);
    expect(fresh.waiting).toBe(1);
    expect(fresh.pausedForMs()).toBe(10_000);
    await time.advance(10_000);
    await expect(unbounded).resolves.toBeDefined();
  });

  it('a call waiting out a pause keeps the process alive until its turn (nothing else on the event loop)', () => {
    const module = fileURLToPath(new URL('./rate-limiter.ts', import.meta.url));
    const script = `const { RateLimiter } = await import(${JSON.stringify(module)});
      const limiter = new RateLimiter();
      limiter.pause(150);
      await limiter.acquire();
      process.stdout.write('granted');`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
    expect(output).toBe('granted');
  });

  it('estimates tokens from the prompt text and the output budget', () => {
    const prompt = [
      { content: 'x'.repeat(400) },
      { content: [{ type: 'text', text: 'y'.repeat(40) }] },
    ];
    expect(estimateCallTokens(prompt, 50)).toBe(110 + 50);
    expect(estimateCallTokens(prompt, undefined)).toBe(110 + 1024);
  });
});
