/**
 * Reading a trace (the run's event stream as JSONL) in the browser: the
 * parsing rules are core's (trace-parse.ts, shared with `moa replay`); the
 * replay timing is the page's own.
 */
import type { MoAEvent } from '../core/events.js';

export { parseTraceText, TraceFormatError, type ParsedTrace as TraceText } from '../core/trace-parse.js';

/**
 * How long to wait before each event when replaying in time: the gap between
 * the events' `t`, divided by `speed`, each gap capped at `maxGapMs` so a long
 * silence (a slow provider, a retry backoff) does not stall the replay.
 */
export function replayDelays(events: readonly Pick<MoAEvent, 't'>[], speed: number, maxGapMs = 1000): number[] {
  let previous = events[0]?.t ?? 0;
  return events.map((event) => {
    const gap = Math.max(0, event.t - previous);
    previous = event.t;
    return Math.min(maxGapMs, gap / speed);
  });
}
