/**
 * `moa batch --input prompts.jsonl --output results.jsonl`: one MoA run per
 * input line through the batch runner (src/batch/run-batch.ts): shared provider
 * limits, response cache, crash-safe resumable output, cost and budget,
 * progress on stderr. Exit codes: 0 every item is in the output, 1 some items
 * failed or were not started (budget), 2 usage/configuration (or a bad line
 * with --strict), 130 interrupted; a rerun of the same command continues.
 */
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import type { ChatMessage } from '../core/events.js';
import { readInputFile, scanInputFile, type PromptItem } from '../batch/input-file.js';
import type { BatchItem, InvalidInput } from '../batch/run-batch.js';
import type { JobKind } from '../batch/queue/queued-batch.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import { ConfigError } from '../util/errors.js';
import { addBatchRunnerOptions, peakRssMb, presetBatchModels, runBatchForCli, type BatchRunnerFlags } from './batch-runner-cli.js';
import type { CommandRegistration } from './command-registration.js';
import type { PresetFlags } from './choose-preset.js';
import { addPresetOptions } from './options.js';
import { preparePreset } from './prepare-preset.js';
import type { CliStreams } from './run-for-cli.js';

/** What a `moa batch` item needs from its command: the preset, the system message, whether every model has a price. */
export interface MoaBatchSettings {
  preset: ResolvedPreset;
  system?: string;
  priced: boolean;
}

/** What a job of `moa batch` carries: the item's id and conversation. */
export interface MoaBatchJobItem extends BatchItem {
  messages: ChatMessage[];
}

/** One MoA run per item: the work of `moa batch`, here and on a queue worker. */
export const moaBatchJob: JobKind<MoaBatchJobItem, MoaBatchSettings> = {
  name: 'moa-batch',
  async work(item, context, settings) {
    const system: ChatMessage | undefined = settings.system ? { role: 'system', content: settings.system } : undefined;
    const result = await context.runMoA(settings.preset, system ? [system, ...item.messages] : item.messages);
    const costUsd = context.costUsd;
    return {
      text: result.text,
      usage: context.usage,
      latencyMs: context.elapsedMs(),
      ...(settings.priced && costUsd !== undefined ? { costUsd } : {}),
    };
  },
};

export interface BatchOptions extends PresetFlags, BatchRunnerFlags {
  input: string;
  output: string;
  strict?: boolean;
  yes?: boolean;
}

const SHOWN_INVALID_LINES = 20;

export function registerBatchCommand({ program, io, setExitCode }: CommandRegistration): void {
  const command: Command = addBatchRunnerOptions(
    addPresetOptions(program.command('batch').description('run MoA over every prompt of a JSONL file; crash-safe and resumable (rerun the same command to continue)'))
      .requiredOption('-i, --input <file>', 'prompts, one JSON object per line: {"id", "prompt"} or {"id", "messages"}')
      .requiredOption('-o, --output <file>', 'results, one JSON line per item: {"id", "text", "usage", "latencyMs", "costUsd"?, "error"?}'),
    { outputLine: 'result line', json: 'print the summary as JSON on stdout' },
  )
    .option('--strict', 'stop at the first bad input line (checked before any call) instead of skipping it')
    .option('-y, --yes', 'download the default local model without asking, if the default preset needs it');
  command.action(async (options: BatchOptions) => {
    setExitCode(await batchCommand(options, io));
  });
}

function describeInvalid(invalid: readonly InvalidInput[], inputPath: string): string {
  const shown = invalid.slice(0, SHOWN_INVALID_LINES).map((entry) => `  ${inputPath}:${entry.line}: ${entry.message}`);
  if (invalid.length > SHOWN_INVALID_LINES) shown.push(`  … and ${invalid.length - SHOWN_INVALID_LINES} more`);
  return shown.join('\n');
}

export async function batchCommand(options: BatchOptions, io: CliStreams): Promise<number> {
  const inputPath = resolvePath(options.input);
  const outputPath = resolvePath(options.output);
  if (inputPath === outputPath) throw new ConfigError('--input and --output name the same file', { code: 'usage', path: '--output' });

  const { preset, config } = await preparePreset({ ...options, quiet: options.quiet ?? false }, io);
  const settings = (priced: boolean): MoaBatchSettings => ({ preset, ...(options.system ? { system: options.system } : {}), priced });
  const outcome = await runBatchForCli<PromptItem, object>({
    label: 'moa batch',
    flags: options,
    config,
    io,
    models: presetBatchModels(preset),
    modelsDescription: 'of the preset',
    outputPath,
    strict: options.strict ?? false,
    input: async () => {
      // A first pass: how many items (progress, ETA), and with --strict every bad line before any call.
      const scan = await scanInputFile(inputPath);
      if (options.strict && scan.invalid.length > 0) {
        throw new ConfigError(`${scan.invalid.length} bad line(s) in the input (--strict; nothing was run):\n${describeInvalid(scan.invalid, inputPath)}`, {
          code: 'invalid_input',
          path: '--input',
        });
      }
      return { items: readInputFile(inputPath), total: scan.items };
    },
    work: (item, context, priced) => moaBatchJob.work(item, context, settings(priced)),
    queueJob: (priced) => ({
      kind: moaBatchJob.name,
      settings: settings(priced),
      jobItem: (item): MoaBatchJobItem => ({ id: item.id, messages: item.messages }),
    }),
  });
  if (options.json) {
    io.stdout.write(`${JSON.stringify({ ...outcome.summary, cache: outcome.cachePath, peakRssMb: peakRssMb() }, null, 2)}\n`);
  }
  return outcome.exitCode;
}
