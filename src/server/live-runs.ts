/**
 * The native event stream for the live web page:
 * `POST /api/runs` streams every MoAEvent of a run (stream mode 'all', every
 * agent's tokens) as `data: <event JSON>\n\n`, ending after run-end/run-error;
 * `GET /api/runs/:id` returns a recent run's events as NDJSON, the format of a
 * `--trace` file.
 */
import type { Context } from 'hono';
import type { MoAEvent } from '../core/events.js';
import { RUN_ID_HEADER } from './run-outcome.js';
import { createEventStream } from './event-stream.js';
import { HttpError } from './openai-errors.js';
import type { RunRequest } from './run-request.js';
import type { RunStore } from './run-store.js';
import { startRun, type RunDependencies } from './start-run.js';

export function liveRun(context: Context, request: RunRequest, dependencies: RunDependencies, options: { heartbeatMs?: number } = {}): Response {
  let cancel: () => void = () => undefined;
  const stream = createEventStream(context, () => cancel(), options);
  const onEvent = (event: MoAEvent): void => {
    stream.data(JSON.stringify(event));
    if (event.type === 'run-end' || event.type === 'run-error') stream.close();
  };
  // Throws (→ 4xx/5xx JSON) before any byte is streamed when the request or preset is bad.
  const { run } = startRun(dependencies, request, 'all', context.req.raw.signal, onEvent);
  cancel = () => run.abort();
  return stream.response({ [RUN_ID_HEADER]: run.runId });
}

/** NDJSON, one event per line: exactly what `moa ask --trace FILE` writes. */
export function traceText(events: readonly MoAEvent[]): string {
  let text = '';
  for (const event of events) text += `${JSON.stringify(event)}\n`;
  return text;
}

export function runTrace(context: Context, store: RunStore): Response {
  const runId = context.req.param('id') ?? '';
  const events = store.events(runId);
  if (!events) {
    throw new HttpError(404, `No recent run with id "${runId}" (the server keeps the most recent runs only)`, {
      code: 'run_not_found',
      param: 'id',
    });
  }
  return context.body(traceText(events), 200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' });
}
