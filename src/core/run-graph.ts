/**
 * A run as a graph of agent calls fed by references that grow over time: every layer starts at
 * once and its agents wait in their feeds until their aggregation policy lets them call, so a
 * barrier, an early start and a staircase are all the same loop. This module wires the layers
 * together and decides what only the whole run can decide:
 *
 * - which layers stream their calls although nobody watches (the next layer reads a staircase);
 * - `draft: true`: the first proposer to write a token streams as a labelled draft;
 * - inside a client's tool loop: the references of the user turn are reused, layers skipped;
 * - `stopWhen: { agreement }`: once a layer's answers agree, the layers after it that have not
 *   started are skipped and the aggregator reads that layer;
 * - once the final answer is written, agents still running are stopped (not needed).
 */
import type { EmbeddingModelV3 } from '@ai-sdk/provider';
import { embeddingAgreement, lexicalAgreement } from './agreement.js';
import { endsWithToolResults } from './conversation-input.js';
import type { FinalChoice, FinishReason, ToolCall } from './events.js';
import { LayerOutputs, type Reference } from './layer-outputs.js';
import { referenceMemoryKey, type ReferenceMemory } from './reference-memory.js';
import type { ResolvedPreset } from './resolve-preset.js';
import { NOT_NEEDED_REASON, type AgentOutcome } from './run-agent.js';
import type { RunContext } from './run-context.js';
import { startLayer, type LayerRun } from './run-layer.js';

export interface GraphOptions {
  /** Final-layer agents emit agent-delta ('final'), every agent does ('all'), or none. */
  stream: 'none' | 'final' | 'all';
  draft: boolean;
  toolLoop: 'reuse' | 'rerun';
  referenceMemory: ReferenceMemory;
  /** Resolved before the run when `stopWhen.embeddingModel` is set. */
  embeddingModel?: EmbeddingModelV3;
  samples: number;
}

export interface FinalAnswer {
  text: string;
  /** When the first text of the final answer was committed (streamed or not). */
  firstTextMs?: number;
  finishReason?: FinishReason;
  toolCalls?: ToolCall[];
  choices?: FinalChoice[];
}

/** The reason given to the agents of a layer that is skipped before it started. */
const SKIPPED_REASON = Symbol('moa.skipped');

