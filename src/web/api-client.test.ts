import { describe, expect, it } from 'vitest';
import type { MoAEvent } from '../core/events.js';
import { ApiError, fetchTrace, listPresets, streamRun, type FetchFunction } from './api-client.js';

interface Call {
  url: string;
  init: RequestInit | undefined;
}

function recordingFetch(respond: (call: Call) => Response | Promise<Response>): { fetch: FetchFunction; calls: Call[] } {
  const calls: Call[] = [];
  return {
    calls,
    fetch: async (url, init) => {
      const call = { url: String(url), init };
      calls.push(call);
      return respond(call);
    },
  };
}

/** A body that delivers `text` in pieces of `pieceLength` bytes, the way a network would. */
function chunkedBody(text: string, pieceLength: number): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + pieceLength));
      offset += pieceLength;
    },
  });
}

const runStart: MoAEvent = {
  type: 'run-start',
  runId: 'run-1',
  seq: 0,
  t: 0,
  stream: 'all',
  messages: [{ role: 'user', content: 'Hi' }],
  layers: [{ agents: [{ model: 'fake:agg' }], aggregator: true, minSuccessful: 1 }],
};
const delta: MoAEvent = { type: 'agent-delta', runId: 'run-1', seq: 1, t: 5, layer: 0, agent: 0, delta: 'Hel\nlo' };
const runEnd: MoAEvent = { type: 'run-end', runId: 'run-1', seq: 2, t: 9, text: 'Hel\nlo', usage: { inputTokens: 1, outputTokens: 2 }, latencyMs: 9 };
const sse = (events: MoAEvent[]) => events.map((event) => `data: ${JSON.stringify(event)}\n\n`).join('');

describe('listPresets', () => {
  it('reads /v1/models into presets, sending the key when there is one', async () => {
    const { fetch, calls } = recordingFetch(() =>
      Response.json({
        object: 'list',
        data: [
          { id: 'quick', object: 'model', owned_by: 'moa', moa: { default: true, layers: [{ models: ['fake:a', 'fake:b'] }, { models: ['fake:agg'] }] } },
          { id: 'other', object: 'model', owned_by: 'moa', moa: { layers: [{ models: ['fake:x'] }] } },
        ],
      }),
    );
    const presets = await listPresets({ fetch, apiKey: 'k-123' });
    expect(presets).toEqual([
      { id: 'quick', isDefault: true, layers: [{ models: ['fake:a', 'fake:b'] }, { models: ['fake:agg'] }] },
      { id: 'other', isDefault: false, layers: [{ models: ['fake:x'] }] },
    ]);
    expect(calls[0]?.url).toBe('/v1/models');
    expect(new Headers(calls[0]?.init?.headers).get('authorization')).toBe('Bearer k-123');
  });

  it('turns a 401 into an ApiError that asks for the key, with the server message', async () => {
    const { fetch, calls } = recordingFetch(() =>
      Response.json({ error: { message: 'Missing API key', type: 'authentication_error', code: 'invalid_api_key' } }, { status: 401 }),
    );
    const failure = await listPresets({ fetch }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).message).toBe('Missing API key');
    expect((failure as ApiError).needsApiKey).toBe(true);
    expect((failure as ApiError).code).toBe('invalid_api_key');
    expect(new Headers(calls[0]?.init?.headers).has('authorization')).toBe(false);
  });
});

describe('streamRun', () => {
  it('posts the conversation and hands over every event, whatever the chunking', async () => {
    for (const pieceLength of [1, 7, 64, 100_000]) {
      const { fetch, calls } = recordingFetch(
        () => new Response(chunkedBody(sse([runStart, delta, runEnd]), pieceLength), { headers: { 'Content-Type': 'text/event-stream', 'X-MoA-Run-Id': 'run-1' } }),
      );
      const received: MoAEvent[] = [];
      let announcedRunId: string | undefined;
      const outcome = await streamRun({ model: 'quick', messages: [{ role: 'user', content: 'Hi' }] }, (event) => received.push(event), {
        fetch,
        onRunId: (runId) => (announcedRunId = runId),
      });
      expect(received).toEqual([runStart, delta, runEnd]);
      expect(outcome).toEqual({ runId: 'run-1', lastEvent: runEnd });
      expect(announcedRunId).toBe('run-1');
      expect(calls[0]?.url).toBe('/api/runs');
      expect(calls[0]?.init?.method).toBe('POST');
      expect(JSON.parse(String(calls[0]?.init?.body))).toEqual({ model: 'quick', messages: [{ role: 'user', content: 'Hi' }] });
    }
  });

  it('shows the server message when the run is refused', async () => {
    const { fetch } = recordingFetch(() =>
      Response.json({ error: { message: 'Unknown model "nope"', type: 'invalid_request_error', param: 'model', code: 'unknown_preset' } }, { status: 400 }),
    );
    await expect(streamRun({ model: 'nope', messages: [] }, () => undefined, { fetch })).rejects.toThrow(
      new ApiError('Unknown model "nope"', 400, 'invalid_request_error', 'unknown_preset'),
    );
  });

  it('falls back to the status line when the error body is not JSON', async () => {
    const { fetch } = recordingFetch(() => new Response('upstream proxy exploded', { status: 502, statusText: 'Bad Gateway' }));
    await expect(streamRun({ model: 'quick', messages: [] }, () => undefined, { fetch })).rejects.toThrow('The server answered 502 Bad Gateway: upstream proxy exploded');
  });

  it('fails when the stream closes before run-end or run-error', async () => {
    const { fetch } = recordingFetch(() => new Response(chunkedBody(sse([runStart, delta]), 10), { headers: { 'Content-Type': 'text/event-stream' } }));
    const received: MoAEvent[] = [];
    await expect(streamRun({ model: 'quick', messages: [] }, (event) => received.push(event), { fetch })).rejects.toThrow(
      'The connection to the server closed before the run finished',
    );
    expect(received).toEqual([runStart, delta]);
  });

  it('stops reading when the signal aborts', async () => {
    const controller = new AbortController();
    const fetch: FetchFunction = async (_url, init) =>
      new Response(
        new ReadableStream<Uint8Array>({
          start(stream) {
            stream.enqueue(new TextEncoder().encode(sse([runStart])));
            init?.signal?.addEventListener('abort', () => stream.error(init.signal?.reason));
          },
        }),
      );
    const received: MoAEvent[] = [];
    const pending = streamRun(
      { model: 'quick', messages: [] },
      (event) => {
        received.push(event);
        controller.abort();
      },
      { fetch, signal: controller.signal },
    );
    await expect(pending).rejects.toThrow(/abort/i);
    expect(received).toEqual([runStart]);
  });
});

describe('fetchTrace', () => {
  it('gets a run trace by id, with the key', async () => {
    const { fetch, calls } = recordingFetch(() => new Response(sse([runStart]), { headers: { 'Content-Type': 'application/x-ndjson' } }));
    await fetchTrace('run/1', { fetch, apiKey: 'k' });
    expect(calls[0]?.url).toBe('/api/runs/run%2F1');
    expect(new Headers(calls[0]?.init?.headers).get('authorization')).toBe('Bearer k');
  });
});
