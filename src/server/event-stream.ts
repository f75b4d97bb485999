/**
 * A `text/event-stream` response body the handlers write to synchronously as
 * events arrive. Writes made in the same tick are sent as one chunk (fewer
 * socket writes when an upstream read carries several tokens). When the client
 * goes away the stream is cancelled and `onCancel` runs (the run is aborted).
 *
 * Under `moa serve` (@hono/node-server) the stream writes straight to Node's
 * ServerResponse and the handler returns RESPONSE_ALREADY_SENT: no web
 * ReadableStream, no reader loop in the adapter, one socket write per tick.
 * Anywhere else (app.request in tests, another runtime) the body is a
 * ReadableStream inside a standard Response.
 */
import type { ServerResponse } from 'node:http';
import { RESPONSE_ALREADY_SENT } from '@hono/node-server/utils/response';
import type { Context } from 'hono';

const encoder = new TextEncoder();

export const SSE_HEADERS: Record<string, string> = {
  'Content-Type': 'text/event-stream; charset=utf-8',
  'Cache-Control': 'no-cache, no-transform',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
};

export interface EventStream {
  /** Queue `data: <payload>\n\n`. Ignored once closed. */
  data(payload: string): void;
  /** End the response once everything queued is sent. */
  close(): void;
  readonly closed: boolean;
  /** The handler's Response (under Node: the status and headers are written now, the body follows). */
  response(headers?: Record<string, string>): Response;
}

/** Node's ServerResponse behind a Hono context, when the app runs under @hono/node-server. */
export function nodeResponseOf(context: Context): ServerResponse | undefined {
  const outgoing = (context.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing !== null && typeof outgoing === 'object' && typeof (outgoing as ServerResponse).writeHead === 'function'
    ? (outgoing as ServerResponse)
    : undefined;
}

export function createEventStream(onCancel: () => void, outgoing?: ServerResponse): EventStream {
  return outgoing ? nodeEventStream(onCancel, outgoing) : webEventStream(onCancel);
}

function nodeEventStream(onCancel: () => void, outgoing: ServerResponse): EventStream {
  let pending = '';
  let scheduled = false;
  let started = false;
  let closed = false;
  let cancelled = false;
  outgoing.once('close', () => {
    if (outgoing.writableFinished) return;
    cancelled = true;
    closed = true;
    pending = '';
    onCancel();
  });
  const flush = (): void => {
    scheduled = false;
    if (cancelled || !started) return;
    if (closed) {
      outgoing.end(pending);
    } else if (pending) {
      outgoing.write(pending);
    }
    pending = '';
  };
  const schedule = (): void => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return {
    data(payload) {
      if (closed) return;
      pending += `data: ${payload}\n\n`;
      schedule();
    },
    close() {
      if (closed) return;
      closed = true;
      schedule();
    },
    get closed() {
      return closed;
    },
    response(headers = {}) {
      if (!started && !cancelled) {
        started = true;
        // The head goes out with the first flush: one socket write for the head and the first events.
        outgoing.writeHead(200, { ...SSE_HEADERS, ...headers });
        if (pending || closed) schedule();
      }
      return RESPONSE_ALREADY_SENT;
    },
  };
}

function webEventStream(onCancel: () => void): EventStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let pending = '';
  let scheduled = false;
  let closed = false;
  let cancelled = false;
  const body = new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
    },
    cancel() {
      cancelled = true;
      closed = true;
      pending = '';
      onCancel();
    },
  });
  const flush = (): void => {
    scheduled = false;
    if (cancelled) return;
    if (pending) {
      controller.enqueue(encoder.encode(pending));
      pending = '';
    }
    if (closed) controller.close();
  };
  const schedule = (): void => {
    if (!scheduled) {
      scheduled = true;
      setImmediate(flush);
    }
  };
  return {
    data(payload) {
      if (closed) return;
      pending += `data: ${payload}\n\n`;
      schedule();
    },
    close() {
      if (closed) return;
      closed = true;
      schedule();
    },
    get closed() {
      return closed;
    },
    response(headers = {}) {
      return new Response(body, { status: 200, headers: { ...SSE_HEADERS, ...headers } });
    },
  };
}
