/**
 * A streamed answer, whatever API shape it is written in: start the run, send the headers and a
 * first keep-alive comment at once (the proposers may take minutes; event-stream.ts keeps a quiet
 * stream alive), hand the aggregator's tokens to the face as they come, and end with the face's
 * closing events or its error event.
 *
 * A stream cannot take text back: when the aggregator fails after it has streamed tokens (a
 * retry or fallback would restart the answer), the stream ends with a `stream_interrupted`
 * error and the run is cancelled. A retry before the first token is invisible to the client.
 */
import type { Context } from 'hono';
import type { MoAEvent } from '../core/events.js';
import type { MoAResult } from '../core/reducer.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import type { MoARun } from '../core/stream-moa.js';
import { createEventStream, type EventStream } from './event-stream.js';
import { HttpError, runFailureError } from './openai-errors.js';
import { RUN_ID_HEADER, settledResult } from './run-outcome.js';
import type { RunRequest } from './run-request.js';
import { startRun, type RunDependencies } from './start-run.js';

/** What the API faces need besides the run itself. */
export interface FaceOptions extends RunDependencies {
  /** True once the server has started shutting down (a run it aborts is a 503). */
  shuttingDown(): boolean;
  /** Seconds since the epoch, for `created` fields. */
  now(): number;
  /** Keep-alive comment interval of streamed replies (ms; 0: none). */
  heartbeatMs: number;
}

/** How one API shape writes a streamed answer. Each writer gets the stream; `done` and `fail` must close it. */
export interface AnswerWriter {
  /** Right after the headers (e.g. `response.created`, `message_start`). */
  start?(stream: EventStream): void;
  /** A piece of the aggregator's answer. */
  text(stream: EventStream, delta: string): void;
  done(stream: EventStream, result: MoAResult): void;
  fail(stream: EventStream, error: HttpError): void;
}

export interface StartedAnswer {
  response: Response;
  run: MoARun;
  preset: ResolvedPreset;
}

/**
 * Start the run and stream its answer through `writer` (`makeWriter` sees the run first, e.g. for
 * ids). Throws, before anything is sent, when the request or the preset is bad: the caller's
 * error mapper answers with a real 4xx/5xx status then.
 */
export function streamAnswer(
  context: Context,
  options: FaceOptions,
  request: RunRequest,
  makeWriter: (run: MoARun, preset: ResolvedPreset) => AnswerWriter,
): StartedAnswer {
  let finalLayer = 0;
  let sentText = false;
  let ended = false;
  let writer: AnswerWriter | undefined;
  let stream: EventStream | undefined;
  const end = (error: HttpError): void => {
    if (ended) return;
    ended = true;
    writer!.fail(stream!, error);
  };
  const onEvent = (event: MoAEvent): void => {
    if (ended || !stream) return;
    if (event.type === 'agent-delta') {
      if (event.layer !== finalLayer || event.delta === '') return;
      writer!.text(stream, event.delta);
      sentText = true;
    } else if (event.type === 'agent-retry' && event.layer === finalLayer && sentText) {
      end(streamInterrupted(event.error.message));
      run.abort();
    }
  };

  const { run, preset } = startRun(options, request, 'final', context.req.raw.signal, onEvent);
  finalLayer = preset.layers.length - 1;
  writer = makeWriter(run, preset);
  stream = createEventStream(context, () => run.abort(), { heartbeatMs: options.heartbeatMs });
  const response = stream.response({ [RUN_ID_HEADER]: run.runId });
  writer.start?.(stream);

  settledResult(run.result).then(
    (result) => {
      if (ended) return;
      if (result.status !== 'done') return end(runFailureError(result, options.shuttingDown()));
      ended = true;
      writer!.done(stream!, result);
    },
    (error: unknown) => end(new HttpError(500, `Internal server error: ${String(error)}`, { code: 'internal_error' })),
  );
  return { response, run, preset };
}

/** The aggregator failed after part of its answer was streamed: a stream cannot take text back. */
export function streamInterrupted(reason: string): HttpError {
  return new HttpError(
    502,
    `The aggregator failed after it had started streaming the answer (${reason}); a stream cannot take text back, so this response ends here. Retry the request.`,
    { code: 'stream_interrupted' },
  );
}
