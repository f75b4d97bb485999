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
import type { ResponseCache } from '../core/response-cache.js';
import { createBatchProgress, batchSummaryLine, type BatchProgressView } from '../batch/batch-progress.js';
import { roundUsd, unpricedModels } from '../batch/cost.js';
import { readInputFile, scanInputFile, type PromptItem } from '../batch/input-file.js';
import { defaultCachePath, openResponseCache, type SqliteResponseCache } from '../batch/response-cache.js';
import { DEFAULT_BATCH_CONCURRENCY, runBatch, type BatchSummary, type InvalidInput } from '../batch/run-batch.js';
import { createNodeHttpFetch } from '../models/node-http-fetch.js';
import { createModelRegistry } from '../models/registry.js';
import { ConfigError } from '../util/errors.js';
import type { CommandRegistration } from './command-registration.js';
import type { PresetFlags } from './choose-preset.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import { addPresetOptions, decimal, integer } from './options.js';
import { preparePreset } from './prepare-preset.js';
import type { CliStreams } from './run-for-cli.js';
import { colorsFor } from './terminal.js';

export interface BatchOptions extends PresetFlags {
  input: string;
  output: string;
  concurrency?: number;
  traces?: string;
  /** A path, false for --no-cache, undefined for the default path. */
  cache?: string | false;
  budgetUsd?: number;
  strict?: boolean;
  retryFailed?: boolean;
  json?: boolean;
  quiet?: boolean;
  yes?: boolean;
}

const SHOWN_INVALID_LINES = 20;
const MAX_DEFAULT_CONCURRENCY = 1024;

/** Items in flight by default: twice the providers' summed call slots, at least DEFAULT_BATCH_CONCURRENCY. */
export function defaultItemConcurrency(providerSlots: readonly number[]): number {
  const slots = providerSlots.reduce((sum, value) => sum + value, 0);
  return Math.min(MAX_DEFAULT_CONCURRENCY, Math.max(DEFAULT_BATCH_CONCURRENCY, 2 * slots));
}

