/**
 * `moa judge alpaca-eval --outputs …`: one judge model called through the batch runner with the
 * benchmark's official judge prompt; annotations in AlpacaEval's format; then the metrics.
 *
 * - AlpacaEval 2.0: the `weighted_alpaca_eval_gpt4_turbo` prompt, AlpacaEval's own per-instruction
 *   position coin, max 1 token at temperature 1, the top 5 log-probabilities asked for. When the
 *   provider returns them (openai; openai-compatible servers that implement them) the preference is
 *   the official soft one, 2 − p(m)/(p(m) + p(M)); otherwise the generated token decides (m → 1,
 *   M → 2; at temperature 1 that token is a sample whose mean is the weighted preference). Each
 *   annotation records which (`raw_completion.parsed_from`, and its annotator name). Annotations in
 *   AlpacaEval's annotations.json format (plus `is_switched_outputs`), then win rate and
 *   length-controlled win rate with standard errors.
 */
import { join, resolve as resolvePath } from 'node:path';
import type { BatchItem, BatchItemContext } from '../batch/run-batch.js';
import { loadConfig } from '../core/load-config.js';
import {
  buildAlpacaEvalJudgeRequest,
  computeLengthControlledWinRate,
  loadAlpacaEvalJudgeTemplate,
  loadAlpacaEvalOutputs,
  loadAlpacaEvalSet,
  loadLengthControlData,
  alpacaEvalJudgmentMethod,
  makeAlpacaEvalAnnotation,
  makeAlpacaEvalRawCompletion,
  pairAlpacaEvalOutputs,
  parseAlpacaEvalJudgment,
  summarizeAlpacaEval,
  toAlpacaEvalJson,
  ALPACA_EVAL_JUDGE_SETTINGS,
  type AlpacaEvalAnnotation,
  type AlpacaEvalOutput,
  type LengthControlledFit,
} from '../eval/index.js';
import { ConfigError } from '../util/errors.js';
import { runBatchForCli } from './batch-runner-cli.js';
import {
  benchDataFile,
  BENCH_DATA_ENV,
  contentId,
  progressPathFor,
  readProgressRecords,
  writeFileAtomically,
} from './eval-batch.js';
import { EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import type { CliStreams } from './run-for-cli.js';
import {
  asConfigError,
  besides,
  checkDistinct,
  requireJudge,
  type JudgeFlags,
} from './eval-judge.js';

export interface JudgeAlpacaEvalFlags extends JudgeFlags {
  outputs: string;
  referenceOutputs?: string;
  judgePrompt?: string;
  annotationsOutput?: string;
  lcData?: string;
  evalSet?: string;
}

interface AlpacaEvalJudgeItem extends BatchItem {
  model: AlpacaEvalOutput;
  reference: AlpacaEvalOutput;
  messages: Array<{ role: 'system' | 'user' | 'assistant'; content: string }>;
  isSwitchedOutputs: boolean;
}

type AlpacaEvalJudgeRecord = AlpacaEvalAnnotation & { usage: BatchItemContext['usage']; cached: boolean };

/** The judge recorded in an annotation: the official prompt, this judge, and how the preference was read. */
export function alpacaEvalAnnotatorName(judgeModel: string, method: 'logprobs' | 'token' | 'unparsed' = 'token'): string {
  return `alpaca_eval_clf[${judgeModel}, ${method === 'logprobs' ? 'logprobs' : 'generated token'}]`;
}

/** How many annotations had their preference read from the log-probabilities, from the generated token, or not at all. */
export interface JudgmentMethodCounts {
  logprobs: number;
  token: number;
  unparsed: number;
}

function countJudgmentMethods(annotations: readonly AlpacaEvalAnnotation[]): JudgmentMethodCounts {
  const counts: JudgmentMethodCounts = { logprobs: 0, token: 0, unparsed: 0 };
  for (const annotation of annotations) {
    const method = alpacaEvalJudgmentMethod(annotation) ?? (annotation.preference === null ? 'unparsed' : 'token');
    counts[method]++;
  }
  return counts;
}

function describeJudgmentMethods(counts: JudgmentMethodCounts): string {
  const parts = [`${counts.logprobs} from log-probabilities`, `${counts.token} from the generated token`];
  if (counts.unparsed > 0) parts.push(`${counts.unparsed} unparsed`);
  return parts.join(', ');
}

/** The folder with instruction_difficulty.csv and df_gamed.csv. */
export function lengthControlDirectory(value: string | undefined, io: CliStreams): string {
  const directory = value ?? (io.env[BENCH_DATA_ENV] ? join(io.env[BENCH_DATA_ENV] as string, 'alpaca_eval', 'lc') : undefined);
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
    lines.push(`  GLM                         θ_length ${length.toFixed(3)}, θ_difficulty ${instructionDifficulty.toFixed(3)}, θ_model ${model.toFixed(3)} (C = ${fit.inverseRegularization.toPrecision(3)})`);
  }
  return `${lines.join('\n')}\n`;
}

