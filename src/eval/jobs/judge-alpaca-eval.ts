/**
 * `judgeAlpacaEval`: AlpacaEval 2.0's pairwise judging of one generator's outputs against the
 * baseline, on the batch runner: the `weighted_alpaca_eval_gpt4_turbo` prompt, AlpacaEval's own
 * position coin, one token at temperature 1 with the top 5 log-probabilities asked for (the soft
 * preference when the provider returns them, else the generated token), annotations in
 * AlpacaEval's format, then the win rate and the length-controlled win rate.
 */
import { resolve as resolvePath } from 'node:path';
import type { JobKind } from '../../batch/queue/queued-batch.js';
import type { BatchItem } from '../../batch/run-batch.js';
import type { ChatMessage } from '../../core/events.js';
import { ConfigError } from '../../util/errors.js';
import { estimateSingleCall } from '../call-estimate.js';
import {
  loadAlpacaEvalOutputs,
  loadAlpacaEvalSet,
  loadLengthControlData,
  toAlpacaEvalJson,
  type AlpacaEvalAnnotation,
  type AlpacaEvalOutput,
  type LengthControlData,
} from '../alpaca-eval-data.js';
import {
  ALPACA_EVAL_JUDGE_SETTINGS,
  alpacaEvalJudgmentMethod,
  buildAlpacaEvalJudgeRequest,
  loadAlpacaEvalJudgeTemplate,
  makeAlpacaEvalAnnotation,
  makeAlpacaEvalRawCompletion,
  pairAlpacaEvalOutputs,
  parseAlpacaEvalJudgment,
} from '../alpaca-eval-judge.js';
import { computeLengthControlledWinRate, type LengthControlledFit } from '../alpaca-eval-metrics.js';
import { besides, progressPathFor } from '../fastchat-layout.js';
import { asConfigError, checkDistinct, runEvalJob, type EvalJob, type EvalJobOutcome, type EvalRunnerOptions } from './eval-job.js';
import { contentId, readProgressRecords, writeFileAtomically } from './progress-file.js';

export interface AlpacaEvalJudgingOptions {
  /** model_outputs.json of one generator. */
  outputs: string;
  /** The baseline's outputs (AlpacaEval 2.0: gpt4_1106_preview's). */
  referenceOutputs: string;
  /** alpaca_eval_clf.txt. */
  judgePrompt: string;
  /** The folder with instruction_difficulty.csv and df_gamed.csv. */
  lengthControlData: string;
  judge: string;
  /** Default `<outputs>.annotations.json`. */
  annotationsOutput?: string;
  /** The evaluation set, for each instruction's difficulty by instruction (default: see `alpacaEvalEvaluationOrder`). */
  evalSet?: string;
}

/** How many annotations had their preference read from the log-probabilities, from the generated token, or not at all. */
export interface JudgmentMethodCounts {
  logprobs: number;
  token: number;
  unparsed: number;
}

export interface AlpacaEvalJudgingResult {
  judge: string;
  annotationsPath: string;
  progressPath: string;
  annotations: AlpacaEvalAnnotation[];
  total: number;
  missing: number;
  unparsed: number;
  noneParsed: boolean;
  methods: JudgmentMethodCounts;
  /** One annotator name when every preference was read the same way. */
  annotator: string;
  /** The metrics; undefined without any annotation or without any parsed preference. */
  fit: LengthControlledFit | undefined;
}

/** The judge recorded in an annotation: the official prompt, this judge, and how the preference was read. */
export function alpacaEvalAnnotatorName(judgeModel: string, method: 'logprobs' | 'token' | 'unparsed' = 'token'): string {
  return `alpaca_eval_clf[${judgeModel}, ${method === 'logprobs' ? 'logprobs' : 'generated token'}]`;
}

export function countJudgmentMethods(annotations: readonly AlpacaEvalAnnotation[]): JudgmentMethodCounts {
  const counts: JudgmentMethodCounts = { logprobs: 0, token: 0, unparsed: 0 };
  for (const annotation of annotations) {
    const method = alpacaEvalJudgmentMethod(annotation) ?? (annotation.preference === null ? 'unparsed' : 'token');
    counts[method]++;
  }
  return counts;
}

