/**
 * What `moa judge mt-bench` and `moa judge alpaca-eval --outputs` share: the judge options and
 * small file helpers. Each judge lives in its own file (judge-mt-bench.ts, judge-alpaca-eval.ts):
 * one judge model ("provider:model-id") called through the batch runner (`context.callModel`:
 * the scheduler, cache, cost, budget, traces, progress and resume of `moa batch`) with the
 * benchmark's official judge prompt, the judgments written in the benchmark's own format, then
 * the metrics.
 */
import { basename, dirname, join } from 'node:path';
import type { Command } from 'commander';
import { ConfigError, MoAError } from '../util/errors.js';
import { addEvalRunnerOptions, type EvalRunFlags } from './eval-batch.js';

export interface JudgeFlags extends EvalRunFlags {
  config?: string;
  judge?: string;
}

export function addJudgeOptions(command: Command): Command {
  return addEvalRunnerOptions(command)
    .option('-c, --config <file>', 'config file with the judge\'s provider (default: ./moa.config.yaml, or $MOA_CONFIG)')
    .option('--judge <model>', 'the judge model, provider:model-id');
}

export function requireJudge(flags: JudgeFlags, example: string): string {
  if (!flags.judge) throw new ConfigError(`--judge MODEL is required, e.g. --judge ${example}`, { code: 'usage', path: '--judge' });
  return flags.judge;
}

export function asConfigError(file: string, error: unknown): never {
  if (error instanceof MoAError) throw error;
  throw new ConfigError(`${file}: ${(error as Error).message}`, { code: 'eval_data_invalid', path: file, cause: error });
}

/** `dir/name.json` → `dir/name<suffix>` (the extension replaced). */
export function besides(file: string, suffix: string): string {
  return join(dirname(file), `${basename(file).replace(/\.(jsonl?|json)$/i, '')}${suffix}`);
}

export function checkDistinct(paths: Record<string, string>): void {
  const seen = new Map<string, string>();
  for (const [flag, path] of Object.entries(paths)) {
    const other = seen.get(path);
    if (other) throw new ConfigError(`${other} and ${flag} name the same file (${path})`, { code: 'usage', path: flag });
    seen.set(path, flag);
  }
}
