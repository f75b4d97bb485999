/**
 * `moa eval alpaca-eval | mt-bench | flask`: the preset answers every item of a benchmark, written
 * in the benchmark's official format. The jobs are the library's (src/eval/jobs/generate.ts);
 * this file parses the flags, chooses the preset (as `moa ask` does), runs the job with the batch
 * runner's CLI behaviour (eval-batch.ts) and reports.
 */
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import type { BatchItem } from '../batch/run-batch.js';
import { loadAlpacaEvalSet, loadFlaskEvaluationSet, loadMtBenchQuestions } from '../eval/index.js';
import type { EvalJob } from '../eval/jobs/eval-job.js';
import { prepareAlpacaEvalGeneration, prepareFlaskGeneration, prepareMtBenchGeneration, type GenerationOptions, type GenerationResult } from '../eval/jobs/generate.js';
import { ConfigError } from '../util/errors.js';
import type { CommandRegistration } from './command-registration.js';
import type { PresetFlags } from './choose-preset.js';
import { EXIT_OK } from './exit-codes.js';
import { addEvalRunnerOptions, benchDataFile, runJobForCli, runnerSummaryJson, type EvalRunFlags } from './eval-batch.js';
import { addPresetOptions, integer } from './options.js';
import { preparePreset } from './prepare-preset.js';
import type { CliStreams } from './run-for-cli.js';

export { presetAtTemperature } from '../eval/jobs/generate.js';

export interface EvalGenerateFlags extends PresetFlags, EvalRunFlags {
  questions?: string;
  output: string;
  /** AlpacaEval's `generator`, MT-Bench's `model_id` (default: the preset's name). */
  generator?: string;
  modelId?: string;
  limit?: number;
  yes?: boolean;
}

function addGenerateOptions(command: Command, questionsHelp: string, outputHelp: string): Command {
  return addEvalRunnerOptions(addPresetOptions(command))
    .option('--questions <file>', questionsHelp)
    .requiredOption('-o, --output <file>', outputHelp)
    .option('--limit <n>', 'only the first N items of the set', integer('--limit', 1))
    .option('-y, --yes', 'download the default local model without asking, if the default preset needs it');
}

/** Leaves an option out of a command's help (it is still parsed, so the command can refuse it with a reason). */
function hideOption(command: Command, long: string): void {
  const option = command.options.find((candidate) => candidate.long === long);
  if (!option) throw new Error(`${command.name()} has no option ${long} to hide`);
  option.hideHelp();
}

export function registerEvalGenerateCommands(evaluate: Command, registration: CommandRegistration): void {
  const { io, setExitCode } = registration;
  addGenerateOptions(
    evaluate.command('alpaca-eval').description("answer the AlpacaEval 2.0 instructions; writes AlpacaEval's model_outputs.json"),
    'the evaluation set: a JSON array of {instruction, dataset} (default: $MOA_BENCH_DATA/alpaca_eval/alpaca_eval_instructions.json)',
    'model_outputs.json to write: [{instruction, output, generator, dataset}] (progress in <file>.progress.jsonl)',
  )
    .option('--generator <name>', 'the "generator" of every output (default: the preset\'s name)')
    .action(async (flags: EvalGenerateFlags) => setExitCode(await evalAlpacaEval(flags, io)));

  const mtBench = addGenerateOptions(
    evaluate.command('mt-bench').description("answer the MT-Bench questions (two turns each, FastChat's temperatures); writes FastChat's answer JSONL"),
    'question.jsonl (default: $MOA_BENCH_DATA/mt_bench/question.jsonl)',
    "answers JSONL to write (FastChat model_answer format; progress in <file>.progress.jsonl, or <bench>/moa-progress/model_answer/ for a file in FastChat's model_answer/)",
  )
    .option('--model-id <name>', 'the "model_id" of every answer (default: the preset\'s name)')
    .action(async (flags: EvalGenerateFlags) => setExitCode(await evalMtBench(flags, io)));
  // MT-Bench fixes the temperature per category: the help must not offer --temperature. The option
  // stays known (hidden) so that using it gets the reason instead of "unknown option".
  hideOption(mtBench, '--temperature');

  addGenerateOptions(
    evaluate.command('flask').description("answer the FLASK instances; writes the {question_id, text} JSONL FLASK's judge reads"),
    'flask_evaluation.jsonl (default: $MOA_BENCH_DATA/flask/flask_evaluation.jsonl)',
    'answers JSONL to write: {question_id, text} per line (progress in <file>.progress.jsonl)',
  ).action(async (flags: EvalGenerateFlags) => setExitCode(await evalFlask(flags, io)));
}

