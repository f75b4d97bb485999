/**
 * User preset (as written) → resolved preset (defaults applied, validated,
 * every layer spelled out). The engine only ever runs resolved presets.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { ConfigError } from '../util/errors.js';
import { formatPath, presetSchema, type PresetInput, type PresetSettings } from './config-schema.js';
import type { PlannedLayer } from './events.js';
import { DEFAULT_SYNTHESIS_PROMPT } from './synthesis-prompt.js';
import { validate } from './validate.js';

export const DEFAULT_LAYERS_WITH_PROPOSERS = 3;
export const DEFAULT_TEMPERATURE = 0.7;

export interface ResolvedAgent {
  model: string | LanguageModelV3;
  /** "provider:model-id", for events and display. */
  label: string;
  /** Config path of this agent, for error messages. */
  path: string;
  name?: string;
  temperature?: number;
  maxTokens?: number;
  system?: string;
  fallbacks: string[];
  /**
   * Ask the model for the top N log-probabilities of its first token (not a config setting:
   * set by callers such as a judge call; openai and openai-compatible providers only).
   */
  topLogprobs?: number;
}

export interface ResolvedLayer {
  agents: ResolvedAgent[];
  aggregator: boolean;
  minSuccessful: number;
  quorum?: number;
  graceMs?: number;
}

export interface ResolvedPreset {
  name?: string;
  layers: ResolvedLayer[];
  synthesisPrompt: string;
  timeoutMs?: number;
  attemptTimeoutMs?: number;
  maxRetries?: number;
  /** Inside a client's tool loop: reuse the user turn's references (default) or rerun every layer. */
  toolLoop?: 'reuse' | 'rerun';
}

export interface ResolveOptions {
  name?: string;
  /** Path prefix for error messages, e.g. ['presets', 'quick']. */
  path?: ReadonlyArray<PropertyKey>;
  /** Where relative `synthesisPromptFile` paths are resolved (the config file's folder). */
  baseDir?: string;
  source?: string;
}

type AgentSetting = NonNullable<PresetSettings['proposers']>[number];

function modelLabel(model: string | LanguageModelV3): string {
  return typeof model === 'string' ? model : `${model.provider}:${model.modelId}`;
}

function isModelObject(value: AgentSetting): value is LanguageModelV3 {
  return typeof value === 'object' && 'specificationVersion' in value;
}

function resolveAgent(setting: AgentSetting, preset: PresetSettings, path: string): ResolvedAgent {
  const spec = typeof setting === 'string' || isModelObject(setting) ? { model: setting } : setting;
  const temperature = ('temperature' in spec ? spec.temperature : undefined) ?? preset.temperature ?? DEFAULT_TEMPERATURE;
  const maxTokens = ('maxTokens' in spec ? spec.maxTokens : undefined) ?? preset.maxTokens;
  const system = ('system' in spec ? spec.system : undefined) ?? preset.system;
  const name = 'name' in spec ? spec.name : undefined;
  const fallbacks = 'fallbacks' in spec ? (spec.fallbacks ?? []) : [];
  return {
    model: spec.model,
    label: modelLabel(spec.model),
    path,
    ...(name !== undefined ? { name } : {}),
    temperature,
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    ...(system !== undefined ? { system } : {}),
    fallbacks,
  };
}

function checkPolicy(
  layer: { agents: unknown[]; minSuccessful: number; quorum?: number; graceMs?: number },
  path: string,
): void {
  const count = layer.agents.length;
  const at = (field: string): string => (path ? `${path}.${field}` : field);
  if (layer.minSuccessful > count) {
    throw new ConfigError(
      `Invalid configuration at ${at('minSuccessful')}: ${layer.minSuccessful} is more than the layer's ${count} agent(s)`,
      { path: at('minSuccessful') },
    );
  }
  if (layer.quorum !== undefined && layer.quorum > count) {
    throw new ConfigError(`Invalid configuration at ${at('quorum')}: ${layer.quorum} is more than the layer's ${count} agent(s)`, {
      path: at('quorum'),
    });
  }
  if (layer.graceMs !== undefined && layer.quorum === undefined) {
    throw new ConfigError(`Invalid configuration at ${at('graceMs')}: graceMs needs a quorum (how many answers to wait for first)`, {
      path: at('graceMs'),
    });
  }
}

