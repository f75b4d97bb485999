/**
 * One layer: its agents concurrently, each fed by its aggregation policy (reference-feed.ts), the
 * completion policy (`minSuccessful`) and the straggler policy (once `quorum` agents succeeded,
 * wait at most `graceMs` for the rest, then cut them). Once complete it hands the next layer its
 * answers in agent order — or, for a rank layer, the previous layer's answers in the order the
 * reviewers ranked them, with a summary.
 *
 * Layers run at the same time: a layer's agents wait in their feeds until the policy lets them
 * start, so the barrier is one policy among others. `layer-start` is emitted when the first agent
 * starts; a layer whose source failed never starts and fails with the source's error.
 */
import { AbortedError, RunFailedError } from '../util/errors.js';
import type { RankingReview } from './events.js';
import type { CompletedLayer, LayerOutputs, Reference } from './layer-outputs.js';
import { aggregateRankings, buildReviewPrompt, rankingSummary, reviewOrder, reviewSheet, type ReviewSheet } from './ranking.js';
import { barrierFeed, earlyFeed, noReferencesFeed, staircaseFeed, SYNTHESIS_SOURCE, windowFeed, type ReferenceFeed } from './reference-feed.js';
import type { ResolvedLayer, ResolvedPreset } from './resolve-preset.js';
import { CUT_REASON, runAgent, type AgentOutcome } from './run-agent.js';
import type { RunContext } from './run-context.js';
import { buildAgentPrompt } from './synthesis-prompt.js';

export interface LayerRun {
  /** Resolves once every agent has ended (rejects with the layer's failure). */
  done: Promise<AgentOutcome[]>;
  /** Stop the agents still running (e.g. not needed once the final answer is written). */
  stop(reason: unknown): void;
}

export interface LayerSetup {
  index: number;
  layer: ResolvedLayer;
  preset: ResolvedPreset;
  outputs: LayerOutputs;
  /** The previous layer's outputs (undefined for the first layer). */
  inputs?: LayerOutputs;
  /** Stream this layer's calls although nobody watches (the next layer reads its answers as they grow). */
  streams: boolean;
  /** Emit agent-delta for this agent? (asked per delta) */
  watched: (agent: number) => boolean;
  /** Before the layer hands its answers on (e.g. the agreement check that may skip later layers). */
  beforeComplete?: (answers: Reference[]) => Promise<void>;
}

function feedFor(setup: LayerSetup): (agent: number) => ReferenceFeed {
  const { layer, inputs } = setup;
  if (!inputs || layer.kind === 'propose') return () => noReferencesFeed();
  if (layer.kind === 'rank') return () => barrierFeed(inputs);
  if (layer.window !== undefined) return () => windowFeed(inputs, layer.window!, layer.referenceMaxTokens);
  const policy = layer.aggregation;
  switch (policy.mode) {
    case 'barrier':
      return () => barrierFeed(inputs, layer.referenceMaxTokens);
    case 'early':
      return () => earlyFeed(inputs, policy, layer.referenceMaxTokens);
    case 'staircase':
      return () => staircaseFeed(inputs, policy, layer.referenceMaxTokens);
  }
}