export async function runGraph(context: RunContext, preset: ResolvedPreset, options: GraphOptions): Promise<FinalAnswer> {
  const last = preset.layers.length - 1;
  const outputs = preset.layers.map((layer, index) => new LayerOutputs(index, layer.agents.length));
  const runs: Array<LayerRun | undefined> = [];

  // Inside a client's tool loop, the proposers already advised on this user turn: reuse what they said.
  const memoryKey = last > 0 ? referenceMemoryKey(preset, context.messages) : undefined;
  const kept = memoryKey !== undefined && options.toolLoop === 'reuse' && endsWithToolResults(context.messages) ? options.referenceMemory.get(memoryKey) : undefined;
  let finalInputs = outputs[last - 1];
  if (kept) {
    const remembered = new LayerOutputs(-1, 0);
    remembered.markStarted();
    remembered.finish({ layer: last - 1, references: kept.map((text, source) => ({ source, text, partial: false })) });
    for (let index = 0; index < last; index++) {
      outputs[index]!.markSkipped(remembered);
      context.emit({
        type: 'layer-skipped',
        layer: index,
        reason: 'tool-loop',
        message: `layer ${index + 1} skipped: inside a tool loop, the final aggregator reuses the ${kept.length} reference(s) of this user turn`,
      });
    }
    finalInputs = remembered;
  } else if (memoryKey !== undefined) {
    outputs[last - 1]!.complete.then(
      (layer) =>
        options.referenceMemory.set(
          memoryKey,
          layer.references.map((reference) => reference.text),
        ),
      () => undefined,
    );
  }

  let draftAgent: number | undefined;
  const watched = (layer: number, agent: number): boolean => {
    // The draft is the first proposer to write a token, whatever else streams.
    if (options.draft && layer === 0 && last > 0 && draftAgent === undefined) {
      draftAgent = agent;
      context.emit({ type: 'draft-start', layer: 0, agent, model: preset.layers[0]!.agents[agent]!.label });
    }
    if (options.stream === 'all' || (options.stream === 'final' && layer === last)) return true;
    return options.draft && layer === 0 && last > 0 && agent === draftAgent;
  };

  const agreementCheck =
    (layerIndex: number) =>
    async (answers: Reference[]): Promise<void> => {
      const stopWhen = preset.stopWhen;
      // Only a layer followed by intermediate layers that have not started yet can end the run early.
      if (!stopWhen || layerIndex >= last - 1 || outputs[layerIndex + 1]!.started) return;
      const texts = answers.map((answer) => answer.text);
      const score = options.embeddingModel ? await embeddingAgreement(texts, options.embeddingModel, context.signal) : lexicalAgreement(texts);
      if (score === undefined || score < stopWhen.agreement || outputs[layerIndex + 1]!.started) return;
      for (let index = layerIndex + 1; index < last; index++) {
        outputs[index]!.markSkipped(outputs[layerIndex]!);
        runs[index]?.stop(SKIPPED_REASON);
        context.emit({
          type: 'layer-skipped',
          layer: index,
          reason: 'agreement',
          message: `layer ${index + 1} skipped: the answers of layer ${layerIndex + 1} agree (${options.embeddingModel ? 'embedding' : 'lexical'} similarity ${score.toFixed(2)} ≥ ${stopWhen.agreement})`,
        });
      }
    };

  for (let index = kept ? last : 0; index <= last; index++) {
    const layer = preset.layers[index]!;
    const next = preset.layers[index + 1];
    runs[index] = startLayer(context, {
      index,
      layer,
      preset,
      outputs: outputs[index]!,
      ...(index === last ? (finalInputs ? { inputs: finalInputs } : {}) : index > 0 ? { inputs: outputs[index - 1]! } : {}),
      streams: (next?.aggregation.mode === 'staircase' && next.kind === 'synthesize' && next.window === undefined) || (options.draft && index === 0 && last > 0),
      watched: (agent) => watched(index, agent),
      ...(preset.stopWhen && layer.kind !== 'rank' && index < last - 1 ? { beforeComplete: agreementCheck(index) } : {}),
    });
  }

  // The first text of the final answer, whether or not anyone watches it stream (TTFT for every run).
  let firstTextMs: number | undefined;
  const offs = outputs[last]!.agents.map((agent) =>
    agent.onChange(() => {
      if (firstTextMs === undefined && agent.text.length > 0) firstTextMs = context.now();
    }),
  );

  const finalRun = runs[last]!;
  const stopTheRest = async (reason: unknown): Promise<void> => {
    for (const run of runs.slice(0, last)) run?.stop(reason);
    await Promise.all(runs.slice(0, last).map((run) => run?.done.catch(() => undefined)));
  };
  let outcomes: AgentOutcome[];
  try {
    outcomes = await finalRun.done;
  } catch (error) {
    await stopTheRest(error);
    throw error;
  }
  // The answer is written: what still runs can only cost more.
  await stopTheRest(NOT_NEEDED_REASON);
  for (const off of offs) off();

  const answers = outcomes.flatMap((outcome, index) => (outcome.ok ? [{ outcome, index }] : []));
  const first = answers[0]?.outcome;
  return {
    text: first?.text ?? '',
    ...(firstTextMs !== undefined ? { firstTextMs } : {}),
    ...(first ? { finishReason: first.finishReason } : {}),
    ...(first?.toolCalls ? { toolCalls: first.toolCalls } : {}),
    ...(options.samples > 1
      ? {
          choices: answers.map(({ outcome, index }) => ({
            index,
            text: outcome.text,
            finishReason: outcome.finishReason,
            ...(outcome.toolCalls ? { toolCalls: outcome.toolCalls } : {}),
          })),
        }
      : {}),
  };
}

export { SKIPPED_REASON };
