/**
 * The project's call scheduler (src/models/call-scheduler.ts) alone, in virtual time: a burst of
 * MoA requests whose calls each take exactly `callMs` and cost no CPU. What the scheduler's
 * ordering and concurrency limit make of a burst, apart from everything a real run adds (HTTP,
 * parsing, the machine's load): the benches print it beside what they measure.
 *
 * Each request is `proposers` calls of layer 0 at once, then one call of layer 1 (the aggregator)
 * once they all ended; the requests start together, in order (older runs first). The aggregator's
 * call streams, so it reports its response start (`grant.responded()`) after `firstByteMs`; the
 * proposers' plain calls answer all at once, at their end.
 */
import { CallScheduler, type ConcurrencySetting } from '../../src/models/call-scheduler.js';

export interface BurstSimulation {
  /** Request latencies, ascending (virtual ms). */
  latencies: number[];
  /** One request alone: (proposers in parallel) + aggregator. */
  soloMs: number;
  spanMs: number;
  /** The lane's limit when the last call was let through. */
  finalLimit: number;
}

export async function simulateBurst(options: {
  requests: number;
  proposers: number;
  callMs: number;
  /** When the streamed aggregator call's response starts; default: at its end. */
  firstByteMs?: number;
  maxConcurrency: ConcurrencySetting;
}): Promise<BurstSimulation> {
  let now = 0;
  const timers: Array<{ at: number; order: number; callback: () => void; cancelled: boolean }> = [];
  let timerOrder = 0;
  const setTimer = (callback: () => void, ms: number): { cancel(): void } => {
    const timer = { at: now + ms, order: timerOrder++, callback, cancelled: false };
    timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  };
  const scheduler = new CallScheduler({ clock: () => now, setTimer });
  const lane = scheduler.lane('simulated', { maxConcurrency: options.maxConcurrency });
  let finalLimit = lane.limit;
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimer(resolve, ms));
  const call = async (layer: number, runOrder: number): Promise<void> => {
    const grant = await lane.acquire({ model: `simulated:layer-${layer}`, priority: { layer, runOrder }, tokens: 0 });
    finalLimit = grant.limit;
    const firstByteMs = layer > 0 ? Math.min(options.firstByteMs ?? options.callMs, options.callMs) : options.callMs;
    await sleep(firstByteMs);
    grant.responded();
    await sleep(options.callMs - firstByteMs);
    grant.release({ kind: 'ok' });
  };
  const latencies: number[] = [];
  const requests = Array.from({ length: options.requests }, async () => {
    const runOrder = scheduler.nextRunOrder();
    await Promise.all(Array.from({ length: options.proposers }, () => call(0, runOrder)));
    await call(1, runOrder);
    latencies.push(now);
  });
  const all = Promise.all(requests);
  let finished = false;
  void all.then(() => (finished = true));
  // The virtual event loop: let every promise settle, then fire the earliest timer.
  const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
  for (await settle(); !finished; await settle()) {
    timers.sort((a, b) => a.at - b.at || a.order - b.order);
    const next = timers.shift();
    if (!next) throw new Error('simulation stalled: calls wait with no timer left');
    if (next.cancelled) continue;
    now = Math.max(now, next.at);
    next.callback();
  }
  latencies.sort((a, b) => a - b);
  return { latencies, soloMs: 2 * options.callMs, spanMs: now, finalLimit };
}
