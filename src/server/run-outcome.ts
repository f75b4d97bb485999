/**
 * What every API face reads off a finished run: the result even when the run failed, the
 * aggregator's finish reason, and the `moa` extension object (what every layer did).
 */
import type { MoAResult } from '../core/reducer.js';
import { MoARunError } from '../core/stream-moa.js';
import type { FinishReason, Usage } from '../models/usage.js';

/** Every answer carries its run's id, so its trace can be fetched from `/api/runs/:id`. */
export const RUN_ID_HEADER = 'X-MoA-Run-Id';

/** The run's result, failed or not (a failed run's partial result rides on MoARunError). */
export async function settledResult(result: Promise<MoAResult>): Promise<MoAResult> {
  try {
    return await result;
  } catch (error) {
    if (error instanceof MoARunError) return error.result;
    throw error;
  }
}

/** Why the aggregator (the final layer's successful agent) stopped. */
export function aggregatorFinishReason(result: MoAResult): FinishReason | undefined {
  const final = result.layers[result.layers.length - 1];
  return final?.agents.find((agent) => agent.status === 'done')?.finishReason;
}

export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

export function openAIUsage(usage: Usage): OpenAIUsage {
  return { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens };
}

/** The `moa` extension object: what every layer did. */
export interface MoADetails {
  run_id: string;
  preset: string | null;
  latency_ms: number;
  layers: Array<{
    index: number;
    aggregator: boolean;
    /** 'skipped' when the layer did not run, e.g. inside a tool loop (the aggregator reused the turn's references). */
    status: string;
    skipped?: { reason: string; message: string };
    agents: Array<{
      model: string;
      status: string;
      latency_ms: number | null;
      attempts: number;
      usage: OpenAIUsage;
      error?: { code: string; message: string };
    }>;
  }>;
  warnings: string[];
  /** Where the answer was made with less than planned (an agent failed, was cut, fell back, came too late); empty when nothing was. */
  degraded: Array<{ layer: number; agent: number; reason: string; message: string }>;
  /** Run start to the first text of the final answer. */
  ttft_ms: number | null;
}

export function moaDetails(result: MoAResult): MoADetails {
  return {
    run_id: result.runId,
    preset: result.preset ?? null,
    latency_ms: result.latencyMs,
    ttft_ms: result.ttftMs ?? null,
    degraded: result.degraded.map((entry) => ({ layer: entry.layer, agent: entry.agent, reason: entry.reason, message: entry.message })),
    layers: result.layers.map((layer) => ({
      index: layer.index,
      aggregator: layer.aggregator,
      status: layer.status,
      ...(layer.skipped ? { skipped: layer.skipped } : {}),
      agents: layer.agents.map((agent) => ({
        model: agent.model,
        status: agent.status,
        latency_ms: agent.latencyMs ?? null,
        attempts: agent.attempts,
        usage: openAIUsage(agent.usage),
        ...(agent.error ? { error: { code: agent.error.code, message: agent.error.message } } : {}),
      })),
    })),
    warnings: result.warnings.map((warning) => warning.message),
  };
}
