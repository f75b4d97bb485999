/**
 * One layer: every agent concurrently, the completion policy (minSuccessful)
 * and the straggler policy (once `quorum` agents succeeded, wait at most
 * `graceMs` for the rest, then cut them). Returns the successful answers in
 * agent order, which become the next layer's references.
 */
import { AbortedError, RunFailedError } from '../util/errors.js';
import { CUT_REASON, runAgent, type AgentOutcome } from './run-agent.js';
import type { RunContext } from './run-context.js';
import type { ResolvedLayer } from './resolve-preset.js';

export interface LayerOutcome {
  answers: string[];
  outcomes: AgentOutcome[];
}

export async function runLayer(
  context: RunContext,
  layerIndex: number,
  layer: ResolvedLayer,
  references: readonly string[],
): Promise<LayerOutcome> {
  context.emit({ type: 'layer-start', layer: layerIndex, references: references.length });
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

  let succeeded = 0;
  let graceTimer: ReturnType<typeof setTimeout> | undefined;
  const cutStragglers = (): void => {
    for (const index of running) controllers[index]!.abort(CUT_REASON);
  };

  let outcomes: AgentOutcome[];
  try {
    outcomes = await Promise.all(
      layer.agents.map(async (agent, index) => {
        const outcome = await runAgent(context, layerIndex, index, agent, references, controllers[index]!.signal, samples[index]);
        running.delete(index);
        if (outcome.ok) {
          succeeded++;
          if (layer.quorum !== undefined && succeeded >= layer.quorum && graceTimer === undefined && running.size > 0) {
            graceTimer = setTimeout(cutStragglers, layer.graceMs ?? 0);
          }
        } else if (outcome.cut) {
          context.emit({
            type: 'warning',
            code: 'agent-cut',
            message:
              outcome.calls === 0
                ? `layer ${layerIndex + 1}: ${agent.label} was not started: cut while still queued (quorum of ${layer.quorum} reached, ${layer.graceMs ?? 0} ms of grace over)`
                : `layer ${layerIndex + 1}: ${agent.label} was cut after ${layer.graceMs ?? 0} ms of grace (quorum of ${layer.quorum} reached)`,
            layer: layerIndex,
            agent: index,
          });
        } else if (!outcome.aborted && !layer.aggregator) {
          context.emit({
            type: 'warning',
            code: 'agent-failed',
            message: `layer ${layerIndex + 1}: a proposer failed and is left out: ${outcome.error.message}`,
            layer: layerIndex,
            agent: index,
          });
        }
        return outcome;
      }),
    );
  } catch (error) {
    // An unexpected error in one agent must not leave the others' calls running.
    for (const controller of controllers) controller.abort(error);
    throw error;
  } finally {
    if (graceTimer !== undefined) clearTimeout(graceTimer);
    context.signal.removeEventListener('abort', onRunAbort);
  }

  const indexes = (test: (outcome: AgentOutcome) => boolean): number[] =>
    outcomes.flatMap((outcome, index) => (test(outcome) ? [index] : []));
  context.emit({
    type: 'layer-end',
    layer: layerIndex,
    succeeded: indexes((outcome) => outcome.ok),
    failed: indexes((outcome) => !outcome.ok && !outcome.cut),
    cut: indexes((outcome) => !outcome.ok && outcome.cut),
  });

  if (context.signal.aborted) throw new AbortedError();
  if (succeeded < layer.minSuccessful) {
    // An aggregator's own error is only its last model's: report every model it tried.
    const errors = outcomes.flatMap((outcome) => (outcome.ok ? [] : layer.aggregator ? outcome.errors : [outcome.error]));
    const what = layer.aggregator
      ? `the aggregator failed${layer.agents[0]!.fallbacks.length ? ' (and every fallback)' : ''}`
      : `only ${succeeded} of ${layer.agents.length} agents succeeded in layer ${layerIndex + 1} (minSuccessful: ${layer.minSuccessful})`;
    throw new RunFailedError(
      layer.aggregator ? 'aggregator_failed' : 'layer_failed',
      `MoA run failed: ${what}. ${[...new Set(errors.map((error) => error.message))].join('; ')}`,
      errors,
    );
  }
  return {
    answers: outcomes.flatMap((outcome) => (outcome.ok ? [outcome.text] : [])),
    outcomes,
  };
}
