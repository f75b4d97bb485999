/**
 * A `text/event-stream` response body the handlers write to synchronously as
 * events arrive. Writes made in the same tick are sent as one chunk (fewer
 * socket writes when an upstream read carries several tokens). When the client
 * goes away the stream is cancelled and `onCancel` runs (the run is aborted).
 */
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
  response(headers?: Record<string, string>): Response;
}

export function createEventStream(onCancel: () => void): EventStream {
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
