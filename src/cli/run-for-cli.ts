/**
 * Run one MoA turn for a CLI command: progress on stderr, the final answer
 * streamed to stdout as it arrives (or the result as JSON), an optional trace
 * file, Ctrl-C cancelling every in-flight call.
 */
import type { ChatMessage, MoAEvent } from '../core/events.js';
import type { MoAResult } from '../core/reducer.js';
import { streamMoA, MoARunError } from '../core/stream-moa.js';
import { createTraceWriter, type TraceWriter } from '../core/trace-file.js';
import { createModelRegistry, type ModelRegistry } from '../models/registry.js';
import type { ChosenPreset } from './choose-preset.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import { createPlainProgress, createTtyProgress, summaryLine, type ProgressView } from './progress-view.js';
import { colorsFor } from './terminal.js';

export interface CliStreams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
  env: Record<string, string | undefined>;
}

export interface CliRunOptions {
  chosen: ChosenPreset;
  messages: ChatMessage[];
  json?: boolean;
  quiet?: boolean;
  tracePath?: string;
  /** A registry shared across runs (chat turns keep local models loaded); the caller closes it. Default: one for this run, closed after it. */
  registry?: ModelRegistry;
}

export interface CliRunOutcome {
  exitCode: number;
  result: MoAResult;
}

export async function runForCli(options: CliRunOptions, io: CliStreams): Promise<CliRunOutcome> {
  const errColors = colorsFor(io.stderr, io.env);
  const progress: ProgressView | undefined = options.quiet
    ? undefined
    : io.stderr.isTTY
      ? createTtyProgress(io.stderr, errColors)
      : createPlainProgress(io.stderr, errColors);
  const trace: TraceWriter | undefined = options.tracePath ? createTraceWriter(options.tracePath) : undefined;
  const { preset, config } = options.chosen;
  const finalLayer = preset.layers.length - 1;
  let answerStarted = false;
  let answerEndsWithNewline = true;

  const onEvent = (event: MoAEvent): void => {
    trace?.write(event);
    // The progress view sees a delta before the answer starts printing (so its last frame
    // shows the aggregator streaming), and sees the end of the answer after it is printed.
    if (event.type === 'agent-delta') progress?.onEvent(event);
    if (!options.json) writeAnswer(event);
    if (event.type !== 'agent-delta') progress?.onEvent(event);
  };
  const writeAnswer = (event: MoAEvent): void => {
    if (event.type === 'agent-end' && event.layer === finalLayer && answerStarted && !answerEndsWithNewline) {
      io.stdout.write('\n');
      answerEndsWithNewline = true;
    } else if (event.type === 'agent-delta' && event.layer === finalLayer) {
      if (!answerStarted) {
        progress?.finish();
        answerStarted = true;
      }
      io.stdout.write(event.delta);
      answerEndsWithNewline = event.delta.endsWith('\n');
    } else if (event.type === 'agent-retry' && event.layer === finalLayer && answerStarted) {
      // Text already printed cannot be taken back: say so, then stream the new attempt.
      io.stdout.write('\n');
      io.stderr.write(errColors.yellow(`moa: the answer was interrupted (${event.error.message}); starting it again\n`));
    }
  };

  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  const registry = options.registry ?? createModelRegistry({ providers: config.providers, env: io.env });
  const run = streamMoA(preset, options.messages, {
    stream: options.json ? 'none' : 'final',
    registry,
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    ...(config.maxRetries !== undefined ? { maxRetries: config.maxRetries } : {}),
    signal: controller.signal,
    onEvent,
  });

  let result: MoAResult;
  try {
    result = await run.result;
  } catch (error) {
    if (!(error instanceof MoARunError)) throw error;
    result = error.result;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    progress?.finish();
    await trace?.close();
    if (!options.registry) await registry.close();
  }

  if (options.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  } else if (answerStarted && !answerEndsWithNewline) {
    io.stdout.write('\n');
  }
  if (result.status === 'failed') {
    io.stderr.write(errColors.red(`moa: error: ${result.error?.message ?? 'the run failed'}\n`));
    if (options.tracePath) io.stderr.write(`moa: the trace of what was produced is in ${options.tracePath}\n`);
    return { exitCode: controller.signal.aborted ? EXIT_INTERRUPTED : EXIT_RUN_FAILED, result };
  }
  if (!options.quiet && !options.json) io.stderr.write(`${summaryLine(result, errColors)}\n`);
  return { exitCode: EXIT_OK, result };
}
