/**
 * Run one MoA turn for a CLI command: progress on stderr, the final answer
 * streamed to stdout as it arrives (or the result as JSON), an optional trace
 * file, Ctrl-C cancelling every in-flight call.
 */
import type { ChatMessage, MoAEvent } from '../core/events.js';
import type { MoAResult } from '../core/reducer.js';
import { streamMoA, MoARunError } from '../core/stream-moa.js';
import { createTraceWriter, type TraceWriter } from '../node/trace-file.js';
import { createModelRegistry, type ModelRegistry } from '../models/registry.js';
import type { ChosenPreset } from './choose-preset.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import { createPlainProgress, createTtyProgress, summaryLine, type ProgressView } from './progress-view.js';
import { colorsFor, isLiveTerminal } from './terminal.js';
import '../models/local/register-local-provider.js'; // the local: provider (GGUF through node-llama-cpp) in this Node face's registries

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
  /** Cancels the run like Ctrl-C does (chat's own Ctrl-C key during a turn). */
  signal?: AbortSignal;
}

export interface CliRunOutcome {
  exitCode: number;
  result: MoAResult;
  /** The run was cancelled: by SIGINT/SIGTERM, or by `options.signal`. */
  interrupted: boolean;
}

export async function runForCli(options: CliRunOptions, io: CliStreams): Promise<CliRunOutcome> {
  const errColors = colorsFor(io.stderr, io.env);
  const progress: ProgressView | undefined = options.quiet
    ? undefined
    : isLiveTerminal(io.stderr, io.env)
      ? createTtyProgress(io.stderr, errColors)
      : createPlainProgress(io.stderr, errColors);
  const trace: TraceWriter | undefined = options.tracePath ? createTraceWriter(options.tracePath) : undefined;
  const { preset, config } = options.chosen;
  const finalLayer = preset.layers.length - 1;
  let answerStarted = false;
  let answerEndsWithNewline = true;
  // The answer shares the screen with the live view only when stdout is a terminal too;
  // redirected (`> answer.txt`), the view keeps redrawing to the end.
  const answerOnScreen = Boolean(io.stdout.isTTY);

  const onEvent = (event: MoAEvent): void => {
    trace?.write(event);
    if (!options.json) writeAnswer(event);
    progress?.onEvent(event);
  };
  const writeAnswer = (event: MoAEvent): void => {
    if (event.type === 'agent-end' && event.layer === finalLayer && answerStarted && !answerEndsWithNewline) {
      io.stdout.write('\n');
      answerEndsWithNewline = true;
    } else if (event.type === 'agent-delta' && event.layer === finalLayer) {
      if (!answerStarted) {
        if (answerOnScreen) progress?.answerStarts();
        answerStarted = true;
      }
      io.stdout.write(event.delta);
      answerEndsWithNewline = event.delta.endsWith('\n');
    } else if (event.type === 'agent-retry' && event.layer === finalLayer && answerStarted && !event.continues) {
      // Text already printed cannot be taken back: say so, then stream the new attempt. (The engine continues
      // after shown text, so this only happens with answers it could not continue.)
      io.stdout.write('\n');
      io.stderr.write(errColors.yellow(`moa: the answer was interrupted (${event.error.message}); starting it again\n`));
    }
  };

  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  process.once('SIGINT', onInterrupt);
  process.once('SIGTERM', onInterrupt);
  if (options.signal?.aborted) controller.abort();
  else options.signal?.addEventListener('abort', onInterrupt, { once: true });
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
    options.signal?.removeEventListener('abort', onInterrupt);
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
    // A cancellation is what the user asked for, not an error.
    if (controller.signal.aborted) io.stderr.write(errColors.yellow(`moa: ${result.error?.message ?? 'the run was cancelled'}\n`));
    else io.stderr.write(errColors.red(`moa: error: ${result.error?.message ?? 'the run failed'}\n`));
    if (options.tracePath) io.stderr.write(`moa: the trace of what was produced is in ${options.tracePath}\n`);
    return { exitCode: controller.signal.aborted ? EXIT_INTERRUPTED : EXIT_RUN_FAILED, result, interrupted: controller.signal.aborted };
  }
  if (!options.quiet && !options.json) io.stderr.write(`${summaryLine(result, errColors)}\n`);
  return { exitCode: EXIT_OK, result, interrupted: false };
}