/**
 * The evaluation order each annotation's instruction difficulty is looked up in: the evaluation
 * set when given; else the reference outputs when they are the whole set (as many as the
 * difficulty file); else the model outputs' own order (right for a prefix of the set).
 */
export function alpacaEvalEvaluationOrder(
  evalSet: string | undefined,
  references: readonly AlpacaEvalOutput[],
  outputs: readonly AlpacaEvalOutput[],
  difficultyCount: number,
): string[] {
  if (evalSet) return loadAlpacaEvalSet(evalSet).map((item) => item.instruction);
  if (references.length === difficultyCount) return references.map((output) => output.instruction);
  return outputs.map((output) => output.instruction);
}

/** Every instruction needs a difficulty for the length-controlled win rate: checked before any call. */
export function checkInstructionDifficulties(
  outputs: readonly { instruction: string }[],
  evaluationInstructions: readonly string[],
  data: LengthControlData,
  file: string,
): void {
  const positions = new Map(evaluationInstructions.map((instruction, index) => [instruction, index]));
  const unplaced = outputs.filter((output) => (positions.get(output.instruction) ?? Number.POSITIVE_INFINITY) >= data.instructionDifficulty.length);
  if (unplaced.length > 0) {
    throw new ConfigError(
      `${unplaced.length} output(s) have no instruction difficulty for the length-controlled win rate (first: "${(unplaced[0]?.instruction ?? '').slice(0, 60)}"): ` +
        "pass --eval-set with AlpacaEval's evaluation set, or judge outputs of that set",
      { code: 'eval_data_invalid', path: file },
    );
  }
}

interface AlpacaEvalJudgeItem extends BatchItem {
  model: AlpacaEvalOutput;
  reference: AlpacaEvalOutput;
  messages: ChatMessage[];
  isSwitchedOutputs: boolean;
}

type AlpacaEvalJudgeRecord = AlpacaEvalAnnotation & { usage: { inputTokens: number; outputTokens: number }; cached: boolean };

/** One AlpacaEval annotation: the judge on the request built when the job was prepared (plain-JSON settings, for a queue worker). */
export const alpacaEvalJudgeJob: JobKind<AlpacaEvalJudgeItem, { judge: string }, AlpacaEvalJudgeRecord> = {
  name: 'alpaca-eval-judge',
  async work(item, context, { judge }) {
    const reply = await context.callModel(judge, item.messages, {
      temperature: ALPACA_EVAL_JUDGE_SETTINGS.temperature,
      maxTokens: ALPACA_EVAL_JUDGE_SETTINGS.maxTokens,
      topLogprobs: ALPACA_EVAL_JUDGE_SETTINGS.topLogprobs,
    });
    const judgeReply = { text: reply.text, ...(reply.topLogprobs ? { topLogprobs: reply.topLogprobs } : {}) };
    const judgment = parseAlpacaEvalJudgment(judgeReply, item.isSwitchedOutputs);
    const annotation = makeAlpacaEvalAnnotation({
      model: item.model,
      reference: item.reference,
      annotator: alpacaEvalAnnotatorName(judge, judgment.method),
      judgment,
      isSwitchedOutputs: item.isSwitchedOutputs,
      rawCompletion: makeAlpacaEvalRawCompletion(judgeReply, judgment),
      pricePerExample: context.costUsd ?? null,
      timePerExample: context.elapsedMs() / 1000,
    });
    return { ...annotation, usage: context.usage, cached: reply.cached };
  },
};

