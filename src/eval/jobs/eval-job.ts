/**
 * A benchmark job: the items of one generation, judging or comparison, the work of each item on
 * the batch runner (`runBatch`: one scheduler, cache, cost meter, traces and resume for all of
 * them), and `finish`, which reads the progress sidecar back, writes the official files and
 * computes the metrics. Every job is prepared first — files loaded and checked, every prompt
 * built — so a bad input is a ConfigError before any call; then `estimateJob` says how many
 * calls it will make and what they may cost, and `runEvalJob` (or the CLI's runner) runs it.
 *
 * ```ts
 * const job = prepareMtBenchJudging({ answers, questions, judgePrompts, referenceAnswers, judge: 'openai:gpt-4' });
 * const estimate = estimateJob(job, config.prices);            // calls, tokens, cost bound
 * const { result } = await runEvalJob(job, { providers: config.providers, prices: config.prices, cache });
 * result.scores;                                                // per turn, per category, overall
 * ```
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { callCost, roundUsd, unpricedModels } from '../../core/cost.js';
import { runBatch, type BatchItem, type BatchItemContext, type BatchSummary, type RunBatchOptions } from '../../batch/run-batch.js';
import type { ModelPrice } from '../../core/config-schema.js';
import { createNodeHttpFetch } from '../../models/node-http-fetch.js';
import { createModelRegistry } from '../../models/registry.js';
import type { CallEstimate } from '../call-estimate.js';
import type { QueueJob } from '../../batch/queue/queued-batch.js';
import { ConfigError, MoAError } from '../../util/errors.js';
import { readProgressRecords } from './progress-file.js';
import '../../models/local/register-local-provider.js'; // the local: provider (GGUF through node-llama-cpp) in this Node face's registries

/** A model the job calls: resolved before any call and checked for a price. */
export interface JobModel {
  model: string | LanguageModelV3;
  /** "provider:model-id": the key of its price. */
  label: string;
  /** Where it was named, for the error when it cannot be resolved ("--judge", "layers[0].agents[1]"). */
  path: string;
}

export interface EvalJob<Item extends BatchItem, Output extends object, Result> {
  /** "moa judge mt-bench": labels progress and messages. */
  label: string;
  models: JobModel[];
  /** The runner's results JSONL: the resume state. */
  progressPath: string;
  items: Item[];
  /** The calls one item makes (for the estimate before the run). */
  estimateCalls(item: Item): CallEstimate[];
  /** `priced`: every model has a price, so the item's cost is complete. */
  work: (item: Item, context: BatchItemContext, priced: boolean) => Promise<Output>;
  /** After the pass (also a partial one): the official files from the sidecar, and the metrics. */
  finish(): Result;
  /** With `--queue`: the job kind whose work is `work` and its settings, so a `moa worker` runs the items. */
  queue?: (priced: boolean) => QueueJob<Item>;
}

/** Every runner setting but the job's own (items, results file, work). */
export type EvalRunnerOptions = Omit<RunBatchOptions<BatchItem, object>, 'items' | 'outputPath' | 'work' | 'total'>;

export interface ModelCallsEstimate {
  model: string;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** Null when the model has no price. */
  costUsd: number | null;
}

export interface JobEstimate {
  items: number;
  /** Items already finished in the progress sidecar (a rerun skips them). */
  alreadyDone: number;
  /** Calls to make for the items left (cache hits will make some of them free). */
  calls: number;
  inputTokens: number;
  outputTokens: number;
  /** True when every output was estimated at its call's max tokens (the cost is then an upper bound). */
  outputsBounded: boolean;
  /** Null when a model has no price (see unpricedModels). */
  costUsd: number | null;
  unpricedModels: string[];
  byModel: ModelCallsEstimate[];
}