/**
 * The set is loaded (and checked: exit 2 on a bad file) before the preset is chosen, which may
 * offer to download a model; then the job, the run, and the report.
 */
async function runGeneration<Item extends BatchItem, Output extends object>(
  flags: EvalGenerateFlags,
  io: CliStreams,
  questionsPath: string,
  checkSet: (path: string) => unknown,
  prepare: (options: GenerationOptions) => EvalJob<Item, Output, GenerationResult>,
): Promise<number> {
  if (questionsPath === resolvePath(flags.output)) throw new ConfigError('--questions and --output name the same file', { code: 'usage', path: '--output' });
  checkSet(questionsPath);
  const { preset, config } = await preparePreset({ ...flags, quiet: flags.quiet ?? false }, io);
  const job = prepare({
    preset,
    questions: questionsPath,
    output: flags.output,
    ...(flags.limit !== undefined ? { limit: flags.limit } : {}),
    ...(flags.system !== undefined ? { system: flags.system } : {}),
  });
  const run = await runJobForCli(job, flags, config, io, { modelsDescription: 'of the preset' });
  if (run.dryRun) return EXIT_OK;
  const { outcome, result } = run;
  if (flags.json) {
    io.stdout.write(
      `${JSON.stringify({ output: result.outputPath, progress: result.progressPath, total: result.total, written: result.written, missing: result.missing, ...runnerSummaryJson(outcome) }, null, 2)}\n`,
    );
  }
  if (!flags.quiet) {
    const tail = result.missing > 0 ? outcome.colors.yellow(` — ${result.missing} missing: run the same command again to complete it`) : '';
    const relocated = result.progressPath !== `${result.outputPath}.progress.jsonl` ? ` (progress in ${result.progressPath})` : '';
    io.stderr.write(`${job.label}: wrote ${result.written} of ${result.total} to ${result.outputPath}${relocated}${tail}\n`);
  }
  return outcome.exitCode;
}

export async function evalAlpacaEval(flags: EvalGenerateFlags, io: CliStreams): Promise<number> {
  const questionsPath = benchDataFile(flags.questions, '--questions', 'alpaca_eval/alpaca_eval_instructions.json', io, 'the AlpacaEval evaluation set');
  if (flags.generator !== undefined && flags.generator.trim() === '') throw new ConfigError('--generator must not be empty', { code: 'usage', path: '--generator' });
  return runGeneration(flags, io, questionsPath, loadAlpacaEvalSet, (options) =>
    prepareAlpacaEvalGeneration({ ...options, ...(flags.generator !== undefined ? { generator: flags.generator } : {}) }),
  );
}

export async function evalMtBench(flags: EvalGenerateFlags, io: CliStreams): Promise<number> {
  if (flags.temperature !== undefined) {
    throw new ConfigError(
      '--temperature cannot be used with moa eval mt-bench: MT-Bench fixes the temperature per category (writing and roleplay 0.7; stem and humanities 0.1; the rest 0)',
      {
        code: 'usage',
        path: '--temperature',
      },
    );
  }
  const questionsPath = benchDataFile(flags.questions, '--questions', 'mt_bench/question.jsonl', io, 'the MT-Bench questions');
  return runGeneration(
    flags,
    io,
    questionsPath,
    (path) => loadMtBenchQuestions(path),
    (options) => prepareMtBenchGeneration({ ...options, ...(flags.modelId !== undefined ? { modelId: flags.modelId } : {}) }),
  );
}

export async function evalFlask(flags: EvalGenerateFlags, io: CliStreams): Promise<number> {
  const questionsPath = benchDataFile(flags.questions, '--questions', 'flask/flask_evaluation.jsonl', io, 'the FLASK evaluation set');
  return runGeneration(flags, io, questionsPath, loadFlaskEvaluationSet, prepareFlaskGeneration);
}
