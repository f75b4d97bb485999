/**
 * `moa eval alpaca-eval | mt-bench | flask`: the preset answers every item of a benchmark through
 * the batch runner, and the answers are written in the benchmark's official format.
 *
 * - Progress: `<output>.progress.jsonl` (one line per finished item; the resume state). A rerun
 *   skips what is there; failed items are retried.
 * - The official file is (re)written at the end of every run, also after a partial one (budget,
 *   Ctrl-C, failures), from what is done, in the set's order (MT-Bench: by question_id), atomically;
 *   the command says how many are missing, and a rerun completes it.
 * - AlpacaEval: `model_outputs.json`, a JSON array of `{instruction, output, generator, dataset}`.
 *   One user message per instruction, the preset's own sampling settings.
 * - MT-Bench: FastChat's answer JSONL `{question_id, answer_id, model_id, choices: [{index: 0,
 *   turns}], tstamp}`. Turn 2 sees turn 1's question and the preset's own answer; every agent of
 *   the preset samples at the category's temperature (FastChat's temperature_config).
 * - FLASK: JSON Lines `{question_id: idx, text}` (what MoA's generate_for_flask.py writes and
 *   FLASK's gpt4_eval.py reads). One user message per instruction, the preset's settings.
 */
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import type { BatchItem, BatchItemContext } from '../batch/run-batch.js';
import type { ChatMessage } from '../core/events.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import {
  formatAlpacaEvalModelOutputs,
  formatFlaskAnswers,
  loadAlpacaEvalSet,
  loadFlaskEvaluationSet,
  loadMtBenchQuestions,
  mtBenchConversation,
  mtBenchTemperature,
  shortUuid,
  toAlpacaEvalJson,
  toFlaskAnswerLines,
  toMtBenchAnswerLines,
  type MtBenchAnswer,
  type MtBenchQuestion,
} from '../eval/index.js';
import { ConfigError } from '../util/errors.js';
import type { CommandRegistration } from './command-registration.js';
import type { PresetFlags } from './choose-preset.js';
import { presetBatchModels, runBatchForCli, type BatchForCliOutcome } from './batch-runner-cli.js';
import {
  addEvalRunnerOptions,
  benchDataFile,
  contentId,
  progressPathFor,
  readProgressRecords,
  runnerSummaryJson,
  writeFileAtomically,
  type EvalRunFlags,
} from './eval-batch.js';
import { addPresetOptions, integer } from './options.js';
import { preparePreset } from './prepare-preset.js';
import type { CliStreams } from './run-for-cli.js';

export interface EvalGenerateFlags extends PresetFlags, EvalRunFlags {
  questions?: string;
  output: string;
  /** AlpacaEval's `generator`, MT-Bench's `model_id` (default: the preset's name). */
  generator?: string;
  modelId?: string;
  limit?: number;
  yes?: boolean;
}

/** What every generation record keeps besides its answer. */
interface RunAccounting {
  usage: BatchItemContext['usage'];
  latencyMs: number;
  costUsd?: number;
}

function accounting(context: BatchItemContext, priced: boolean): RunAccounting {
  const costUsd = context.costUsd;
  return { usage: context.usage, latencyMs: context.elapsedMs(), ...(priced && costUsd !== undefined ? { costUsd } : {}) };
}

function withSystem(system: string | undefined, messages: ChatMessage[]): ChatMessage[] {
  return system ? [{ role: 'system', content: system }, ...messages] : messages;
}

/** The preset with every agent sampling at `temperature` (MT-Bench's per-category setting). */
export function presetAtTemperature(preset: ResolvedPreset, temperature: number): ResolvedPreset {
  return { ...preset, layers: preset.layers.map((layer) => ({ ...layer, agents: layer.agents.map((agent) => ({ ...agent, temperature })) })) };
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
    evaluate.command('alpaca-eval').description('answer the AlpacaEval 2.0 instructions; writes AlpacaEval\'s model_outputs.json'),
    'the evaluation set: a JSON array of {instruction, dataset} (default: $MOA_BENCH_DATA/alpaca_eval/alpaca_eval_instructions.json)',
    'model_outputs.json to write: [{instruction, output, generator, dataset}] (progress in <file>.progress.jsonl)',
  )
    .option('--generator <name>', 'the "generator" of every output (default: the preset\'s name)')
    .action(async (flags: EvalGenerateFlags) => setExitCode(await evalAlpacaEval(flags, io)));

  const mtBench = addGenerateOptions(
    evaluate.command('mt-bench').description('answer the MT-Bench questions (two turns each, FastChat\'s temperatures); writes FastChat\'s answer JSONL'),
    'question.jsonl (default: $MOA_BENCH_DATA/mt_bench/question.jsonl)',
    'answers JSONL to write (FastChat model_answer format; progress in <file>.progress.jsonl)',
  )
    .option('--model-id <name>', 'the "model_id" of every answer (default: the preset\'s name)')
    .action(async (flags: EvalGenerateFlags) => setExitCode(await evalMtBench(flags, io)));
  // MT-Bench fixes the temperature per category: the help must not offer --temperature. The option
  // stays known (hidden) so that using it gets the reason instead of "unknown option".
  hideOption(mtBench, '--temperature');

  addGenerateOptions(
    evaluate.command('flask').description('answer the FLASK instances; writes the {question_id, text} JSONL FLASK\'s judge reads'),
    'flask_evaluation.jsonl (default: $MOA_BENCH_DATA/flask/flask_evaluation.jsonl)',
    'answers JSONL to write: {question_id, text} per line (progress in <file>.progress.jsonl)',
  ).action(async (flags: EvalGenerateFlags) => setExitCode(await evalFlask(flags, io)));
}

