/**
 * `moa eval …` and `moa judge …`: benchmarks on the user's own copies of the benchmark files.
 *
 * Today: `moa judge alpaca-eval --annotations FILE [--json]`, the AlpacaEval 2.0 metrics (win
 * rate and length-controlled win rate, with standard errors) from existing annotations, no model
 * call. The commands that call models (`moa eval alpaca-eval|mt-bench|flask`, `moa judge mt-bench`,
 * `moa judge alpaca-eval --outputs …`) run on the batch runner; each registers as one function
 * below (`register…`) on the `eval` / `judge` groups built in `registerEvalCommands`.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import {
  computeLengthControlledWinRate,
  loadAlpacaEvalAnnotations,
  loadAlpacaEvalSet,
  loadLengthControlData,
  summarizeAlpacaEval,
  type LengthControlledFit,
} from '../eval/index.js';
import { ConfigError, MoAError } from '../util/errors.js';
import type { CommandRegistration } from './command-registration.js';
import { EXIT_OK } from './exit-codes.js';

/** Benchmark files live outside the project; this variable names the folder holding alpaca_eval/, mt_bench/, flask/. */
export const BENCH_DATA_ENV = 'MOA_BENCH_DATA';

export interface EvalCommandGroups {
  /** `moa eval`: generate a benchmark's outputs in its official format. */
  evaluate: Command;
  /** `moa judge`: judge outputs and compute the benchmark's metrics. */
  judge: Command;
}

export function registerEvalCommands(registration: CommandRegistration): EvalCommandGroups {
  const { program } = registration;
  const evaluate = program
    .command('eval')
    .description('generate answers for a benchmark (AlpacaEval 2.0, MT-Bench, FLASK) in its official format');
  const judge = program
    .command('judge')
    .description('judge outputs with a benchmark\'s official judge prompt and compute its metrics');
  registerJudgeAlpacaEval(judge, registration);
  return { evaluate, judge };
}

interface JudgeAlpacaEvalOptions {
  annotations?: string;
  json?: boolean;
  lcData?: string;
  evalSet?: string;
  outputs?: string;
  referenceOutputs?: string;
  judge?: string;
}

function registerJudgeAlpacaEval(judge: Command, registration: CommandRegistration): void {
  judge
    .command('alpaca-eval')
    .description('AlpacaEval 2.0: win rate and length-controlled win rate (with standard errors) from annotations')
    .option('--annotations <file>', 'AlpacaEval annotations (annotations.json): compute the metrics without calling a judge')
    .option('--lc-data <dir>', `folder with AlpacaEval's instruction_difficulty.csv and df_gamed.csv (default: $${BENCH_DATA_ENV}/alpaca_eval/lc)`)
    .option('--eval-set <file>', 'the evaluation set (alpaca_eval.json): look up each annotation\'s instruction difficulty by instruction instead of by row order')
    .option('--outputs <file>', 'model_outputs.json to judge (needs the batch runner)')
    .option('--reference-outputs <file>', 'the baseline\'s outputs (needs the batch runner)')
    .option('--judge <model>', 'the judge model, provider:model-id (needs the batch runner)')
    .option('--json', 'print {win_rate, standard_error, length_controlled_winrate, lc_standard_error, n_total} (percent)')
    .action((options: JudgeAlpacaEvalOptions) => {
      registration.setExitCode(judgeAlpacaEvalFromAnnotations(options, registration));
    });
}

function judgeAlpacaEvalFromAnnotations(options: JudgeAlpacaEvalOptions, registration: CommandRegistration): number {
  const { io } = registration;
  if (!options.annotations) {
    const judging = options.outputs || options.referenceOutputs || options.judge;
    throw new ConfigError(
      judging
        ? 'moa judge alpaca-eval needs --annotations FILE: judging --outputs with a --judge model is not available in this build yet'
        : 'moa judge alpaca-eval needs --annotations FILE (AlpacaEval annotations.json), e.g. moa judge alpaca-eval --annotations annotations.json --json',
      { path: '--annotations' },
    );
  }
  const lcDirectory = options.lcData ?? (io.env[BENCH_DATA_ENV] ? join(io.env[BENCH_DATA_ENV] as string, 'alpaca_eval', 'lc') : undefined);
  if (!lcDirectory) {
    throw new ConfigError(
      `the length-controlled win rate needs AlpacaEval's instruction_difficulty.csv and df_gamed.csv: pass --lc-data DIR, or set ${BENCH_DATA_ENV} to the folder holding alpaca_eval/lc/`,
      { path: '--lc-data' },
    );
  }
  const annotations = loadAlpacaEvalAnnotations(options.annotations);
  const lengthControlData = loadLengthControlData(lcDirectory);
  const evaluationInstructions = options.evalSet ? loadAlpacaEvalSet(options.evalSet).map((item) => item.instruction) : undefined;
  let fit: LengthControlledFit;
  try {
    fit = computeLengthControlledWinRate(annotations, lengthControlData, evaluationInstructions ? { evaluationInstructions } : {});
  } catch (error) {
    if (error instanceof MoAError) throw error;
    throw new ConfigError(`${options.annotations}: ${(error as Error).message}`, { path: options.annotations, cause: error });
  }
  if (options.json) {
    io.stdout.write(`${JSON.stringify(summarizeAlpacaEval(fit.metrics))}\n`);
  } else {
    io.stdout.write(renderAlpacaEvalMetrics(fit, annotations[0]?.annotator));
  }
  return EXIT_OK;
}

function percent(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : 'n/a';
}

export function renderAlpacaEvalMetrics(fit: LengthControlledFit, annotator: string | undefined): string {
  const { metrics } = fit;
  const lines = [
    `AlpacaEval 2.0: ${fit.model} vs ${fit.baseline}${annotator ? ` (annotator ${annotator})` : ''}`,
    `  length-controlled win rate  ${percent(metrics.length_controlled_winrate)} ± ${percent(metrics.lc_standard_error)}`,
    `  win rate                    ${percent(metrics.win_rate)} ± ${percent(metrics.standard_error)}`,
    `  discrete win rate           ${percent(metrics.discrete_win_rate)}`,
    `  n                           ${metrics.n_total} (${metrics.n_wins} wins, ${metrics.n_wins_base} losses, ${metrics.n_draws} draws)`,
  ];
  if (fit.inverseRegularization !== null) {
    const { length, instructionDifficulty, model } = fit.coefficients;
    lines.push(`  GLM                         θ_length ${length.toFixed(3)}, θ_difficulty ${instructionDifficulty.toFixed(3)}, θ_model ${model.toFixed(3)} (C = ${fit.inverseRegularization.toPrecision(3)})`);
  }
  return `${lines.join('\n')}\n`;
}
