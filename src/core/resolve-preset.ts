/**
 * User preset (as written) → resolved preset (defaults applied, validated,
 * every layer spelled out). The engine only ever runs resolved presets.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { ConfigError } from '../util/errors.js';
import { formatPath, presetSchema, type AggregationInput, type LayerKind, type PresetInput, type PresetSettings } from './config-schema.js';
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
}

/** When a synthesizing agent may start and what it sees (config-schema.ts, aggregationSchema). */
export type AggregationPolicy =
  { mode: 'barrier' } | { mode: 'early'; after: number; deadlineMs?: number; maxRestarts: number } | { mode: 'staircase'; chunkTokens: number; growth: number };

export const DEFAULT_MAX_RESTARTS = 2;
export const DEFAULT_CHUNK_TOKENS = 32;
export const DEFAULT_CHUNK_GROWTH = 2;

export interface ResolvedLayer {
  agents: ResolvedAgent[];
  /** True for the final layer, whose single agent (or `samples` copies) writes the answer. */
  aggregator: boolean;
  /** What the layer does: answer alone, answer from the previous layer's answers, or rank them. */
  kind: LayerKind;
  /** How this layer's agents consume the previous layer (barrier for propose and rank layers). */
  aggregation: AggregationPolicy;
  minSuccessful: number;
  quorum?: number;
  graceMs?: number;
  /** Cut each reference this layer reads to about this many tokens. */
  referenceMaxTokens?: number;
  /** The aggregator: synthesize this many references at a time, carrying the running synthesis on (Self-MoA-Seq). */
  window?: number;
}

export interface StopWhen {
  agreement: number;
  embeddingModel?: string;
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
  /** Skip the remaining intermediate layers once a layer's answers agree. */
  stopWhen?: StopWhen;
}

export interface ResolveOptions {
  name?: string;
  /** Path prefix for error messages, e.g. ['presets', 'quick']. */
  path?: ReadonlyArray<PropertyKey>;
  /** Where relative `synthesisPromptFile` paths are resolved (the config file's folder). */
  baseDir?: string;
  /**
   * Reads a `synthesisPromptFile` (a path, resolved against `baseDir`). The engine does no I/O of
   * its own, so it runs in browsers and edge runtimes: on Node, `readTextFile` of `moa-engine/node`
   * (loadConfig and the CLI, server and batch runner pass it); without one, a preset naming a
   * file is a ConfigError that says so.
   */
  readFile?: (path: string) => string;
  source?: string;
}

