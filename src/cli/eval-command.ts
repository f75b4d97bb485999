/**
 * `moa eval …` and `moa judge …`: benchmarks on the user's own copies of the benchmark files.
 *
 * - `moa eval alpaca-eval | mt-bench | flask` (eval-generate.ts): the preset answers a benchmark,
 *   written in its official format.
 * - `moa eval compare` (compare-command.ts): A against B, judged pairwise in both orders.
 * - `moa judge mt-bench | alpaca-eval --outputs … | flask` (judge-*.ts): a judge model with the
 *   benchmark's official prompt, then the metrics.
 * - `moa judge alpaca-eval --annotations FILE`: the AlpacaEval 2.0 metrics (win rate and
 *   length-controlled win rate, with standard errors) from existing annotations, no model call.
 *
 * Every command that calls models runs a job of the library (src/eval/jobs/) on the batch runner
 * (eval-batch.ts): the same scheduler, cache, progress and resume as `moa batch`, after an
 * estimate of its calls and cost (`--dry-run` stops there).
 */
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
import { BENCH_DATA_ENV } from './eval-batch.js';
import { registerEvalGenerateCommands } from './eval-generate.js';
import { addJudgeOptions } from './eval-judge.js';
import { judgeAlpacaEvalOutputs, lengthControlDirectory, renderAlpacaEvalMetrics, type JudgeAlpacaEvalFlags } from './judge-alpaca-eval.js';
import { registerJudgeMtBench } from './judge-mt-bench.js';
import { registerJudgeFlask } from './judge-flask.js';
import { registerCompareCommand } from './compare-command.js';
import { EXIT_OK } from './exit-codes.js';
import type { CliStreams } from './run-for-cli.js';

export { BENCH_DATA_ENV, renderAlpacaEvalMetrics };

export interface EvalCommandGroups {
  /** `moa eval`: generate a benchmark's outputs in its official format. */
  evaluate: Command;
  /** `moa judge`: judge outputs and compute the benchmark's metrics. */
  judge: Command;
}

export function registerEvalCommands(registration: CommandRegistration): EvalCommandGroups {
  const { program, io, setExitCode } = registration;
  const evaluate = program
    .command('eval')
    .description("generate answers for a benchmark (AlpacaEval 2.0, MT-Bench, FLASK) in its official format, or compare two configurations' outputs");
  const judge = program.command('judge').description("judge outputs with a benchmark's official judge prompt and compute its metrics");
  registerEvalGenerateCommands(evaluate, registration);
  registerCompareCommand(evaluate, io, setExitCode);
  registerJudgeMtBench(judge, io, setExitCode);
  registerJudgeAlpacaEval(judge, registration);
  registerJudgeFlask(judge, io, setExitCode);
  return { evaluate, judge };
}

interface JudgeAlpacaEvalOptions extends Partial<JudgeAlpacaEvalFlags> {
  annotations?: string;
}

function registerJudgeAlpacaEval(judge: Command, registration: CommandRegistration): void {
  addJudgeOptions(
    judge
      .command('alpaca-eval')
      .description(
        'AlpacaEval 2.0: judge model outputs against the baseline (--outputs … --judge MODEL), or read annotations (--annotations); then win rate and length-controlled win rate with standard errors',
      ),
  )
    .option('--outputs <file>', 'model_outputs.json to judge (e.g. from moa eval alpaca-eval)')
    .option('--reference-outputs <file>', "the baseline's outputs (default: $MOA_BENCH_DATA/alpaca_eval/alpaca_eval_gpt4_baseline.json)")
    .option('--judge-prompt <file>', "AlpacaEval's judge prompt (default: $MOA_BENCH_DATA/alpaca_eval/judge/alpaca_eval_clf.txt)")
    .option('--annotations-output <file>', 'annotations.json to write (default: <outputs>.annotations.json; progress in <file>.progress.jsonl)')
    .option('--annotations <file>', 'AlpacaEval annotations (annotations.json): compute the metrics without calling a judge')
    .option('--lc-data <dir>', `folder with AlpacaEval's instruction_difficulty.csv and df_gamed.csv (default: $${BENCH_DATA_ENV}/alpaca_eval/lc)`)
    .option('--eval-set <file>', "the evaluation set (alpaca_eval.json): look up each instruction's difficulty by instruction in this order")
    .action(async (options: JudgeAlpacaEvalOptions) => {
      if (options.outputs !== undefined) {
        if (options.annotations !== undefined) {
          throw new ConfigError('give either --outputs (judge them) or --annotations (metrics of existing annotations), not both', {
            code: 'usage',
            path: '--annotations',
          });
        }
        registration.setExitCode(await judgeAlpacaEvalOutputs(options as JudgeAlpacaEvalFlags, registration.io));
        return;
      }
      registration.setExitCode(judgeAlpacaEvalFromAnnotations(options, registration.io));
    });
}

function judgeAlpacaEvalFromAnnotations(options: JudgeAlpacaEvalOptions, io: CliStreams): number {
  if (!options.annotations) {
    throw new ConfigError(
      options.judge || options.referenceOutputs
        ? 'moa judge alpaca-eval needs --outputs FILE (model_outputs.json) to judge with --judge, or --annotations FILE'
        : 'moa judge alpaca-eval needs --annotations FILE (AlpacaEval annotations.json), or --outputs FILE --judge MODEL to judge, e.g. moa judge alpaca-eval --annotations annotations.json --json',
      { path: '--annotations' },
    );
  }
  const lcDirectory = lengthControlDirectory(options.lcData, io);
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
