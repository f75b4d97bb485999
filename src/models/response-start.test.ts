import { describe, expect, it } from 'vitest';
import { reportingResponseStart, watchResponseStart } from './response-start.js';

function answering(status: number): typeof globalThis.fetch {
  return async () => new Response('{}', { status });
}

describe('reporting response starts to the call that made the request', () => {
  it('calls the watcher of the request signal once the response starts with a 2xx status, once', async () => {
    const fetch = reportingResponseStart(answering(200));
    const signal = new AbortController().signal;
    let started = 0;
    watchResponseStart(signal, () => started++);
    const response = await fetch('http://127.0.0.1:1/v1/chat/completions', { signal });
    expect(response.status).toBe(200);
    expect(started).toBe(1);
    await fetch('http://127.0.0.1:1/v1/chat/completions', { signal });
    expect(started).toBe(1);
  });

  it('a 429 or a 5xx is not a start: the call counts when it ends, as a failure or a rate limit', async () => {
    for (const status of [429, 500, 503]) {
      const signal = new AbortController().signal;
      let started = 0;
      watchResponseStart(signal, () => started++);
      await reportingResponseStart(answering(status))('http://127.0.0.1:1/x', { signal });
      expect(started, `status ${status}`).toBe(0);
    }
  });

  it('an unwatched call or another call with its own signal is left alone', async () => {
    const fetch = reportingResponseStart(answering(200));
    const watched = new AbortController().signal;
    let started = 0;
    const unwatch = watchResponseStart(watched, () => started++);
    await fetch('http://127.0.0.1:1/x', { signal: new AbortController().signal });
    await fetch('http://127.0.0.1:1/x');
    unwatch();
    await fetch('http://127.0.0.1:1/x', { signal: watched });
    expect(started).toBe(0);
  });

  it('uses the global fetch of the moment when no fetch is given (tests and proxies replace it)', async () => {
    const original = globalThis.fetch;
    const seen: string[] = [];
    globalThis.fetch = async (input) => {
      seen.push(String(input));
      return new Response('ok');
    };
    try {
      const response = await reportingResponseStart(undefined)('http://127.0.0.1:1/late');
      expect(await response.text()).toBe('ok');
      expect(seen).toEqual(['http://127.0.0.1:1/late']);
    } finally {
      globalThis.fetch = original;
    }
  });
});