interface GenerationPlan<Item extends BatchItem, Output extends object> {
  label: string;
  flags: EvalGenerateFlags;
  io: CliStreams;
  questionsPath: string;
  /** Loads and checks the set (exit 2 on a bad file) — before any model is resolved. */
  items: Item[];
  work: (item: Item, context: BatchItemContext, preset: ResolvedPreset, priced: boolean) => Promise<Output>;
  /** Writes the official file from the finished records; returns how many items it holds. */
  write: (records: Map<string, Output & { id: string }>, outputPath: string, preset: ResolvedPreset) => number;
}

function checkPaths(questionsPath: string, outputPath: string): void {
  if (questionsPath === outputPath) throw new ConfigError('--questions and --output name the same file', { code: 'usage', path: '--output' });
}

async function runGeneration<Item extends BatchItem, Output extends object>(plan: GenerationPlan<Item, Output>): Promise<number> {
  const { flags, io, label } = plan;
  const outputPath = resolvePath(flags.output);
  checkPaths(plan.questionsPath, outputPath);
  const items = flags.limit !== undefined ? plan.items.slice(0, flags.limit) : plan.items;
  const { preset, config } = await preparePreset({ ...flags, quiet: flags.quiet ?? false }, io);
  const progressPath = progressPathFor(outputPath);
  const outcome: BatchForCliOutcome = await runBatchForCli<Item, Output>({
    label,
    flags,
    config,
    io,
    models: presetBatchModels(preset),
    modelsDescription: 'of the preset',
    outputPath: progressPath,
    input: () => ({ items, total: items.length }),
    work: (item, context, priced) => plan.work(item, context, preset, priced),
  });
  // Always write the official file from what is done (also after a partial run).
  const records = readProgressRecords<Output>(progressPath);
  const wanted = new Set(items.map((item) => item.id));
  const finished = new Map([...records].filter(([id]) => wanted.has(id)));
  const written = plan.write(finished, outputPath, preset);
  const missing = items.length - written;
  if (flags.json) {
    io.stdout.write(`${JSON.stringify({ output: outputPath, progress: progressPath, total: items.length, written, missing, ...runnerSummaryJson(outcome) }, null, 2)}\n`);
  }
  if (!flags.quiet) {
    const tail = missing > 0 ? outcome.colors.yellow(` — ${missing} missing: run the same command again to complete it`) : '';
    io.stderr.write(`${label}: wrote ${written} of ${items.length} to ${outputPath}${tail}\n`);
  }
  return outcome.exitCode;
}

function presetName(preset: ResolvedPreset): string {
  return preset.name ?? 'moa';
}

// ---------------------------------------------------------------------------------------------
// AlpacaEval

interface AlpacaEvalItem extends BatchItem {
  instruction: string;
  dataset: string;
}

interface AlpacaEvalRecord extends RunAccounting {
  instruction: string;
  output: string;
}

