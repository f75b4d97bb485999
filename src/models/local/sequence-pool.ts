/**
 * The sequences of one llama.cpp context lent to calls, one call per sequence: concurrent agents on
 * one model run as parallel sequences of one batch instead of loading it again or taking turns.
 */
import type { LlamaContext, LlamaContextSequence } from 'node-llama-cpp';
import { AbortedError } from '../../util/errors.js';

/** Lends the sequences of one context to calls, one call per sequence; waiters queue in order. */
export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: Array<{ resolve: (sequence: LlamaContextSequence) => void; reject: (error: unknown) => void }> = [];
  private busyCount = 0;
  private peak = 0;

  constructor(private readonly context: LlamaContext) {}

  get busy(): number {
    return this.busyCount;
  }

  /** The most sequences ever busy at once. */
  get peakBusy(): number {
    return this.peak;
  }

  get size(): number {
    return this.context.totalSequences;
  }

  private lend(sequence: LlamaContextSequence): LlamaContextSequence {
    this.busyCount++;
    this.peak = Math.max(this.peak, this.busyCount);
    return sequence;
  }

  acquire(signal: AbortSignal | undefined): Promise<LlamaContextSequence> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new AbortedError());
    const ready = this.free.pop();
    if (ready) return Promise.resolve(this.lend(ready));
    if (this.context.sequencesLeft > 0) return Promise.resolve(this.lend(this.context.getSequence()));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (sequence: LlamaContextSequence) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.lend(sequence));
        },
        reject,
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason ?? new AbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Clears the sequence's state and gives it to the next waiter (or keeps it free). */
  async release(sequence: LlamaContextSequence): Promise<void> {
    this.busyCount--;
    try {
      if (!sequence.disposed) await sequence.clearHistory();
    } catch {
      // a sequence that cannot be cleared is dropped; a fresh one replaces it
      sequence.dispose().catch(() => undefined);
    }
    const next = this.waiters.shift();
    if (sequence.disposed || this.context.disposed) {
      if (next && !this.context.disposed && this.context.sequencesLeft > 0) next.resolve(this.context.getSequence());
      else next?.reject(new AbortedError('the local model was unloaded'));
      return;
    }
    if (next) next.resolve(sequence);
    else this.free.push(sequence);
  }

  rejectWaiters(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}
