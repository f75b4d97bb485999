/**
 * Tells a call's scheduler slot when the provider has started answering, so an `auto`
 * concurrency limit can grow then (where a 429 would have shown) instead of when a long answer
 * ends. The AI SDK hands a call's abort signal to the provider's fetch unchanged (no `timeout`
 * is set on our calls), so the signal names the call: model-attempt.ts watches it, and the fetch
 * every HTTP provider is built on reports a 2xx response for it. A signal nobody watches, or a
 * fetch that wraps the signal, only means the call counts when it ends, as before.
 */
import type { FetchFunction } from '../util/fetch-function.js';

const watchers = new WeakMap<AbortSignal, () => void>();

/** Call `callback` once a response to a request made with `signal` starts with a 2xx status; returns the unwatch. */
export function watchResponseStart(signal: AbortSignal, callback: () => void): () => void {
  watchers.set(signal, callback);
  return () => {
    if (watchers.get(signal) === callback) watchers.delete(signal);
  };
}

/** `fetch` (the global one, looked up per call, when none is given) reporting response starts to their watchers. */
export function reportingResponseStart(fetch: FetchFunction | undefined): FetchFunction {
  return async (input, init) => {
    const response = await (fetch ?? globalThis.fetch)(input, init);
    const signal = init?.signal;
    if (signal && response.ok) {
      const callback = watchers.get(signal);
      if (callback) {
        watchers.delete(signal);
        callback();
      }
    }
    return response;
  };
}
