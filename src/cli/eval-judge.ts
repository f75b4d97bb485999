/**
 * What `moa judge mt-bench | alpaca-eval | flask` and `moa eval compare` share: the judge options.
 * Each judge lives in its own file (judge-mt-bench.ts, judge-alpaca-eval.ts, judge-flask.ts): one
 * judge model ("provider:model-id") called by the library's job (src/eval/jobs/) on the batch
 * runner, with the benchmark's official judge prompt, the judgments written in the benchmark's
 * own format, then the metrics.
 */
import type { Command } from 'commander';
import { ConfigError } from '../util/errors.js';
import { addEvalRunnerOptions, type EvalRunFlags } from './eval-batch.js';

export interface JudgeFlags extends EvalRunFlags {
  config?: string;
  judge?: string;
}

export function addJudgeOptions(command: Command): Command {
  return addEvalRunnerOptions(command)
    .option('-c, --config <file>', "config file with the judge's provider (default: ./moa.config.yaml, or $MOA_CONFIG)")
    .option('--judge <model>', 'the judge model, provider:model-id');
}

export function requireJudge(flags: JudgeFlags, example: string): string {
  if (!flags.judge) throw new ConfigError(`--judge MODEL is required, e.g. --judge ${example}`, { code: 'usage', path: '--judge' });
  return flags.judge;
}
