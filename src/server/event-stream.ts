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
 * ReadableStream inside a standard Response. Either way the response carries the
 * headers middleware put on the context before the handler (the CORS headers).
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
  /** Queue `event: <name>\ndata: <payload>\n\n` (the Responses and Messages APIs name their events). */
  event(name: string, payload: string): void;
  /** End the response once everything queued is sent. */
  close(): void;
  readonly closed: boolean;
  /** The handler's Response (under Node: the status and headers are written now, the body follows). */
  response(headers?: Record<string, string>): Response;
}

/** Node's ServerResponse behind a Hono context, when the app runs under @hono/node-server. */
export function nodeResponseOf(context: Context): ServerResponse | undefined {
  const outgoing = (context.env as { outgoing?: unknown } | undefined)?.outgoing;
  return outgoing !== null && typeof outgoing === 'object' && typeof (outgoing as ServerResponse).writeHead === 'function' ? (outgoing as ServerResponse) : undefined;
}

/** A 200 response with the SSE headers, the context's and `headers`. */
type Respond = (body: ReadableStream<Uint8Array> | null, headers: Record<string, string>) => Response;

/** How often a quiet stream sends a keep-alive comment (a proxy with a 60 s idle timeout must not drop it). */
export const DEFAULT_HEARTBEAT_MS = 15_000;

export interface EventStreamOptions {
  /**
   * Once the response has started, send an SSE comment (`: keep-alive`) at once and then at every
   * interval in which nothing else was written, so clients and proxies with idle timeouts keep a
   * stream open while the proposers work. 0 turns it off. Default 15 s.
   */
  heartbeatMs?: number;
}

/** The event stream answering this request; `onCancel` runs when its client goes away. */
export function createEventStream(context: Context, onCancel: () => void, options: EventStreamOptions = {}): EventStream {
  const outgoing = nodeResponseOf(context);
  // newResponse adds the headers middleware set (context.header) without making context.res, which would
  // turn RESPONSE_ALREADY_SENT into a copy that the Node adapter then tries to send again.
  const respond: Respond = (body, headers) => context.newResponse(body, 200, { ...SSE_HEADERS, ...headers });
  const stream = outgoing ? nodeEventStream(onCancel, outgoing, respond) : webEventStream(onCancel, respond);
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_HEARTBEAT_MS;
  return heartbeatMs > 0 ? withHeartbeat(stream, heartbeatMs) : stream;
}

/** Internal: the queue underneath, for the heartbeat. */
interface QueuedStream extends EventStream {
  readonly queue: Coalescer;
}

function withHeartbeat(stream: QueuedStream, intervalMs: number): EventStream {
  let timer: NodeJS.Timeout | undefined;
  let writtenSinceTick = false;
  const stop = (): void => {
    if (timer !== undefined) clearInterval(timer);
    timer = undefined;
  };
  const beat = (): void => {
    if (stream.closed) return stop();
    if (!writtenSinceTick) stream.queue.raw(': keep-alive\n\n');
    writtenSinceTick = false;
  };
  stream.queue.onClose(stop);
  return {
    data(payload) {
      writtenSinceTick = true;
      stream.data(payload);
    },
    event(name, payload) {
      writtenSinceTick = true;
      stream.event(name, payload);
    },
    close: () => stream.close(),
    get closed() {
      return stream.closed;
    },
    response(headers) {
      const response = stream.response(headers);
      if (timer === undefined && !stream.closed) {
        stream.queue.raw(': keep-alive\n\n');
        timer = setInterval(beat, intervalMs);
        timer.unref();
      }
      return response;
    },
  };
}

/**
 * The part both bodies share: `data: …` events queued in one tick go out together in one
 * `deliver(text, last)` call (`last` once closed). While `ready()` is false (not started, or
 * cancelled) the queue is held; `schedule()` sends it once it may be.
 */
interface Coalescer {
  data(payload: string): void;
  /** Queue text as it is (an SSE comment, a named event). */
  raw(text: string): void;
  /** Runs once, when the stream closes or is cancelled. */
  onClose(listener: () => void): void;
  close(): void;
  readonly closed: boolean;
  /** Deliver what is queued at the next flush (e.g. once the response has started). */
  schedule(): void;
  readonly hasQueued: boolean;
  /** The client went away: drop what is queued and accept nothing more. */
  cancel(): void;
}

function coalescer(deliver: (text: string, last: boolean) => void, ready: () => boolean): Coalescer {
  let pending = '';
  let scheduled = false;
  let closed = false;
  const closeListeners: Array<() => void> = [];
  const markClosed = (): void => {
    closed = true;
    for (const listener of closeListeners.splice(0)) listener();
  };
  const flush = (): void => {
    scheduled = false;
    if (!ready()) return;
    const text = pending;
    pending = '';
    deliver(text, closed);
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
    raw(text) {
      if (closed) return;
      pending += text;
      schedule();
    },
    onClose(listener) {
      if (closed) listener();
      else closeListeners.push(listener);
    },
    close() {
      if (closed) return;
      markClosed();
      schedule();
    },
    get closed() {
      return closed;
    },
    schedule,
    get hasQueued() {
      return pending !== '' || closed;
    },
    cancel() {
      pending = '';
      if (!closed) markClosed();
    },
  };
}

function nodeEventStream(onCancel: () => void, outgoing: ServerResponse, respond: Respond): QueuedStream {
  let started = false;
  let cancelled = false;
  const queue = coalescer(
    (text, last) => {
      if (last) outgoing.end(text);
      else if (text) outgoing.write(text);
    },
    () => started && !cancelled,
  );
  outgoing.once('close', () => {
    if (outgoing.writableFinished) return;
    cancelled = true;
    queue.cancel();
    onCancel();
  });
  return {
    queue,
    data: (payload) => queue.data(payload),
    event: (name, payload) => queue.raw(`event: ${name}\ndata: ${payload}\n\n`),
    close: () => queue.close(),
    get closed() {
      return queue.closed;
    },
    response(headers = {}) {
      if (!started && !cancelled) {
        started = true;
        // The head goes out with the first flush: one socket write for the head and the first events.
        outgoing.writeHead(200, Object.fromEntries(respond(null, headers).headers));
        if (queue.hasQueued) queue.schedule();
      }
      return RESPONSE_ALREADY_SENT;
    },
  };
}

function webEventStream(onCancel: () => void, respond: Respond): QueuedStream {
  let controller!: ReadableStreamDefaultController<Uint8Array>;
  let cancelled = false;
  const queue = coalescer(
    (text, last) => {
      if (text) controller.enqueue(encoder.encode(text));
      if (last) controller.close();
    },
    () => !cancelled,
  );
  const body = new ReadableStream<Uint8Array>({
    start(streamController) {
      controller = streamController;
    },
    cancel() {
      cancelled = true;
      queue.cancel();
      onCancel();
    },
  });
  return {
    queue,
    data: (payload) => queue.data(payload),
    event: (name, payload) => queue.raw(`event: ${name}\ndata: ${payload}\n\n`),
    close: () => queue.close(),
    get closed() {
      return queue.closed;
    },
    response(headers = {}) {
      return respond(body, headers);
    },
  };
}
