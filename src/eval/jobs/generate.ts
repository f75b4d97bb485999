/**
 * Generation for each benchmark: a preset answers every item through the batch runner, and the
 * answers are written in the benchmark's official format.
 *
 * - `generateAlpacaEval`: AlpacaEval's `model_outputs.json`, a JSON array of `{instruction, output,
 *   generator, dataset}` in the set's order; one user message per instruction, the preset's own
 *   sampling settings.
 * - `generateMtBench`: FastChat's answer JSONL `{question_id, answer_id, model_id, choices: [{index:
 *   0, turns}], tstamp}` sorted by question_id; turn 2 sees turn 1's question and the preset's own
 *   answer; every agent samples at the category's temperature (FastChat's temperature_config).
 *   For an output in FastChat's `model_answer/` folder the progress sidecar goes to
 *   `<bench>/moa-progress/model_answer/` (FastChat reads every *.jsonl of that folder as a model).
 * - `generateFlask`: JSON Lines `{question_id: idx, text}` (what MoA's generate_for_flask.py writes
 *   and FLASK's gpt4_eval.py reads).
 *
 * Progress is the sidecar (one line per finished item, with its usage, latency, cost and — when
 * the engine reports it — time to first token), so a rerun skips what is done; the official file
 * is rewritten from it after every pass, also a partial one.
 */
import { resolve as resolvePath } from 'node:path';
import type { JobKind } from '../../batch/queue/queued-batch.js';
import type { BatchItem, BatchItemContext } from '../../batch/run-batch.js';
import type { ChatMessage } from '../../core/events.js';
import type { MoAResult } from '../../core/reducer.js';
import type { ResolvedPreset } from '../../core/resolve-preset.js';
import { ConfigError } from '../../util/errors.js';
import { formatAlpacaEvalModelOutputs, loadAlpacaEvalSet, toAlpacaEvalJson } from '../alpaca-eval-data.js';
import { estimatePresetRun, placeholderText, type CallEstimate } from '../call-estimate.js';
import { progressPathFor } from '../fastchat-layout.js';
import { formatFlaskAnswers, loadFlaskEvaluationSet, toFlaskAnswerLines } from '../flask-data.js';
import { loadMtBenchQuestions, mtBenchConversation, mtBenchTemperature, toMtBenchAnswerLines, type MtBenchAnswer, type MtBenchQuestion } from '../mt-bench-data.js';
import { shortUuid } from '../short-id.js';
import { accountingOf, runEvalJob, type EvalJob, type EvalJobOutcome, type EvalRunnerOptions, type JobModel, type RunAccounting } from './eval-job.js';
import { contentId, readProgressRecords, writeFileAtomically, type ProgressRecord } from './progress-file.js';

export interface GenerationOptions {
  preset: ResolvedPreset;
  /** The benchmark's set (AlpacaEval instructions, MT-Bench question.jsonl, flask_evaluation.jsonl). */
  questions: string;
  /** The official file to write. */
  output: string;
  /** Only the first N items. */
  limit?: number;
  /** A system message before every conversation. */
  system?: string;
}

export interface GenerationResult {
  outputPath: string;
  progressPath: string;
  total: number;
  written: number;
  missing: number;
}

/** What a generation record keeps besides its answer (the report reads these). */
export interface GenerationAccounting extends RunAccounting {
  /** The preset that answered. */
  preset: string;
  /** Run start to the first token of the final answer (of the first turn), when the engine reports it. */
  ttftMs?: number;
}

/** Every model a preset may call: its agents and their fallbacks. */
export function presetJobModels(preset: ResolvedPreset): JobModel[] {
  return preset.layers.flatMap((layer) =>
    layer.agents.flatMap((agent) => [
      { model: agent.model, label: agent.label, path: agent.path },
      ...agent.fallbacks.map((fallback, index) => ({ model: fallback, label: fallback, path: `${agent.path}.fallbacks[${index}]` })),
    ]),
  );
}

/** The preset with every agent sampling at `temperature` (MT-Bench's per-category setting). */
export function presetAtTemperature(preset: ResolvedPreset, temperature: number): ResolvedPreset {
  return { ...preset, layers: preset.layers.map((layer) => ({ ...layer, agents: layer.agents.map((agent) => ({ ...agent, temperature })) })) };
}

function presetName(preset: ResolvedPreset): string {
  return preset.name ?? 'moa';
}

function withSystem(system: string | undefined, messages: ChatMessage[]): ChatMessage[] {
  return system ? [{ role: 'system', content: system }, ...messages] : messages;
}

/** The engine's time to first token of a result, when it reports one (`ttftMs`). */
function ttftOf(result: MoAResult): number | undefined {
  const ttft = (result as MoAResult & { ttftMs?: unknown }).ttftMs;
  return typeof ttft === 'number' && Number.isFinite(ttft) ? ttft : undefined;
}

function generationAccounting(context: BatchItemContext, priced: boolean, preset: ResolvedPreset, ttftMs: number | undefined): GenerationAccounting {
  return { preset: presetName(preset), ...accountingOf(context, priced), ...(ttftMs !== undefined ? { ttftMs } : {}) };
}

