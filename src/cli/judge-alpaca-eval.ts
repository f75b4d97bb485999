/**
 * `moa judge alpaca-eval --outputs …`: AlpacaEval 2.0's judging of one generator's outputs by one
 * judge model, the library's job (src/eval/jobs/judge-alpaca-eval.ts) run with the batch runner's
 * CLI behaviour; then the win rate and the length-controlled win rate with standard errors.
 */
import { join } from 'node:path';
import { loadConfig } from '../node/load-config.js';
import { summarizeAlpacaEval, type LengthControlledFit } from '../eval/index.js';
import { prepareAlpacaEvalJudging, type JudgmentMethodCounts } from '../eval/jobs/judge-alpaca-eval.js';
import { ConfigError } from '../util/errors.js';
import { benchDataFile, BENCH_DATA_ENV, runJobForCli } from './eval-batch.js';
import { requireJudge, type JudgeFlags } from './eval-judge.js';
import { EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import type { CliStreams } from './run-for-cli.js';

export { alpacaEvalAnnotatorName, type JudgmentMethodCounts } from '../eval/jobs/judge-alpaca-eval.js';

export interface JudgeAlpacaEvalFlags extends JudgeFlags {
  outputs: string;
  referenceOutputs?: string;
  judgePrompt?: string;
  annotationsOutput?: string;
  lcData?: string;
  evalSet?: string;
}

function describeJudgmentMethods(counts: JudgmentMethodCounts): string {
  const parts = [`${counts.logprobs} from log-probabilities`, `${counts.token} from the generated token`];
  if (counts.unparsed > 0) parts.push(`${counts.unparsed} unparsed`);
  return parts.join(', ');
}

/** The folder with instruction_difficulty.csv and df_gamed.csv. */
export function lengthControlDirectory(value: string | undefined, io: CliStreams): string {
  const directory = value ?? (io.env[BENCH_DATA_ENV] ? join(io.env[BENCH_DATA_ENV], 'alpaca_eval', 'lc') : undefined);
  if (!directory) {
    throw new ConfigError(
      `the length-controlled win rate needs AlpacaEval's instruction_difficulty.csv and df_gamed.csv: pass --lc-data DIR, or set ${BENCH_DATA_ENV} to the folder holding alpaca_eval/lc/`,
      { path: '--lc-data' },
    );
  }
  return directory;
}

export function renderAlpacaEvalMetrics(fit: LengthControlledFit, annotator: string | undefined, methods?: JudgmentMethodCounts): string {
  const percent = (value: number): string => (Number.isFinite(value) ? value.toFixed(2) : 'n/a');
  const { metrics } = fit;
  const lines = [
    `AlpacaEval 2.0: ${fit.model} vs ${fit.baseline}${annotator ? ` (annotator ${annotator})` : ''}`,
    `  length-controlled win rate  ${percent(metrics.length_controlled_winrate)} ± ${percent(metrics.lc_standard_error)}`,
    `  win rate                    ${percent(metrics.win_rate)} ± ${percent(metrics.standard_error)}`,
    `  discrete win rate           ${percent(metrics.discrete_win_rate)}`,
    `  n                           ${metrics.n_total} (${metrics.n_wins} wins, ${metrics.n_wins_base} losses, ${metrics.n_draws} draws)`,
  ];
  if (methods) lines.push(`  judgments                   ${describeJudgmentMethods(methods)}`);
  if (fit.inverseRegularization !== null) {
    const { length, instructionDifficulty, model } = fit.coefficients;
    lines.push(
      `  GLM                         θ_length ${length.toFixed(3)}, θ_difficulty ${instructionDifficulty.toFixed(3)}, θ_model ${model.toFixed(3)} (C = ${fit.inverseRegularization.toPrecision(3)})`,
    );
  }
  return `${lines.join('\n')}\n`;
}

export async function judgeAlpacaEvalOutputs(flags: JudgeAlpacaEvalFlags, io: CliStreams): Promise<number> {
  const judgeModel = requireJudge(flags, 'openai:gpt-4-1106-preview');
  const job = prepareAlpacaEvalJudging({
    outputs: flags.outputs,
    referenceOutputs: benchDataFile(flags.referenceOutputs, '--reference-outputs', 'alpaca_eval/alpaca_eval_gpt4_baseline.json', io, "the baseline's outputs"),
    judgePrompt: benchDataFile(flags.judgePrompt, '--judge-prompt', 'alpaca_eval/judge/alpaca_eval_clf.txt', io, "AlpacaEval's judge prompt alpaca_eval_clf.txt"),
    lengthControlData: lengthControlDirectory(flags.lcData, io),
    judge: judgeModel,
    ...(flags.annotationsOutput !== undefined ? { annotationsOutput: flags.annotationsOutput } : {}),
    ...(flags.evalSet !== undefined ? { evalSet: flags.evalSet } : {}),
  });
  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env: io.env });
  const run = await runJobForCli(job, flags, config, io);
  if (run.dryRun) return EXIT_OK;
  const { outcome, result } = run;
  const label = job.label;
  if (!flags.quiet) {
    const notes = [
      `wrote ${result.annotations.length} of ${result.total} annotations to ${result.annotationsPath}`,
      `preferences: ${describeJudgmentMethods(result.methods)}`,
    ];
    if (result.unparsed > 0 && !result.noneParsed) notes.push(outcome.colors.yellow(`${result.unparsed} judge replies were neither "m" nor "M" (left out)`));
    if (result.missing > 0) notes.push(outcome.colors.yellow(`${result.missing} missing: the metrics below leave them out; run the same command again to complete them`));
    io.stderr.write(`${label}: ${notes.join(' — ')}\n`);
  }
  if (result.noneParsed) {
    // Not one preference: there is no win rate, so that is a failed run.
    io.stderr.write(
      outcome.colors.red(
        `${label}: no preference in any of the ${result.annotations.length} judge replies (neither "m" nor "M", and no log-probabilities of them), so there is no win rate; ` +
          `the raw replies are the "raw_completion" fields of ${result.annotationsPath}\n`,
      ),
    );
    return outcome.exitCode === EXIT_OK ? EXIT_RUN_FAILED : outcome.exitCode;
  }
  if (result.fit)
    io.stdout.write(flags.json ? `${JSON.stringify(summarizeAlpacaEval(result.fit.metrics))}\n` : renderAlpacaEvalMetrics(result.fit, result.annotator, result.methods));
  return outcome.exitCode;
}