export function resolvePreset(input: PresetInput | unknown, options: ResolveOptions = {}): ResolvedPreset {
  const prefix = options.path ?? [];
  const at = (...rest: PropertyKey[]): string => formatPath([...prefix, ...rest]);
  const preset = validate(presetSchema, input, prefix, options.source);

  const proposerLayers: ResolvedLayer[] = [];
  const layerSpecs =
    typeof preset.layers === 'number' || preset.layers === undefined
      ? Array.from({ length: (preset.layers ?? (preset.proposers ? DEFAULT_LAYERS_WITH_PROPOSERS : 1)) - 1 }, () => ({}))
      : preset.layers;
  layerSpecs.forEach((spec: NonNullable<Exclude<PresetSettings['layers'], number>>[number] | Record<string, never>, index) => {
    const own = 'proposers' in spec ? spec.proposers : undefined;
    const list = own ?? preset.proposers;
    const listPath = own ? ['layers', index, 'proposers'] : ['proposers'];
    if (!list) {
      throw new ConfigError(
        `Invalid configuration at ${at('proposers')}: ${typeof preset.layers === 'number' ? `layers: ${preset.layers}` : `layers[${index}]`} needs proposers; list them under "proposers" or set layers: 1`,
        { path: at('proposers') },
      );
    }
    const layer: ResolvedLayer = {
      agents: list.map((setting, agentIndex) => resolveAgent(setting, preset, at(...listPath, agentIndex))),
      aggregator: false,
      minSuccessful: ('minSuccessful' in spec ? spec.minSuccessful : undefined) ?? preset.minSuccessful ?? 1,
    };
    const quorum = ('quorum' in spec ? spec.quorum : undefined) ?? preset.quorum;
    const graceMs = ('graceMs' in spec ? spec.graceMs : undefined) ?? preset.graceMs;
    checkPolicy(
      { ...layer, ...(quorum !== undefined ? { quorum } : {}), ...(graceMs !== undefined ? { graceMs } : {}) },
      typeof preset.layers === 'object' ? at('layers', index) : at(),
    );
    if (quorum !== undefined) {
      layer.quorum = quorum;
      layer.graceMs = graceMs ?? 0;
    }
    proposerLayers.push(layer);
  });

  const aggregator = resolveAgent(preset.aggregator, preset, at('aggregator'));
  let synthesisPrompt = preset.synthesisPrompt ?? DEFAULT_SYNTHESIS_PROMPT;
  if (preset.synthesisPromptFile) {
    const file = resolvePath(options.baseDir ?? process.cwd(), preset.synthesisPromptFile);
    try {
      synthesisPrompt = readFileSync(file, 'utf8');
    } catch (error) {
      throw new ConfigError(
        `Invalid configuration at ${at('synthesisPromptFile')}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`,
        { path: at('synthesisPromptFile') },
      );
    }
    if (!synthesisPrompt.trim()) {
      throw new ConfigError(`Invalid configuration at ${at('synthesisPromptFile')}: ${file} is empty`, {
        path: at('synthesisPromptFile'),
      });
    }
  }
  return {
    ...(options.name !== undefined ? { name: options.name } : {}),
    layers: [...proposerLayers, { agents: [aggregator], aggregator: true, minSuccessful: 1 }],
    synthesisPrompt,
    ...(preset.timeoutMs !== undefined ? { timeoutMs: preset.timeoutMs } : {}),
    ...(preset.attemptTimeoutMs !== undefined ? { attemptTimeoutMs: preset.attemptTimeoutMs } : {}),
    ...(preset.toolLoop !== undefined ? { toolLoop: preset.toolLoop } : {}),
    ...(preset.maxRetries !== undefined ? { maxRetries: preset.maxRetries } : {}),
  };
}

export function planLayers(preset: ResolvedPreset): PlannedLayer[] {
  return preset.layers.map((layer) => ({
    agents: layer.agents.map((agent) => ({ model: agent.label, ...(agent.name !== undefined ? { name: agent.name } : {}) })),
    aggregator: layer.aggregator,
    minSuccessful: layer.minSuccessful,
    ...(layer.quorum !== undefined ? { quorum: layer.quorum } : {}),
    ...(layer.graceMs !== undefined ? { graceMs: layer.graceMs } : {}),
  }));
}

export function isResolvedPreset(value: unknown): value is ResolvedPreset {
  return (
    typeof value === 'object' &&
    value !== null &&
    Array.isArray((value as ResolvedPreset).layers) &&
    typeof (value as ResolvedPreset).synthesisPrompt === 'string'
  );
}