/**
 * The evaluation order each annotation's instruction difficulty is looked up in: `--eval-set`;
 * else the reference outputs when they are the whole set (as many as the difficulty file); else
 * the model outputs' own order (right for a prefix of the set, and for a partial run of it).
 */
function evaluationOrder(evalSet: string | undefined, references: readonly AlpacaEvalOutput[], outputs: readonly AlpacaEvalOutput[], difficultyCount: number): string[] {
  if (evalSet) return loadAlpacaEvalSet(evalSet).map((item) => item.instruction);
  if (references.length === difficultyCount) return references.map((output) => output.instruction);
  return outputs.map((output) => output.instruction);
}

export async function judgeAlpacaEvalOutputs(flags: JudgeAlpacaEvalFlags, io: CliStreams): Promise<number> {
  const judgeModel = requireJudge(flags, 'openai:gpt-4-1106-preview');
  const outputsPath = resolvePath(flags.outputs);
  const referencePath = benchDataFile(flags.referenceOutputs, '--reference-outputs', 'alpaca_eval/alpaca_eval_gpt4_baseline.json', io, 'the baseline\'s outputs');
  const promptPath = benchDataFile(flags.judgePrompt, '--judge-prompt', 'alpaca_eval/judge/alpaca_eval_clf.txt', io, 'AlpacaEval\'s judge prompt alpaca_eval_clf.txt');
  const annotationsPath = resolvePath(flags.annotationsOutput ?? besides(outputsPath, '.annotations.json'));
  checkDistinct({ '--outputs': outputsPath, '--reference-outputs': referencePath, '--judge-prompt': promptPath, '--annotations-output': annotationsPath });

  // Everything the metrics need is loaded before any call: a bad file is exit 2 with nothing spent.
  const modelOutputs = loadAlpacaEvalOutputs(outputsPath);
  const referenceOutputs = loadAlpacaEvalOutputs(referencePath);
  const template = loadAlpacaEvalJudgeTemplate(promptPath);
  const lengthControlData = loadLengthControlData(lengthControlDirectory(flags.lcData, io));
  let pairs: ReturnType<typeof pairAlpacaEvalOutputs>;
  try {
    pairs = pairAlpacaEvalOutputs(modelOutputs, referenceOutputs);
  } catch (error) {
    asConfigError(outputsPath, error);
  }
  const generators = new Set(modelOutputs.map((output) => output.generator));
  if (generators.size > 1) throw new ConfigError(`${outputsPath}: outputs of ${generators.size} generators (${[...generators].join(', ')}); judge one model at a time`, { code: 'eval_data_invalid', path: outputsPath });
  const evaluationInstructions = evaluationOrder(flags.evalSet, referenceOutputs, modelOutputs, lengthControlData.instructionDifficulty.length);
  // The length-controlled win rate needs every instruction's difficulty: checked before any call.
  const positions = new Map(evaluationInstructions.map((instruction, index) => [instruction, index]));
  const unplaced = modelOutputs.filter((output) => (positions.get(output.instruction) ?? Number.POSITIVE_INFINITY) >= lengthControlData.instructionDifficulty.length);
  if (unplaced.length > 0) {
    throw new ConfigError(
      `${unplaced.length} output(s) have no instruction difficulty for the length-controlled win rate (first: "${(unplaced[0]?.instruction ?? '').slice(0, 60)}"): ` +
        'pass --eval-set with AlpacaEval\'s evaluation set, or judge outputs of that set',
      { code: 'eval_data_invalid', path: outputsPath },
    );
  }

  const items: AlpacaEvalJudgeItem[] = pairs.map(({ model, reference }) => {
    const request = buildAlpacaEvalJudgeRequest({ instruction: model.instruction, baselineOutput: reference.output, modelOutput: model.output }, template);
    return {
      id: contentId(judgeModel, ...request.messages.map((message) => message.content)),
      model,
      reference,
      messages: request.messages,
      isSwitchedOutputs: request.isSwitchedOutputs,
    };
  });
  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env: io.env });
  const progressPath = progressPathFor(annotationsPath);
  const label = 'moa judge alpaca-eval';
  const outcome = await runBatchForCli<AlpacaEvalJudgeItem, AlpacaEvalJudgeRecord>({
    label,
    flags,
    config,
    io,
    models: [{ model: judgeModel, label: judgeModel, path: '--judge' }],
    outputPath: progressPath,
    input: () => ({ items, total: items.length }),
    work: async (item, context) => {
      const reply = await context.callModel(judgeModel, item.messages, {
        temperature: ALPACA_EVAL_JUDGE_SETTINGS.temperature,
        maxTokens: ALPACA_EVAL_JUDGE_SETTINGS.maxTokens,
        topLogprobs: ALPACA_EVAL_JUDGE_SETTINGS.topLogprobs,
      });
      const judgeReply = { text: reply.text, ...(reply.topLogprobs ? { topLogprobs: reply.topLogprobs } : {}) };
      const judgment = parseAlpacaEvalJudgment(judgeReply, item.isSwitchedOutputs);
      const annotation = makeAlpacaEvalAnnotation({
        model: item.model,
        reference: item.reference,
        annotator: alpacaEvalAnnotatorName(judgeModel, judgment.method),
        judgment,
        isSwitchedOutputs: item.isSwitchedOutputs,
        rawCompletion: makeAlpacaEvalRawCompletion(judgeReply, judgment),
        pricePerExample: context.costUsd ?? null,
        timePerExample: context.elapsedMs() / 1000,
      });
      return { ...annotation, usage: context.usage, cached: reply.cached };
    },
  });

  const records = readProgressRecords<AlpacaEvalJudgeRecord>(progressPath);
  const annotations: AlpacaEvalAnnotation[] = items.flatMap((item) => {
    const record = records.get(item.id);
    if (!record) return [];
    const { id: _id, usage: _usage, cached: _cached, ...annotation } = record;
    return [annotation];
  });
  writeFileAtomically(annotationsPath, toAlpacaEvalJson(annotations));
  const missing = items.length - annotations.length;
  const unparsed = annotations.filter((annotation) => annotation.preference === null).length;
  const methods = countJudgmentMethods(annotations);
  // One annotator name when every preference was read the same way.
  const annotatorNames = new Set(annotations.filter((annotation) => annotation.preference !== null).map((annotation) => annotation.annotator));
  const annotator =
    annotatorNames.size === 1 ? [...annotatorNames][0] : `alpaca_eval_clf[${judgeModel}, ${annotatorNames.size === 0 ? 'generated token' : 'logprobs or generated token'}]`;
  if (!flags.quiet) {
    const notes = [`wrote ${annotations.length} of ${items.length} annotations to ${annotationsPath}`, `preferences: ${describeJudgmentMethods(methods)}`];
    if (unparsed > 0) notes.push(outcome.colors.yellow(`${unparsed} judge replies were neither "m" nor "M" (left out)`));
    if (missing > 0) notes.push(outcome.colors.yellow(`${missing} missing: the metrics below leave them out; run the same command again to complete them`));
    io.stderr.write(`${label}: ${notes.join(' — ')}\n`);
  }
  if (annotations.length === 0) return outcome.exitCode;
  if (unparsed === annotations.length) {
    // Not one preference: there is no win rate, so that is a failed run.
    io.stderr.write(
      outcome.colors.red(
        `${label}: no preference in any of the ${annotations.length} judge replies (neither "m" nor "M", and no log-probabilities of them), so there is no win rate; ` +
          `the raw replies are the "raw_completion" fields of ${annotationsPath}\n`,
      ),
    );
    return outcome.exitCode === EXIT_OK ? EXIT_RUN_FAILED : outcome.exitCode;
  }
  let fit: LengthControlledFit;
  try {
    fit = computeLengthControlledWinRate(annotations, lengthControlData, { evaluationInstructions });
  } catch (error) {
    asConfigError(annotationsPath, error);
  }
  io.stdout.write(flags.json ? `${JSON.stringify(summarizeAlpacaEval(fit.metrics))}\n` : renderAlpacaEvalMetrics(fit, annotator, methods));
  return outcome.exitCode;
}
