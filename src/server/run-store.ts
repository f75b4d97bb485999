/**
 * The server's runs: the most recent N (their event streams, for
 * `GET /api/runs/:id`, in flight or finished) and the ones still running
 * (for draining on shutdown). Memory is bounded by the count N.
 *
 * A recent run is kept as its event array only (the engine's own buffer, no
 * copy): never the run object, whose listeners hold the request, its response
 * stream and the run's working state. A 2-layer run with a 100-token streamed
 * answer is about 110 events, so the default 100 runs hold a few megabytes.
 */
import type { MoAEvent } from '../core/events.js';
import type { MoARun } from '../core/stream-moa.js';

export const DEFAULT_RECENT_RUNS = 100;

export interface RunStore {
  /** Remember a run and count it as active until its result settles. */
  track(run: MoARun): void;
  /** The events of a recent run (live: it grows while the run is in flight). */
  events(runId: string): readonly MoAEvent[] | undefined;
  activeCount(): number;
  /** Abort every run still in flight. */
  abortAll(reason?: unknown): void;
  /** Resolves true once no run is active, or false when `timeoutMs` passes first. */
  whenIdle(timeoutMs: number): Promise<boolean>;
}

export function createRunStore(limit = DEFAULT_RECENT_RUNS): RunStore {
  const recent = new Map<string, readonly MoAEvent[]>();
  const active = new Set<MoARun>();
  let idleWaiters: Array<() => void> = [];

  const settle = (run: MoARun): void => {
    active.delete(run);
    if (active.size === 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const waiter of waiters) waiter();
    }
  };

  return {
    track(run) {
      recent.set(run.runId, run.events);
      while (recent.size > limit) recent.delete(recent.keys().next().value!);
      active.add(run);
      run.result.then(
        () => settle(run),
        () => settle(run),
      );
    },
    events(runId) {
      return recent.get(runId);
    },
    activeCount: () => active.size,
    abortAll(reason) {
      for (const run of active) run.abort(reason);
    },
    whenIdle(timeoutMs) {
      if (active.size === 0) return Promise.resolve(true);
      return new Promise((resolve) => {
        const waiter = (): void => {
          clearTimeout(timer);
          resolve(true);
        };
        const timer = setTimeout(() => {
          idleWaiters = idleWaiters.filter((candidate) => candidate !== waiter);
          resolve(false);
        }, timeoutMs);
        idleWaiters.push(waiter);
      });
    },
  };
}