/** How many calls the job will make for the items not yet done, their tokens and, with prices, their cost. */
export function estimateJob<Item extends BatchItem>(
  job: Pick<EvalJob<Item, object, unknown>, 'items' | 'progressPath' | 'estimateCalls'>,
  prices: Readonly<Record<string, ModelPrice>> = {},
): JobEstimate {
  const done = readProgressRecords(job.progressPath);
  const byModel = new Map<string, ModelCallsEstimate>();
  let alreadyDone = 0;
  let outputsBounded = true;
  for (const item of job.items) {
    if (done.has(item.id)) {
      alreadyDone++;
      continue;
    }
    for (const call of job.estimateCalls(item)) {
      const entry = byModel.get(call.model) ?? { model: call.model, calls: 0, inputTokens: 0, outputTokens: 0, costUsd: 0 };
      entry.calls++;
      entry.inputTokens += call.inputTokens;
      entry.outputTokens += call.outputTokens;
      if (!call.outputBounded) outputsBounded = false;
      byModel.set(call.model, entry);
    }
  }
  const models = [...byModel.values()].sort((left, right) => left.model.localeCompare(right.model));
  for (const entry of models) {
    const cost = callCost(prices, entry.model, { inputTokens: entry.inputTokens, outputTokens: entry.outputTokens });
    entry.costUsd = cost === undefined ? null : roundUsd(cost);
  }
  const unpriced = unpricedModels(
    prices,
    models.map((entry) => entry.model),
  );
  const sum = (pick: (entry: ModelCallsEstimate) => number): number => models.reduce((total, entry) => total + pick(entry), 0);
  return {
    items: job.items.length,
    alreadyDone,
    calls: sum((entry) => entry.calls),
    inputTokens: sum((entry) => entry.inputTokens),
    outputTokens: sum((entry) => entry.outputTokens),
    outputsBounded,
    costUsd: unpriced.length > 0 ? null : roundUsd(sum((entry) => entry.costUsd ?? 0)),
    unpricedModels: unpriced,
    byModel: models,
  };
}

export interface EvalJobOutcome<Result> {
  summary: BatchSummary;
  result: Result;
}

/**
 * Runs a prepared job on the batch runner and finishes it. Every model is resolved first (an
 * unknown provider or a missing key is a ConfigError before any call); the runner's own settings
 * (registry or providers + env, cache, prices, concurrency, budget, traces, signal, onEvent) pass
 * through unchanged.
 */
export async function runEvalJob<Item extends BatchItem, Output extends object, Result>(
  job: EvalJob<Item, Output, Result>,
  runner: EvalRunnerOptions = {},
): Promise<EvalJobOutcome<Result>> {
  const ownFetch = runner.registry ? undefined : createNodeHttpFetch();
  const registry = runner.registry ?? createModelRegistry({ providers: runner.providers, env: runner.env, fetch: ownFetch });
  try {
    for (const { model, path } of job.models) registry.resolve(model, path);
    const priced =
      unpricedModels(
        runner.prices ?? {},
        job.models.map((model) => model.label),
      ).length === 0;
    const summary = await runBatch<Item, Output>({
      ...runner,
      registry,
      items: job.items,
      total: job.items.length,
      outputPath: job.progressPath,
      work: (item, context) => job.work(item, context, priced),
    });
    return { summary, result: job.finish() };
  } finally {
    if (!runner.registry) await registry.close().catch(() => undefined);
    ownFetch?.close();
  }
}

/** What every record of a job keeps besides its answer: the item's tokens, time and (when every model is priced) cost. */
export interface RunAccounting {
  usage: BatchItemContext['usage'];
  latencyMs: number;
  costUsd?: number;
}

export function accountingOf(context: BatchItemContext, priced: boolean): RunAccounting {
  const costUsd = context.costUsd;
  return { usage: context.usage, latencyMs: context.elapsedMs(), ...(priced && costUsd !== undefined ? { costUsd } : {}) };
}

/** A problem found in a file while preparing a job: a ConfigError naming the file (a MoAError passes unchanged). */
export function asConfigError(file: string, error: unknown): never {
  if (error instanceof MoAError) throw error;
  throw new ConfigError(`${file}: ${(error as Error).message}`, { code: 'eval_data_invalid', path: file, cause: error });
}

/** Inputs and outputs must be different files (an output written over an input loses it). */
export function checkDistinct(paths: Record<string, string>): void {
  const seen = new Map<string, string>();
  for (const [name, path] of Object.entries(paths)) {
    const other = seen.get(path);
    if (other) throw new ConfigError(`${other} and ${name} name the same file (${path})`, { code: 'usage', path: name });
    seen.set(path, name);
  }
}

/** A file option that may be resolved only when needed (the CLI's $MOA_BENCH_DATA default throws when neither is there). */
export type LazyPath = string | (() => string);

export function resolveLazyPath(path: LazyPath | undefined): string | undefined {
  return typeof path === 'function' ? path() : path;
}
