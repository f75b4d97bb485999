/**
 * The items of a batch's source still to run, read one at a time as the runner (local or queued)
 * asks for the next: a bad entry is counted and reported, and skipped — or, with `strict`, ends the
 * reading with a ConfigError naming its line; an id the output already holds is counted as done and
 * skipped; reading stops before the next entry once `signal` aborts. Why it stopped is left in
 * `reading` for the runner's summary.
 */
import { ConfigError } from '../util/errors.js';
import type { BatchItem, BatchSource, InvalidInput } from './batch-item.js';

export interface SourceReading {
  stoppedBy?: 'interrupted' | 'invalid-input';
  /** With `strict`: the first bad entry, thrown once the batch has ended. */
  strictError?: ConfigError;
}

export async function* itemsToRun<Item extends BatchItem>(
  source: BatchSource<Item>,
  reading: SourceReading,
  options: {
    signal: AbortSignal;
    strict: boolean | undefined;
    done: ReadonlySet<string>;
    stats: { invalid: number; alreadyDone: number };
    onInvalid: (entry: InvalidInput) => void;
  },
): AsyncGenerator<Item> {
  // for await reads sync and async sources alike.
  for await (const entry of source) {
    if (options.signal.aborted) {
      reading.stoppedBy = 'interrupted';
      return;
    }
    if ('invalid' in entry && entry.invalid === true) {
      options.stats.invalid++;
      options.onInvalid(entry);
      if (options.strict) {
        reading.stoppedBy = 'invalid-input';
        reading.strictError = new ConfigError(`Invalid input at line ${entry.line}: ${entry.message} (--strict stops the batch at the first bad line)`, {
          code: 'invalid_input',
          path: `line ${entry.line}`,
        });
        return;
      }
      continue;
    }
    const item = entry as Item;
    if (options.done.has(item.id)) {
      options.stats.alreadyDone++;
      continue;
    }
    yield item;
  }
}