function checkPaths(questionsPath: string, outputPath: string): void {
  if (questionsPath === outputPath) throw new ConfigError('--questions and --output name the same file', { code: 'usage', path: '--output' });
}

function limited<Item>(items: Item[], limit: number | undefined): Item[] {
  return limit !== undefined ? items.slice(0, limit) : items;
}

/** What a generation item's work takes besides the item: plain JSON, so a queue worker (`moa worker`) can run it. */
export interface GenerationJobSettings {
  preset: ResolvedPreset;
  /** A system message before every conversation (MT-Bench; the other sets carry it in their items). */
  system?: string;
  /** AlpacaEval's generator. */
  generator?: string;
  priced: boolean;
}

function generationJob<Item extends BatchItem, Output extends object>(input: {
  label: string;
  options: GenerationOptions;
  outputPath: string;
  progressPath: string;
  items: Item[];
  estimateCalls: (item: Item) => CallEstimate[];
  /** The item's work, as a queue job kind (what `moa worker` runs) with its settings. */
  kind: JobKind<Item, GenerationJobSettings, Output>;
  settings: Omit<GenerationJobSettings, 'priced'>;
  write: (records: Map<string, ProgressRecord<Output>>) => number;
}): EvalJob<Item, Output, GenerationResult> {
  const settings = (priced: boolean): GenerationJobSettings => ({ ...input.settings, priced });
  return {
    label: input.label,
    models: presetJobModels(input.options.preset),
    progressPath: input.progressPath,
    items: input.items,
    estimateCalls: input.estimateCalls,
    work: (item, context, priced) => input.kind.work(item, context, settings(priced)),
    queue: (priced) => ({ kind: input.kind.name, settings: settings(priced) }),
    finish: () => {
      const records = readProgressRecords<Output>(input.progressPath);
      const wanted = new Set(input.items.map((item) => item.id));
      const written = input.write(new Map([...records].filter(([id]) => wanted.has(id))));
      return { outputPath: input.outputPath, progressPath: input.progressPath, total: input.items.length, written, missing: input.items.length - written };
    },
  };
}

// ---------------------------------------------------------------------------------------------
// AlpacaEval

export interface AlpacaEvalGenerationOptions extends GenerationOptions {
  /** AlpacaEval's `generator` (default: the preset's name). */
  generator?: string;
}

interface AlpacaEvalItem extends BatchItem {
  instruction: string;
  dataset: string;
  messages: ChatMessage[];
}

export interface AlpacaEvalGenerationRecord extends GenerationAccounting {
  instruction: string;
  output: string;
  generator: string;
}

/** One AlpacaEval answer: the preset on the instruction. */
export const alpacaEvalAnswerJob: JobKind<AlpacaEvalItem, GenerationJobSettings, AlpacaEvalGenerationRecord> = {
  name: 'alpaca-eval-answer',
  async work(item, context, { preset, generator, priced }) {
    const result = await context.runMoA(preset, item.messages);
    return {
      instruction: item.instruction,
      output: result.text,
      generator: generator ?? presetName(preset),
      ...generationAccounting(context, priced, preset, ttftOf(result)),
    };
  },
};

export function prepareAlpacaEvalGeneration(options: AlpacaEvalGenerationOptions): EvalJob<AlpacaEvalItem, AlpacaEvalGenerationRecord, GenerationResult> {
  const questionsPath = resolvePath(options.questions);
  const outputPath = resolvePath(options.output);
  checkPaths(questionsPath, outputPath);
  if (options.generator !== undefined && options.generator.trim() === '') throw new ConfigError('--generator must not be empty', { code: 'usage', path: '--generator' });
  const generator = options.generator ?? presetName(options.preset);
  const items: AlpacaEvalItem[] = limited(
    loadAlpacaEvalSet(questionsPath).map((entry) => ({
      id: contentId(entry.instruction),
      instruction: entry.instruction,
      dataset: entry.dataset,
      messages: withSystem(options.system, [{ role: 'user', content: entry.instruction }]),
    })),
    options.limit,
  );
  const preset = options.preset;
  return generationJob({
    label: 'moa eval alpaca-eval',
    options,
    outputPath,
    progressPath: progressPathFor(outputPath),
    items,
    estimateCalls: (item) => estimatePresetRun(preset, item.messages).calls,
    kind: alpacaEvalAnswerJob,
    settings: { preset, generator },
    write: (records) => {
      const done = items.filter((item) => records.has(item.id));
      const outputs = done.map((item) => records.get(item.id)?.output ?? '');
      writeFileAtomically(outputPath, toAlpacaEvalJson(formatAlpacaEvalModelOutputs(done, outputs, generator)));
      return done.length;
    },
  });
}

export function generateAlpacaEval(options: AlpacaEvalGenerationOptions, runner: EvalRunnerOptions = {}): Promise<EvalJobOutcome<GenerationResult>> {
  return runEvalJob(prepareAlpacaEvalGeneration(options), runner);
}

// ---------------------------------------------------------------------------------------------
// MT-Bench