export function registerBatchCommand({ program, io, setExitCode }: CommandRegistration): void {
  const command: Command = addPresetOptions(
    program
      .command('batch')
      .description('run MoA over every prompt of a JSONL file; crash-safe and resumable (rerun the same command to continue)'),
  )
    .requiredOption('-i, --input <file>', 'prompts, one JSON object per line: {"id", "prompt"} or {"id", "messages"}')
    .requiredOption('-o, --output <file>', 'results, one JSON line per item: {"id", "text", "usage", "latencyMs", "costUsd"?, "error"?}')
    .option('--concurrency <n>', `items in flight at once (default: twice the call slots (maxConcurrency) of the preset's providers, at least ${DEFAULT_BATCH_CONCURRENCY}); provider limits still apply underneath`, integer('--concurrency', 1, 100_000))
    .option('--traces <dir>', 'write each item\'s event stream to <dir>/<id>.jsonl')
    .option('--cache <path>', 'response cache file (default $MOA_CACHE_DIR/cache.sqlite or ~/.cache/moa/cache.sqlite)')
    .option('--no-cache', 'neither read nor write the response cache')
    .option('--budget-usd <usd>', 'stop starting new items once this much has been spent (needs prices for every model)', decimal('--budget-usd', 0, 1e9))
    .option('--strict', 'stop at the first bad input line (checked before any call) instead of skipping it')
    .option('--no-retry-failed', 'treat items whose result line holds an error as done instead of retrying them')
    .option('--json', 'print the summary as JSON on stdout')
    .option('-q, --quiet', 'no progress or summary on stderr')
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
  // Should the event loop ever run dry before the batch ends, the process must not exit 0.
  process.exitCode = EXIT_RUN_FAILED;
  const colors = colorsFor(io.stderr, io.env);
  const inputPath = resolvePath(options.input);
  const outputPath = resolvePath(options.output);
  if (inputPath === outputPath) throw new ConfigError('--input and --output name the same file', { code: 'usage', path: '--output' });

  const { preset, config } = await preparePreset({ ...options, quiet: options.quiet ?? false }, io);
  const models = preset.layers.flatMap((layer) => layer.agents.flatMap((agent) => [agent.label, ...agent.fallbacks]));
  const missingPrices = unpricedModels(config.prices, models);
  if (options.budgetUsd !== undefined && missingPrices.length > 0) {
    throw new ConfigError(
      `--budget-usd needs a price for every model of the preset; missing: ${missingPrices.join(', ')}. ` +
        `Add them under "prices:" in the config, e.g. prices: { "${missingPrices[0]}": { input: 0.88, output: 0.88 } } (USD per million tokens)`,
      { code: 'usage', path: '--budget-usd' },
    );
  }

  // One registry for the whole batch: every item and layer shares its provider limits.
  // node:http instead of the built-in fetch: a third of the CPU per call (see models/node-http-fetch.ts).
  const fetch = createNodeHttpFetch();
  const registry = createModelRegistry({ providers: config.providers, env: io.env, fetch });
  let cache: SqliteResponseCache | undefined;
  let progress: BatchProgressView | undefined;
  const controller = new AbortController();
  const onInterrupt = (): void => controller.abort();
  try {
    // Resolve every model now: an unknown provider or a missing key is exit 2, before any call.
    const providerConcurrency = new Map<string, number>();
    for (const layer of preset.layers) {
      for (const agent of layer.agents) {
        const resolved = [
          registry.resolve(agent.model, agent.path),
          ...agent.fallbacks.map((fallback, index) => registry.resolve(fallback, `${agent.path}.fallbacks[${index}]`)),
        ];
        for (const model of resolved) providerConcurrency.set(model.provider, model.queue.concurrency);
      }
    }
    // Enough items in flight to keep every provider's slots busy even while items wait on their aggregator.
    const concurrency = options.concurrency ?? defaultItemConcurrency([...providerConcurrency.values()]);

    const scan = await scanInputFile(inputPath);
    if (options.strict && scan.invalid.length > 0) {
      throw new ConfigError(`${scan.invalid.length} bad line(s) in the input (--strict; nothing was run):\n${describeInvalid(scan.invalid, inputPath)}`, {
        code: 'invalid_input',
        path: '--input',
      });
    }

    if (options.cache !== false) {
      cache = openResponseCache(typeof options.cache === 'string' ? resolvePath(options.cache) : defaultCachePath(io.env));
    }
    if (!options.quiet) progress = createBatchProgress(io.stderr, colors);

    const system: ChatMessage | undefined = options.system ? { role: 'system', content: options.system } : undefined;
    const priced = missingPrices.length === 0;
    process.once('SIGINT', onInterrupt);
    process.once('SIGTERM', onInterrupt);
    const summary: BatchSummary = await runBatch<PromptItem, object>({
      items: readInputFile(inputPath),
      total: scan.items,
      outputPath,
      registry,
      ...(cache ? { cache: cache as ResponseCache } : {}),
      prices: config.prices,
      concurrency,
      ...(options.budgetUsd !== undefined ? { budgetUsd: options.budgetUsd } : {}),
      ...(options.traces ? { tracesDir: resolvePath(options.traces) } : {}),
      retryFailed: options.retryFailed ?? true,
      strict: options.strict ?? false,
      signal: controller.signal,
      runDefaults: {
        ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
        ...(config.maxRetries !== undefined ? { maxRetries: config.maxRetries } : {}),
      },
      ...(progress ? { onEvent: (event) => progress!.onEvent(event) } : {}),
      work: async (item, context) => {
        const result = await context.runMoA(preset, system ? [system, ...item.messages] : item.messages);
        const costUsd = context.costUsd;
        return {
          text: result.text,
          usage: context.usage,
          latencyMs: context.elapsedMs(),
          ...(priced && costUsd !== undefined ? { costUsd } : {}),
        };
      },
    });
    progress?.finish();
    for (const repair of summary.repairs) if (!options.quiet) io.stderr.write(colors.yellow(`moa batch: ${repair}\n`));

    if (options.json) {
      const peakRssMb = Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
      io.stdout.write(`${JSON.stringify({ ...summary, costUsd: roundUsd(summary.costUsd), cache: cache?.path ?? null, peakRssMb }, null, 2)}\n`);
    }
    if (!options.quiet) io.stderr.write(`${batchSummaryLine(summary, colors)}\n`);
    if (summary.stoppedBy === 'interrupted') return EXIT_INTERRUPTED;
    if (summary.failed > 0 || (summary.notStarted ?? 0) > 0) return EXIT_RUN_FAILED;
    return EXIT_OK;
  } finally {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onInterrupt);
    progress?.finish();
    cache?.close();
    await registry.close().catch(() => undefined);
    fetch.close();
  }
}
