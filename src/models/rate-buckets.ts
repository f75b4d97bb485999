/**
 * The pieces of a provider's per-minute limits, used by the call scheduler's lanes:
 *
 * - `Bucket`: a token bucket for requests or tokens per minute. It holds at most one second's
 *   allowance and refills at the per-minute rate, so throughput reaches the allowance without
 *   bursting far past it (no 429 storm at the start of a batch). A call larger than a second's
 *   allowance waits for a full bucket and then goes (the bucket goes into debt), so no call waits
 *   forever.
 * - `estimateCallTokens`: a call's token cost before it starts (prompt size + its output budget),
 *   corrected with the real usage when it ends.
 * - `RateLimitWaitError`: a call refused at once because a pause after a 429 would hold it longer
 *   than it may wait.
 */

const MINUTE_MS = 60_000;

export class Bucket {
  readonly capacity: number;
  readonly perMs: number;
  level: number;
  updatedAt: number;
  constructor(perMinute: number, now: number) {
    this.perMs = perMinute / MINUTE_MS;
    this.capacity = Math.max(1, perMinute / 60);
    this.level = this.capacity;
    this.updatedAt = now;
  }
  refill(now: number): void {
    if (now > this.updatedAt) {
      this.level = Math.min(this.capacity, this.level + (now - this.updatedAt) * this.perMs);
      this.updatedAt = now;
    }
  }
  /** Milliseconds until `amount` (capped at the capacity) is available; 0 when it is now. */
  waitFor(amount: number): number {
    const needed = Math.min(amount, this.capacity);
    if (this.level >= needed) return 0;
    return Math.ceil((needed - this.level) / this.perMs);
  }
}

/** A call refused because a pause after a 429 would hold it longer than it may wait. */
export class RateLimitWaitError extends Error {
  /** How long the pause still holds new calls. */
  readonly pausedForMs: number;
  constructor(pausedForMs: number, maxWaitMs: number) {
    super(`paused for ${Math.ceil(pausedForMs)} ms after a 429, longer than the ${Math.max(0, Math.floor(maxWaitMs))} ms this call may wait`);
    this.name = 'RateLimitWaitError';
    this.pausedForMs = pausedForMs;
  }
}

/** Characters per token for the estimate (English text averages about four). */
const CHARACTERS_PER_TOKEN = 4;
/** Output tokens assumed when a call sets no maximum. */
export const DEFAULT_ESTIMATED_OUTPUT_TOKENS = 1024;

/** A call's token estimate before it runs: its prompt's text length / 4 + its output budget. */
export function estimateCallTokens(prompt: ReadonlyArray<{ content: unknown }>, maxOutputTokens: number | undefined): number {
  let characters = 0;
  for (const message of prompt) {
    const content = message.content;
    if (typeof content === 'string') characters += content.length;
    else if (Array.isArray(content)) {
      for (const part of content as Array<{ text?: unknown }>) if (typeof part.text === 'string') characters += part.text.length;
    }
  }
  return Math.ceil(characters / CHARACTERS_PER_TOKEN) + (maxOutputTokens ?? DEFAULT_ESTIMATED_OUTPUT_TOKENS);
}
