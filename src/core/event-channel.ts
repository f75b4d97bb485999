/**
 * Stamps each event with the run envelope (runId, gap-free seq, t) and hands it
 * to synchronous listeners and to any number of async iterators.
 */
import type { MoAEvent, MoAEventBody } from './events.js';

export class EventChannel implements AsyncIterable<MoAEvent> {
  private seq = 0;
  private readonly buffer: MoAEvent[] = [];
  private closed = false;
  private readonly waiters = new Set<() => void>();
  private readonly listeners: Array<(event: MoAEvent) => void> = [];

  constructor(
    readonly runId: string,
    private readonly elapsed: () => number,
  ) {}

  onEvent(listener: (event: MoAEvent) => void): void {
    this.listeners.push(listener);
  }

  /**
   * Stamps `body` itself with the envelope and returns it as the event (no copy:
   * a run emits an event per streamed token). Pass a fresh object; it is the event from now on.
   */
  emit(body: MoAEventBody): MoAEvent {
    if (this.closed) throw new Error(`event after the end of run ${this.runId}: ${body.type}`);
    const event = body as MoAEvent;
    event.runId = this.runId;
    event.seq = this.seq++;
    event.t = this.elapsed();
    this.buffer.push(event);
    for (const listener of this.listeners) listener(event);
    if (this.waiters.size > 0) this.wake();
    return event;
  }

  close(): void {
    this.closed = true;
    this.wake();
  }

  /** Every event so far, in order. */
  get events(): readonly MoAEvent[] {
    return this.buffer;
  }

  private wake(): void {
    const waiters = [...this.waiters];
    this.waiters.clear();
    for (const wake of waiters) wake();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<MoAEvent> {
    let index = 0;
    for (;;) {
      while (index < this.buffer.length) yield this.buffer[index++]!;
      if (this.closed) return;
      await new Promise<void>((resolve) => this.waiters.add(resolve));
    }
  }
}