/** `dir/file` unless `file` is absolute (POSIX or Windows): no node:path in the engine. */
function joinPath(baseDir: string | undefined, file: string): string {
  if (baseDir === undefined || /^([a-zA-Z]:)?[\\/]/.test(file)) return file;
  return `${baseDir.replace(/[\\/]+$/, '')}/${file}`;
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

function checkPolicy(layer: { agents: unknown[]; minSuccessful: number; quorum?: number; graceMs?: number }, path: string): void {
  const count = layer.agents.length;
  const at = (field: string): string => (path ? `${path}.${field}` : field);
  if (layer.minSuccessful > count) {
    throw new ConfigError(`Invalid configuration at ${at('minSuccessful')}: ${layer.minSuccessful} is more than the layer's ${count} agent(s)`, {
      path: at('minSuccessful'),
    });
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

function resolveAggregation(input: AggregationInput | undefined, previousAgents: number, path: string): AggregationPolicy {
  if (input === undefined || input === 'barrier' || input.mode === 'barrier') return { mode: 'barrier' };
  if (input.mode === 'early') {
    const after = input.after ?? Math.max(1, previousAgents - 1);
    if (after > previousAgents) {
      throw new ConfigError(`Invalid configuration at ${path}.after: ${after} is more than the previous layer's ${previousAgents} agent(s)`, {
        path: `${path}.after`,
      });
    }
    return {
      mode: 'early',
      after,
      ...(input.deadlineMs !== undefined ? { deadlineMs: input.deadlineMs } : {}),
      maxRestarts: input.maxRestarts ?? DEFAULT_MAX_RESTARTS,
    };
  }
  return { mode: 'staircase', chunkTokens: input.chunkTokens ?? DEFAULT_CHUNK_TOKENS, growth: input.growth ?? DEFAULT_CHUNK_GROWTH };
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
    const layerPath = typeof preset.layers === 'object' ? at('layers', index) : at();
    const kind: LayerKind = ('kind' in spec ? spec.kind : undefined) ?? (index === 0 ? 'propose' : 'synthesize');
    const previous = proposerLayers[index - 1];
    if (kind === 'rank' && !previous) {
      throw new ConfigError(`Invalid configuration at ${at('layers', index, 'kind')}: a rank layer needs a layer before it whose answers it ranks`, {
        path: at('layers', index, 'kind'),
      });
    }
    const own = 'proposers' in spec ? spec.proposers : undefined;
    // A rank layer's reviewers default to the models of the layer they review.
    const list = own ?? (kind === 'rank' ? undefined : preset.proposers);
    const listPath = own ? ['layers', index, 'proposers'] : ['proposers'];
    if (!list && kind === 'rank') {
      const reviewers = previous!.agents.map((agent) => ({ ...agent }));
      proposerLayers.push({
        agents: reviewers,
        aggregator: false,
        kind,
        aggregation: { mode: 'barrier' },
        minSuccessful: ('minSuccessful' in spec ? spec.minSuccessful : undefined) ?? 1,
      });
      return;
    }
    if (!list) {
      throw new ConfigError(
        `Invalid configuration at ${at('proposers')}: ${typeof preset.layers === 'number' ? `layers: ${preset.layers}` : `layers[${index}]`} needs proposers; list them under "proposers" or set layers: 1`,
        { path: at('proposers') },
      );
    }
    const aggregationInput = 'aggregation' in spec ? spec.aggregation : undefined;
    if (aggregationInput !== undefined && kind !== 'synthesize') {
      throw new ConfigError(
        `Invalid configuration at ${layerPath}.aggregation: a ${kind} layer ${kind === 'propose' ? 'reads no references' : 'needs every answer whole'}; aggregation applies to synthesize layers`,
        { path: `${layerPath}.aggregation` },
      );
    }
    const referenceMaxTokens = ('referenceMaxTokens' in spec ? spec.referenceMaxTokens : undefined) ?? preset.referenceMaxTokens;
    list.forEach((setting, agentIndex) => {
      for (const field of ['aggregation', 'window'] as const) {
        if (typeof setting === 'object' && !('specificationVersion' in setting) && setting[field] !== undefined) {
          const path = at(...listPath, agentIndex, field);
          throw new ConfigError(
            `Invalid configuration at ${path}: only the aggregator takes "${field}"${field === 'aggregation' ? ' (set it on the layer for proposers)' : ''}`,
            { path },
          );
        }
      }
    });
    const layer: ResolvedLayer = {
      agents: list.map((setting, agentIndex) => resolveAgent(setting, preset, at(...listPath, agentIndex))),
      aggregator: false,
      kind,
      aggregation:
        kind === 'synthesize' && previous
          ? resolveAggregation(
              aggregationInput ?? preset.aggregation,
              previous.agents.length,
              aggregationInput !== undefined ? `${layerPath}.aggregation` : at('aggregation'),
            )
          : { mode: 'barrier' },
      minSuccessful: ('minSuccessful' in spec ? spec.minSuccessful : undefined) ?? preset.minSuccessful ?? 1,
      ...(referenceMaxTokens !== undefined && kind !== 'propose' ? { referenceMaxTokens } : {}),
    };
    const quorum = ('quorum' in spec ? spec.quorum : undefined) ?? preset.quorum;
    const graceMs = ('graceMs' in spec ? spec.graceMs : undefined) ?? preset.graceMs;
    checkPolicy({ ...layer, ...(quorum !== undefined ? { quorum } : {}), ...(graceMs !== undefined ? { graceMs } : {}) }, layerPath);
    if (quorum !== undefined) {
      layer.quorum = quorum;
      layer.graceMs = graceMs ?? 0;
    }
    proposerLayers.push(layer);
  });

  const aggregator = resolveAgent(preset.aggregator, preset, at('aggregator'));
  const aggregatorSpec = typeof preset.aggregator === 'object' && !('specificationVersion' in preset.aggregator) ? preset.aggregator : undefined;
  const lastProposers = proposerLayers[proposerLayers.length - 1];
  const finalAggregation = lastProposers
    ? resolveAggregation(
        aggregatorSpec?.aggregation ?? preset.aggregation,
        lastProposers.agents.length,
        aggregatorSpec?.aggregation !== undefined ? at('aggregator', 'aggregation') : at('aggregation'),
      )
    : ({ mode: 'barrier' } as const);
  const window = aggregatorSpec?.window;
  if (window !== undefined && finalAggregation.mode !== 'barrier') {
    throw new ConfigError(
      `Invalid configuration at ${at('aggregator', 'window')}: a windowed aggregator reads whole references, so it cannot use ${finalAggregation.mode} aggregation`,
      { path: at('aggregator', 'window') },
    );
  }
  let synthesisPrompt = preset.synthesisPrompt ?? DEFAULT_SYNTHESIS_PROMPT;
  if (preset.synthesisPromptFile) {
    const file = joinPath(options.baseDir, preset.synthesisPromptFile);
    if (!options.readFile) {
      throw new ConfigError(
        `Invalid configuration at ${at('synthesisPromptFile')}: the engine reads no files; give the prompt's text as synthesisPrompt, ` +
          `or resolve the preset where files can be read (loadConfig or resolvePreset with readFile: readTextFile, both from moa-engine/node)`,
        { path: at('synthesisPromptFile') },
      );
    }
    try {
      synthesisPrompt = options.readFile(file);
    } catch (error) {
      throw new ConfigError(`Invalid configuration at ${at('synthesisPromptFile')}: cannot read ${file} (${(error as { code?: string }).code ?? String(error)})`, {
        path: at('synthesisPromptFile'),
      });
    }
    if (!synthesisPrompt.trim()) {
      throw new ConfigError(`Invalid configuration at ${at('synthesisPromptFile')}: ${file} is empty`, {
        path: at('synthesisPromptFile'),
      });
    }
  }
  return {
    ...(options.name !== undefined ? { name: options.name } : {}),
    layers: [
      ...proposerLayers,
      {
        agents: [aggregator],
        aggregator: true,
        kind: lastProposers ? 'synthesize' : 'propose',
        aggregation: finalAggregation,
        minSuccessful: 1,
        ...(preset.referenceMaxTokens !== undefined && lastProposers ? { referenceMaxTokens: preset.referenceMaxTokens } : {}),
        ...(window !== undefined ? { window } : {}),
      },
    ],
    synthesisPrompt,
    ...(preset.timeoutMs !== undefined ? { timeoutMs: preset.timeoutMs } : {}),
    ...(preset.attemptTimeoutMs !== undefined ? { attemptTimeoutMs: preset.attemptTimeoutMs } : {}),
    ...(preset.toolLoop !== undefined ? { toolLoop: preset.toolLoop } : {}),
    ...(preset.stopWhen !== undefined ? { stopWhen: preset.stopWhen } : {}),
    ...(preset.maxRetries !== undefined ? { maxRetries: preset.maxRetries } : {}),
  };
}

export function planLayers(preset: ResolvedPreset): PlannedLayer[] {
  return preset.layers.map((layer) => ({
    agents: layer.agents.map((agent) => ({ model: agent.label, ...(agent.name !== undefined ? { name: agent.name } : {}) })),
    aggregator: layer.aggregator,
    kind: layer.kind,
    ...(layer.aggregation.mode !== 'barrier' ? { aggregation: layer.aggregation } : {}),
    ...(layer.referenceMaxTokens !== undefined ? { referenceMaxTokens: layer.referenceMaxTokens } : {}),
    ...(layer.window !== undefined ? { window: layer.window } : {}),
    minSuccessful: layer.minSuccessful,
    ...(layer.quorum !== undefined ? { quorum: layer.quorum } : {}),
    ...(layer.graceMs !== undefined ? { graceMs: layer.graceMs } : {}),
  }));
}

export function isResolvedPreset(value: unknown): value is ResolvedPreset {
  return typeof value === 'object' && value !== null && Array.isArray((value as ResolvedPreset).layers) && typeof (value as ResolvedPreset).synthesisPrompt === 'string';
}
