/**
 * Continuing an answer that has already been shown: after an early start meets a new reference,
 * at each part of a staircase, and when an attempt fails after it streamed text. The final answer
 * never takes text back, so the next call is asked to go on from where the text stops.
 *
 * The text written so far goes to the model as its own last (assistant) message — a prefill that
 * Anthropic and many OpenAI-compatible servers continue — with an instruction to go on without
 * repeating. Models that answer with a new message instead may repeat the end of the text, or all
 * of it: `ContinuationJoiner` holds back the start of the continuation until it can tell, and drops
 * what it repeats.
 */

export const CONTINUE_INSTRUCTION =
  'You have already written the beginning of your answer: it is your last message below. Continue it exactly where it stops. Do not repeat any of it, do not start over, and do not comment on it; if the answer is already complete, reply with nothing.';

/** Said to a staircase step that sees references still being written. */
export function partialReferencesNote(outputTokens: number | undefined): string {
  const part = outputTokens !== undefined ? `about the next ${outputTokens} tokens of your answer` : 'the next part of your answer';
  return `The references are still being written: what you see of those marked "(still being written)" is their beginning. Write ${part} from what they say so far, starting with what matters most; you will continue when they have more.`;
}

/** Providers such as Anthropic refuse a prefill that ends in whitespace: send it trimmed. */
export function prefillText(written: string): string {
  return written.replace(/\s+$/, '');
}

/** How much of the continuation to hold back before deciding whether it repeats. */
const PROBE_CHARACTERS = 48;
/** The longest end of the written text a continuation may repeat that is recognised as an overlap. */
const MAX_OVERLAP = 400;
/** An overlap this long is a repeat wherever it starts and ends; a shorter one must be whole words. */
const LONG_OVERLAP = 24;

/**
 * Joins a continuation onto the text already written. Feed it the continuation's deltas with
 * `push`; it returns what to append (possibly '' while it is still deciding); `end` returns what
 * it still holds when the continuation ends.
 */
export class ContinuationJoiner {
  private buffer = '';
  private mode: 'probing' | 'skipping' | 'passing' = 'probing';
  /** In 'skipping' mode: how much of the written text the continuation has repeated so far. */
  private matched = 0;

  constructor(private readonly written: string) {
    if (!written) this.mode = 'passing';
  }

  push(delta: string): string {
    if (this.mode === 'passing') return delta;
    if (this.mode === 'skipping') return this.skip(delta);
    this.buffer += delta;
    if (this.buffer.length < PROBE_CHARACTERS && this.buffer.length < this.written.length) return '';
    return this.decide();
  }

  end(): string {
    if (this.mode === 'probing') return this.decide();
    if (this.mode === 'skipping') {
      this.mode = 'passing';
      return ''; // it repeated the written text and stopped: nothing new
    }
    return '';
  }

  private decide(): string {
    const buffer = this.buffer;
    this.buffer = '';
    const written = this.written;
    // Started over from the beginning: skip what it repeats, keep what comes after.
    const head = buffer.trimStart();
    const writtenHead = written.trimStart();
    if (head.length > 0 && writtenHead.startsWith(head.slice(0, Math.min(head.length, writtenHead.length)))) {
      this.mode = 'skipping';
      this.matched = written.length - writtenHead.length;
      return this.skip(head);
    }
    this.mode = 'passing';
    return this.trimJoin(this.dropOverlap(buffer));
  }

  private skip(delta: string): string {
    let index = 0;
    while (index < delta.length && this.matched < this.written.length && delta[index] === this.written[this.matched]) {
      index++;
      this.matched++;
    }
    if (index === delta.length && this.matched < this.written.length) return '';
    this.mode = 'passing';
    return this.trimJoin(delta.slice(index));
  }

  /**
   * The longest end of the written text that the continuation starts with is dropped: a long overlap
   * always, a short one only when it is whole words (a model repeating "two " after "one two ").
   */
  private dropOverlap(text: string): string {
    const written = this.written;
    const longest = Math.min(MAX_OVERLAP, written.length, text.length);
    for (let length = longest; length >= 3; length--) {
      const overlap = text.slice(0, length);
      if (!written.endsWith(overlap)) continue;
      if (length >= LONG_OVERLAP) return text.slice(length);
      const startsAtWord = length === written.length || /\s/.test(written[written.length - length - 1]!);
      const endsAtWord = /[\s.,;:!?]$/.test(overlap) || length === text.length || /[\s.,;:!?]/.test(text[length]!);
      if (startsAtWord && endsAtWord && /[\p{L}\p{N}]/u.test(overlap)) return text.slice(length);
    }
    return text;
  }

  /** The written text ends in whitespace (or a prefill was trimmed): no doubled space at the join. */
  private trimJoin(text: string): string {
    return /\s$/.test(this.written) ? text.replace(/^[ \t]+/, '') : text;
  }
}
