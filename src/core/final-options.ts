/**
 * What the final aggregator's options change in a preset before a run: `samples` answers over one
 * set of references (the final layer run that many times, each a distinct sample), and the check
 * that every model that may answer — the aggregator and each fallback — can take tools.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import type { ResolvedModel } from '../models/registry.js';
import { ConfigError } from '../util/errors.js';
import type { ResolvedPreset } from './resolve-preset.js';

export const MAX_SAMPLES = 16;

export function withFinalSamples(preset: ResolvedPreset, samples: number): ResolvedPreset {
  if (!Number.isInteger(samples) || samples < 1 || samples > MAX_SAMPLES) {
    throw new ConfigError(`final.samples must be a whole number from 1 to ${MAX_SAMPLES} (found ${samples})`, { code: 'invalid_input', path: 'final.samples' });
  }
  if (samples === 1) return preset;
  const layers = [...preset.layers];
  const last = layers[layers.length - 1]!;
  const aggregator = last.agents[0]!;
  layers[layers.length - 1] = { ...last, agents: Array.from({ length: samples }, () => ({ ...aggregator })), minSuccessful: samples };
  return { ...preset, layers };
}

/** Throws ConfigError (`tools_unsupported`) naming the first aggregator model that cannot take tools. */
export function checkFinalTools(preset: ResolvedPreset, models: ReadonlyMap<string | LanguageModelV3, ResolvedModel>): void {
  const last = preset.layers[preset.layers.length - 1]!;
  for (const agent of last.agents) {
    const candidates: Array<[string | LanguageModelV3, string]> = [
      [agent.model, agent.path],
      ...agent.fallbacks.map((fallback, index): [string, string] => [fallback, `${agent.path}.fallbacks[${index}]`]),
    ];
    for (const [model, path] of candidates) {
      const resolved = models.get(model);
      if (resolved && !resolved.capabilities.tools) {
        throw new ConfigError(
          `${resolved.label} at ${path} cannot call tools (provider type "${resolved.capabilities.type}"): every model that may write the final answer must support tools when the request has them. Choose a preset whose aggregator and fallbacks do, or send the request without tools.`,
          { code: 'tools_unsupported', path },
        );
      }
    }
  }
}