export async function evalAlpacaEval(flags: EvalGenerateFlags, io: CliStreams): Promise<number> {
  const questionsPath = benchDataFile(flags.questions, '--questions', 'alpaca_eval/alpaca_eval_instructions.json', io, 'the AlpacaEval evaluation set');
  const set = loadAlpacaEvalSet(questionsPath);
  const items: AlpacaEvalItem[] = set.map((entry) => ({ id: contentId(entry.instruction), instruction: entry.instruction, dataset: entry.dataset }));
  if (flags.generator !== undefined && flags.generator.trim() === '') throw new ConfigError('--generator must not be empty', { code: 'usage', path: '--generator' });
  return runGeneration<AlpacaEvalItem, AlpacaEvalRecord>({
    label: 'moa eval alpaca-eval',
    flags,
    io,
    questionsPath,
    items,
    work: async (item, context, preset, priced) => {
      const result = await context.runMoA(preset, withSystem(flags.system, [{ role: 'user', content: item.instruction }]));
      return { instruction: item.instruction, output: result.text, ...accounting(context, priced) };
    },
    write: (records, outputPath, preset) => {
      const limited = flags.limit !== undefined ? items.slice(0, flags.limit) : items;
      const done = limited.filter((item) => records.has(item.id));
      const outputs = done.map((item) => records.get(item.id)?.output ?? '');
      writeFileAtomically(outputPath, toAlpacaEvalJson(formatAlpacaEvalModelOutputs(done, outputs, flags.generator ?? presetName(preset))));
      return done.length;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// MT-Bench

interface MtBenchItem extends BatchItem {
  question: MtBenchQuestion;
}

interface MtBenchRecord extends RunAccounting {
  question_id: number;
  turns: string[];
  temperature: number;
  answer_id: string;
  tstamp: number;
}

export async function evalMtBench(flags: EvalGenerateFlags, io: CliStreams): Promise<number> {
  if (flags.temperature !== undefined) {
    throw new ConfigError('--temperature cannot be used with moa eval mt-bench: MT-Bench fixes the temperature per category (writing and roleplay 0.7; stem and humanities 0.1; the rest 0)', {
      code: 'usage',
      path: '--temperature',
    });
  }
  const questionsPath = benchDataFile(flags.questions, '--questions', 'mt_bench/question.jsonl', io, 'the MT-Bench questions');
  const questions = loadMtBenchQuestions(questionsPath);
  const items: MtBenchItem[] = questions.map((question) => ({ id: String(question.question_id), question }));
  return runGeneration<MtBenchItem, MtBenchRecord>({
    label: 'moa eval mt-bench',
    flags,
    io,
    questionsPath,
    items,
    work: async (item, context, preset, priced) => {
      const temperature = mtBenchTemperature(item.question);
      const atTemperature = presetAtTemperature(preset, temperature);
      const answers: string[] = [];
      for (let turn = 0; turn < item.question.turns.length; turn++) {
        const conversation = mtBenchConversation(item.question, turn, answers);
        const result = await context.runMoA(atTemperature, withSystem(flags.system, conversation));
        answers.push(result.text);
      }
      return {
        question_id: item.question.question_id,
        turns: answers,
        temperature,
        answer_id: shortUuid(),
        tstamp: Date.now() / 1000,
        ...accounting(context, priced),
      };
    },
    write: (records, outputPath, preset) => {
      const modelId = flags.modelId ?? presetName(preset);
      const answers: MtBenchAnswer[] = [...records.values()].map((record) => ({
        question_id: record.question_id,
        answer_id: record.answer_id,
        model_id: modelId,
        choices: [{ index: 0, turns: record.turns }],
        tstamp: record.tstamp,
      }));
      writeFileAtomically(outputPath, toMtBenchAnswerLines(answers));
      return answers.length;
    },
  });
}

// ---------------------------------------------------------------------------------------------
// FLASK

interface FlaskItem extends BatchItem {
  idx: number;
  instruction: string;
}

interface FlaskRecord extends RunAccounting {
  question_id: number;
  text: string;
}

export async function evalFlask(flags: EvalGenerateFlags, io: CliStreams): Promise<number> {
  const questionsPath = benchDataFile(flags.questions, '--questions', 'flask/flask_evaluation.jsonl', io, 'the FLASK evaluation set');
  const instances = loadFlaskEvaluationSet(questionsPath);
  const items: FlaskItem[] = instances.map((instance) => ({ id: String(instance.idx), idx: instance.idx, instruction: instance.instruction }));
  return runGeneration<FlaskItem, FlaskRecord>({
    label: 'moa eval flask',
    flags,
    io,
    questionsPath,
    items,
    work: async (item, context, preset, priced) => {
      const result = await context.runMoA(preset, withSystem(flags.system, [{ role: 'user', content: item.instruction }]));
      return { question_id: item.idx, text: result.text, ...accounting(context, priced) };
    },
    write: (records, outputPath) => {
      const limited = flags.limit !== undefined ? items.slice(0, flags.limit) : items;
      const done = limited.filter((item) => records.has(item.id));
      writeFileAtomically(outputPath, toFlaskAnswerLines(formatFlaskAnswers(done, done.map((item) => records.get(item.id)?.text ?? ''))));
      return done.length;
    },
  });
}