export interface MtBenchGenerationOptions extends GenerationOptions {
  /** FastChat's `model_id` (default: the preset's name). */
  modelId?: string;
}

interface MtBenchItem extends BatchItem {
  question: MtBenchQuestion;
}

export interface MtBenchGenerationRecord extends GenerationAccounting {
  question_id: number;
  turns: string[];
  temperature: number;
  answer_id: string;
  tstamp: number;
}

/** One MT-Bench answer: both turns (turn 2 sees turn 1's answer) at the category's temperature. */
export const mtBenchAnswerJob: JobKind<MtBenchItem, GenerationJobSettings, MtBenchGenerationRecord> = {
  name: 'mt-bench-answer',
  async work(item, context, { preset, system, priced }) {
    const temperature = mtBenchTemperature(item.question);
    const atTemperature = presetAtTemperature(preset, temperature);
    const answers: string[] = [];
    let ttftMs: number | undefined;
    for (let turn = 0; turn < item.question.turns.length; turn++) {
      const result = await context.runMoA(atTemperature, withSystem(system, mtBenchConversation(item.question, turn, answers)));
      if (turn === 0) ttftMs = ttftOf(result);
      answers.push(result.text);
    }
    return {
      question_id: item.question.question_id,
      turns: answers,
      temperature,
      answer_id: shortUuid(),
      tstamp: Date.now() / 1000,
      ...generationAccounting(context, priced, preset, ttftMs),
    };
  },
};

export function prepareMtBenchGeneration(options: MtBenchGenerationOptions): EvalJob<MtBenchItem, MtBenchGenerationRecord, GenerationResult> {
  const questionsPath = resolvePath(options.questions);
  const outputPath = resolvePath(options.output);
  checkPaths(questionsPath, outputPath);
  const items: MtBenchItem[] = limited(
    loadMtBenchQuestions(questionsPath).map((question) => ({ id: String(question.question_id), question })),
    options.limit,
  );
  const preset = options.preset;
  const modelId = options.modelId ?? presetName(preset);
  return generationJob({
    label: 'moa eval mt-bench',
    options,
    outputPath,
    progressPath: progressPathFor(outputPath),
    items,
    estimateCalls: (item) => {
      const calls: CallEstimate[] = [];
      const previous: string[] = [];
      for (let turn = 0; turn < item.question.turns.length; turn++) {
        const run = estimatePresetRun(preset, withSystem(options.system, mtBenchConversation(item.question, turn, previous)));
        calls.push(...run.calls);
        previous.push(placeholderText(run.answerTokens));
      }
      return calls;
    },
    kind: mtBenchAnswerJob,
    settings: { preset, ...(options.system !== undefined ? { system: options.system } : {}) },
    write: (records) => {
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

export function generateMtBench(options: MtBenchGenerationOptions, runner: EvalRunnerOptions = {}): Promise<EvalJobOutcome<GenerationResult>> {
  return runEvalJob(prepareMtBenchGeneration(options), runner);
}

// ---------------------------------------------------------------------------------------------
// FLASK

interface FlaskItem extends BatchItem {
  idx: number;
  messages: ChatMessage[];
}

export interface FlaskGenerationRecord extends GenerationAccounting {
  question_id: number;
  text: string;
}

/** One FLASK answer: the preset on the instruction. */
export const flaskAnswerJob: JobKind<FlaskItem, GenerationJobSettings, FlaskGenerationRecord> = {
  name: 'flask-answer',
  async work(item, context, { preset, priced }) {
    const result = await context.runMoA(preset, item.messages);
    return { question_id: item.idx, text: result.text, ...generationAccounting(context, priced, preset, ttftOf(result)) };
  },
};

export function prepareFlaskGeneration(options: GenerationOptions): EvalJob<FlaskItem, FlaskGenerationRecord, GenerationResult> {
  const questionsPath = resolvePath(options.questions);
  const outputPath = resolvePath(options.output);
  checkPaths(questionsPath, outputPath);
  const items: FlaskItem[] = limited(
    loadFlaskEvaluationSet(questionsPath).map((instance) => ({
      id: String(instance.idx),
      idx: instance.idx,
      messages: withSystem(options.system, [{ role: 'user', content: instance.instruction }]),
    })),
    options.limit,
  );
  const preset = options.preset;
  return generationJob({
    label: 'moa eval flask',
    options,
    outputPath,
    progressPath: progressPathFor(outputPath),
    items,
    estimateCalls: (item) => estimatePresetRun(preset, item.messages).calls,
    kind: flaskAnswerJob,
    settings: { preset },
    write: (records) => {
      const done = items.filter((item) => records.has(item.id));
      writeFileAtomically(
        outputPath,
        toFlaskAnswerLines(
          formatFlaskAnswers(
            done,
            done.map((item) => records.get(item.id)?.text ?? ''),
          ),
        ),
      );
      return done.length;
    },
  });
}

export function generateFlask(options: GenerationOptions, runner: EvalRunnerOptions = {}): Promise<EvalJobOutcome<GenerationResult>> {
  return runEvalJob(prepareFlaskGeneration(options), runner);
}