export function startLayer(context: RunContext, setup: LayerSetup): LayerRun {
  const { index: layerIndex, layer, outputs, preset } = setup;
  const controllers = layer.agents.map(() => new AbortController());
  const running = new Set<number>(layer.agents.map((_, index) => index));
  const onRunAbort = (): void => {
    for (const controller of controllers) controller.abort(context.signal.reason);
  };
  context.signal.addEventListener('abort', onRunAbort, { once: true });
  if (context.signal.aborted) onRunAbort();

  // Each agent's occurrence among same-model agents of this layer: N samples of one model are N cache entries.
  const seen = new Map<unknown, number>();
  const samples = layer.agents.map((agent) => {
    const sample = seen.get(agent.model) ?? 0;
    seen.set(agent.model, sample + 1);
    return sample;
  });

  const isFinal = context.isFinalLayer(layerIndex);
  const settings = isFinal ? context.final : undefined;
  const hasTools = (settings?.tools?.length ?? 0) > 0;
  const makeFeed = feedFor(setup);

  // A rank layer: each reviewer's own sheet, its own answer (the previous agent with its model) left out.
  const sheets = new Map<number, ReviewSheet>();
  const ownSources = layer.kind === 'rank' ? matchOwnAnswers(preset, layerIndex) : [];

  let started = false;
  let succeeded = 0;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const cutStragglers = (): void => {
    for (const agentIndex of running) controllers[agentIndex]!.abort(CUT_REASON);
  };

  const done = (async (): Promise<AgentOutcome[]> => {
    let outcomes: AgentOutcome[];
    try {
      outcomes = await Promise.all(
        layer.agents.map(async (agent, agentIndex) => {
          const outcome = await runAgent(context, {
            layer: layerIndex,
            index: agentIndex,
            agent,
            feed: makeFeed(agentIndex),
            output: outputs.agents[agentIndex]!,
            buildPrompt:
              layer.kind === 'rank'
                ? (view) => {
                    let sheet = sheets.get(agentIndex);
                    if (!sheet) sheets.set(agentIndex, (sheet = reviewSheet(view.references, ownSources[agentIndex], context.random)));
                    return buildReviewPrompt(context.messages, view.references, sheet, agent.system);
                  }
                : (view, written) =>
                    buildAgentPrompt(context.messages, {
                      ...(agent.system !== undefined ? { agentSystem: agent.system } : {}),
                      references: view.references.map((reference) => ({
                        text: reference.text,
                        partial: reference.partial,
                        synthesis: reference.source === SYNTHESIS_SOURCE,
                      })),
                      ...(view.summary !== undefined ? { summary: view.summary } : {}),
                      synthesisTemplate: context.synthesisPrompt,
                      view: hasTools ? 'tools' : 'text',
                      toolsInPlay: context.toolsInPlay,
                      ...(written ? { written } : {}),
                      ...(view.outputTokens !== undefined ? { partTokens: view.outputTokens } : {}),
                      ...(settings?.responseFormat?.type === 'json' ? { json: settings.responseFormat.schema ? { schema: settings.responseFormat.schema } : {} } : {}),
                    }),
            watched: () => setup.watched(agentIndex),
            streams: setup.streams,
            ...(settings ? { settings } : {}),
            ...(isFinal && context.topLogprobs !== undefined ? { topLogprobs: context.topLogprobs } : {}),
            sample: samples[agentIndex] ?? 0,
            signal: controllers[agentIndex]!.signal,
            layerStarted: () => started,
            onStart: (view) => {
              if (started || outputs.skipped) return;
              started = true;
              outputs.markStarted();
              context.emit({ type: 'layer-start', layer: layerIndex, references: view.references.filter((reference) => reference.source >= 0).length });
            },
          });
          running.delete(agentIndex);
          if (outcome.ok) {
            succeeded++;
            if (layer.quorum !== undefined && succeeded >= layer.quorum && graceTimer === undefined && running.size > 0) {
              graceTimer = setTimeout(cutStragglers, layer.graceMs ?? 0);
            }
          } else if (outcome.notStarted) {
            // Nothing to say: the layer it waited for failed, and that is the run's error.
          } else if (outcome.cut && outcome.error.code === 'cut') {
            context.emit({
              type: 'warning',
              code: 'agent-cut',
              message:
                outcome.calls === 0
                  ? `layer ${layerIndex + 1}: ${agent.label} was not started: cut while still queued (quorum of ${layer.quorum} reached, ${layer.graceMs ?? 0} ms of grace over)`
                  : `layer ${layerIndex + 1}: ${agent.label} was cut after ${layer.graceMs ?? 0} ms of grace (quorum of ${layer.quorum} reached)`,
              layer: layerIndex,
              agent: agentIndex,
            });
          } else if (!outcome.aborted && !outcome.cut && !layer.aggregator) {
            context.emit({
              type: 'warning',
              code: 'agent-failed',
              message: `layer ${layerIndex + 1}: a ${layer.kind === 'rank' ? 'reviewer' : 'proposer'} failed and is left out: ${outcome.error.message}`,
              layer: layerIndex,
              agent: agentIndex,
            });
          }
          return outcome;
        }),
      );
    } catch (error) {
      // An unexpected error in one agent must not leave the others' calls running.
      for (const controller of controllers) controller.abort(error);
      outputs.fail(error);
      throw error;
    } finally {
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      context.signal.removeEventListener('abort', onRunAbort);
    }

    if (!started) {
      // Skipped before it started: nothing ran, nothing to say (the run said why).
      if (outputs.skipped) return outcomes;
      // Its source failed (or the run was cancelled) before any agent could start.
      const failure = context.signal.aborted
        ? new AbortedError()
        : await setup.inputs?.complete.then(
            () => new AbortedError(),
            (error: unknown) => error,
          );
      outputs.fail(failure);
      throw failure;
    }

    const indexes = (test: (outcome: AgentOutcome) => boolean): number[] => outcomes.flatMap((outcome, index) => (test(outcome) ? [index] : []));
    context.emit({
      type: 'layer-end',
      layer: layerIndex,
      succeeded: indexes((outcome) => outcome.ok),
      failed: indexes((outcome) => !outcome.ok && !outcome.cut),
      cut: indexes((outcome) => !outcome.ok && outcome.cut),
    });

    if (context.signal.aborted) {
      const error = new AbortedError();
      outputs.fail(error);
      throw error;
    }
    if (succeeded < layer.minSuccessful) {
      // An aggregator's own error is only its last model's: report every model it tried.
      const errors = outcomes.flatMap((outcome) => (outcome.ok ? [] : layer.aggregator ? outcome.errors : [outcome.error]));
      const what = layer.aggregator
        ? `the aggregator failed${layer.agents[0]!.fallbacks.length ? ' (and every fallback)' : ''}`
        : `only ${succeeded} of ${layer.agents.length} agents succeeded in layer ${layerIndex + 1} (minSuccessful: ${layer.minSuccessful})`;
      const error = new RunFailedError(
        layer.aggregator ? 'aggregator_failed' : 'layer_failed',
        `MoA run failed: ${what}. ${[...new Set(errors.map((entry) => entry.message))].join('; ')}`,
        errors,
      );
      outputs.fail(error);
      throw error;
    }

    const completed = layer.kind === 'rank' ? await rankedAnswers(context, setup, outcomes, sheets) : ownAnswers(layerIndex, outcomes);
    await setup.beforeComplete?.(completed.references);
    outputs.finish(completed);
    return outcomes;
  })();
  done.catch(() => undefined); // awaited by the run; a failure is also the run's error

  return {
    done,
    stop(reason) {
      for (const agentIndex of running) controllers[agentIndex]!.abort(reason);
    },
  };
}

