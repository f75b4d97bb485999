/**
 * A streamed answer, whatever API shape it is written in: start the run, send the headers and a
 * first keep-alive comment at once (the proposers may take minutes; event-stream.ts keeps a quiet
 * stream alive), hand the aggregator's tokens to the face as they come, and end with the face's
 * closing events or its error event.
 *
 * A stream cannot take text back, and the engine never asks it to: when the aggregator fails after it
 * has streamed tokens, its retry (or fallback) continues the text already sent (`agent-retry.continues`),
 * so the stream simply goes on. Only an attempt that would start over (none today) ends the stream with a
 * `stream_interrupted` error. A retry before the first token is invisible to the client.
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

/** A streamed piece of a tool call the aggregator is writing. */
export interface ToolCallPiece {
  /** Which answer (choice) it belongs to: 0 unless the request asked for several (`n`). */
  choice: number;
  /** Its position among that answer's tool calls. */
  index: number;
  id: string;
  name: string;
  argumentsDelta: string;
  /** True for the call's first piece (write the id and name then). */
  first: boolean;
}

/** How one API shape writes a streamed answer. Each writer gets the stream; `done` and `fail` must close it. */
export interface AnswerWriter {
  /** Right after the headers (e.g. `response.created`, `message_start`). */
  start?(stream: EventStream): void;
  /** A piece of the aggregator's answer (`choice`: which answer, 0 unless `n` > 1). */
  text(stream: EventStream, delta: string, choice: number): void;
  /** A piece of a tool call; writers of APIs without tools never get one (the request could not carry tools). */
  toolCall?(stream: EventStream, piece: ToolCallPiece): void;
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
  // Final agents (choices) that have streamed something: a retry of one of them cannot take it back.
  const sent = new Set<number>();
  // What each choice has streamed: text, and each tool call's arguments so far.
  const sentText = new Map<number, string>();
  const sentCalls = new Map<string, string>();
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
      writer!.text(stream, event.delta, event.agent);
      sentText.set(event.agent, (sentText.get(event.agent) ?? '') + event.delta);
      sent.add(event.agent);
    } else if (event.type === 'agent-tool-call-delta') {
      if (event.layer !== finalLayer) return;
      const key = `${event.agent}/${event.index}`;
      const first = !sentCalls.has(key);
      sentCalls.set(key, (sentCalls.get(key) ?? '') + event.argumentsDelta);
      writer!.toolCall?.(stream, {
        choice: event.agent,
        index: event.index,
        id: event.toolCallId,
        name: event.toolName,
        argumentsDelta: event.argumentsDelta,
        first,
      });
      sent.add(event.agent);
    } else if (event.type === 'agent-retry' && event.layer === finalLayer && sent.has(event.agent) && !event.continues) {
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
      catchUp(writer, stream, result, sentText, sentCalls);
      writer.done(stream, result);
    },
    (error: unknown) => end(new HttpError(500, `Internal server error: ${String(error)}`, { code: 'internal_error' })),
  );
  return { response, run, preset };
}

/**
 * Whatever of the final answers did not arrive as deltas (an answer from the cache, a tool call
 * a provider sent whole), written before the closing events, so a stream always carries the
 * whole answer.
 */
function catchUp(writer: AnswerWriter, stream: EventStream, result: MoAResult, sentText: Map<number, string>, sentCalls: Map<string, string>): void {
  const choices = result.choices?.length ? result.choices : [{ index: 0, text: result.text, toolCalls: result.toolCalls }];
  for (const choice of choices) {
    const streamed = sentText.get(choice.index) ?? '';
    if (choice.text.length > streamed.length && choice.text.startsWith(streamed)) writer.text(stream, choice.text.slice(streamed.length), choice.index);
    (choice.toolCalls ?? []).forEach((call, index) => {
      const soFar = sentCalls.get(`${choice.index}/${index}`);
      if (soFar !== undefined && !call.arguments.startsWith(soFar)) return;
      const rest = call.arguments.slice(soFar?.length ?? 0);
      if (soFar !== undefined && rest === '') return;
      writer.toolCall?.(stream, { choice: choice.index, index, id: call.id, name: call.name, argumentsDelta: rest, first: soFar === undefined });
    });
  }
}

/** The aggregator failed after part of its answer was streamed: a stream cannot take text back. */
export function streamInterrupted(reason: string): HttpError {
  return new HttpError(
    502,
    `The aggregator failed after it had started streaming the answer (${reason}); a stream cannot take text back, so this response ends here. Retry the request.`,
    { code: 'stream_interrupted' },
  );
}