export function prepareAlpacaEvalJudging(options: AlpacaEvalJudgingOptions): EvalJob<AlpacaEvalJudgeItem, AlpacaEvalJudgeRecord, AlpacaEvalJudgingResult> {
  const judge = options.judge;
  const outputsPath = resolvePath(options.outputs);
  const referencePath = resolvePath(options.referenceOutputs);
  const promptPath = resolvePath(options.judgePrompt);
  const annotationsPath = resolvePath(options.annotationsOutput ?? besides(outputsPath, '.annotations.json'));
  checkDistinct({ '--outputs': outputsPath, '--reference-outputs': referencePath, '--judge-prompt': promptPath, '--annotations-output': annotationsPath });

  // Everything the metrics need is loaded before any call: a bad file is a ConfigError with nothing spent.
  const modelOutputs = loadAlpacaEvalOutputs(outputsPath);
  const referenceOutputs = loadAlpacaEvalOutputs(referencePath);
  const template = loadAlpacaEvalJudgeTemplate(promptPath);
  const lengthControlData = loadLengthControlData(options.lengthControlData);
  let pairs: ReturnType<typeof pairAlpacaEvalOutputs>;
  try {
    pairs = pairAlpacaEvalOutputs(modelOutputs, referenceOutputs);
  } catch (error) {
    asConfigError(outputsPath, error);
  }
  const generators = new Set(modelOutputs.map((output) => output.generator));
  if (generators.size > 1)
    throw new ConfigError(`${outputsPath}: outputs of ${generators.size} generators (${[...generators].join(', ')}); judge one model at a time`, {
      code: 'eval_data_invalid',
      path: outputsPath,
    });
  const evaluationInstructions = alpacaEvalEvaluationOrder(options.evalSet, referenceOutputs, modelOutputs, lengthControlData.instructionDifficulty.length);
  checkInstructionDifficulties(modelOutputs, evaluationInstructions, lengthControlData, outputsPath);

  const items: AlpacaEvalJudgeItem[] = pairs.map(({ model, reference }) => {
    const request = buildAlpacaEvalJudgeRequest({ instruction: model.instruction, baselineOutput: reference.output, modelOutput: model.output }, template);
    return {
      id: contentId(judge, ...request.messages.map((message) => message.content)),
      model,
      reference,
      messages: request.messages,
      isSwitchedOutputs: request.isSwitchedOutputs,
    };
  });
  const progressPath = progressPathFor(annotationsPath);

  return {
    label: 'moa judge alpaca-eval',
    models: [{ model: judge, label: judge, path: '--judge' }],
    progressPath,
    items,
    estimateCalls: (item) => [estimateSingleCall(judge, item.messages, ALPACA_EVAL_JUDGE_SETTINGS.maxTokens)],
    work: (item, context) => alpacaEvalJudgeJob.work(item, context, { judge }),
    queue: () => ({ kind: alpacaEvalJudgeJob.name, settings: { judge } }),
    finish: () => {
      const records = readProgressRecords<AlpacaEvalJudgeRecord>(progressPath);
      const annotations: AlpacaEvalAnnotation[] = items.flatMap((item) => {
        const record = records.get(item.id);
        if (!record) return [];
        const { id: _id, usage: _usage, cached: _cached, ...annotation } = record;
        return [annotation];
      });
      writeFileAtomically(annotationsPath, toAlpacaEvalJson(annotations));
      const unparsed = annotations.filter((annotation) => annotation.preference === null).length;
      const annotatorNames = new Set(annotations.filter((annotation) => annotation.preference !== null).map((annotation) => annotation.annotator));
      const annotator =
        annotatorNames.size === 1
          ? ([...annotatorNames][0] as string)
          : `alpaca_eval_clf[${judge}, ${annotatorNames.size === 0 ? 'generated token' : 'logprobs or generated token'}]`;
      let fit: LengthControlledFit | undefined;
      if (annotations.length > unparsed) {
        try {
          fit = computeLengthControlledWinRate(annotations, lengthControlData, { evaluationInstructions });
        } catch (error) {
          asConfigError(annotationsPath, error);
        }
      }
      return {
        judge,
        annotationsPath,
        progressPath,
        annotations,
        total: items.length,
        missing: items.length - annotations.length,
        unparsed,
        noneParsed: annotations.length > 0 && unparsed === annotations.length,
        methods: countJudgmentMethods(annotations),
        annotator,
        fit,
      };
    },
  };
}

/** Prepares and runs AlpacaEval judging (see `prepareAlpacaEvalJudging` and `runEvalJob`). */
export function judgeAlpacaEval(options: AlpacaEvalJudgingOptions, runner: EvalRunnerOptions = {}): Promise<EvalJobOutcome<AlpacaEvalJudgingResult>> {
  return runEvalJob(prepareAlpacaEvalJudging(options), runner);
}