function ownAnswers(layer: number, outcomes: readonly AgentOutcome[]): CompletedLayer {
  return {
    layer,
    references: outcomes.flatMap((outcome, source) => (outcome.ok ? [{ source, text: outcome.text, partial: false }] : [])),
  };
}

/** For each reviewer, the agent of the reviewed layer that is itself (same model, first unmatched), if any. */
function matchOwnAnswers(preset: ResolvedPreset, layerIndex: number): Array<number | undefined> {
  const reviewed = preset.layers[layerIndex - 1]!.agents;
  const taken = new Set<number>();
  return preset.layers[layerIndex]!.agents.map((reviewer) => {
    const match = reviewed.findIndex((agent, index) => !taken.has(index) && agent.label === reviewer.label);
    if (match < 0) return undefined;
    taken.add(match);
    return match;
  });
}

async function rankedAnswers(
  context: RunContext,
  setup: LayerSetup,
  outcomes: readonly AgentOutcome[],
  sheets: ReadonlyMap<number, ReviewSheet>,
): Promise<CompletedLayer> {
  const reviewed = await setup.inputs!.complete;
  const reviews: RankingReview[] = [];
  outcomes.forEach((outcome, agent) => {
    const sheet = sheets.get(agent);
    if (!outcome.ok || !sheet) return;
    const { order, parsed } = reviewOrder(outcome.text, sheet);
    reviews.push({ agent, order, parsed });
    if (!parsed) {
      context.emit({
        type: 'warning',
        code: 'ranking-unreadable',
        message: `layer ${setup.index + 1}: the ranking of ${setup.layer.agents[agent]!.label} could not be read (no "FINAL RANKING:" line or list of responses); it is left out of the aggregate`,
        layer: setup.index,
        agent,
      });
    }
  });
  const sources = reviewed.references.map((reference) => reference.source);
  const ranking = aggregateRankings(sources, reviews);
  const counted = reviews.filter((review) => review.parsed).length;
  const summary = counted > 0 ? rankingSummary(ranking, counted) : '';
  context.emit({ type: 'layer-ranking', layer: setup.index, reviews, ranking, summary });
  const bySource = new Map(reviewed.references.map((reference) => [reference.source, reference]));
  return {
    layer: reviewed.layer,
    references: ranking.map((entry) => bySource.get(entry.agent)!),
    ...(counted > 0 ? { summary } : {}),
  };
}
