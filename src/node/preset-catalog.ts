/**
 * The presets a server offers as "models": names (the default first), each
 * resolved once and reused by every request, and the per-request aggregator
 * settings (temperature, max_tokens) applied to a copy.
 */
import type { PresetInput, ProviderSettings } from '../core/config-schema.js';
import type { LoadedConfig } from './load-config.js';
import { selfMoAPreset, type DefaultChoice } from '../core/machine-default.js';
import { choosePresetInput } from './preset-choice.js';
import { resolvePreset, type ResolvedPreset } from '../core/resolve-preset.js';
import type { ModelRegistry } from '../models/registry.js';
import { ConfigError } from '../util/errors.js';
import { readTextFile } from './read-text-file.js';

/** Presets given directly (e.g. from code or tests) instead of a loaded config file. */
export interface ServerPresetConfig {
  presets: Record<string, PresetInput>;
  providers?: Record<string, ProviderSettings>;
  defaultPreset?: string;
  timeoutMs?: number;
  maxRetries?: number;
  prices?: Record<string, { input: number; output: number }>;
  /** Where relative synthesisPromptFile paths resolve (default: the working directory). */
  baseDir?: string;
}

export interface PresetCatalog {
  /** Every preset name, the default first. */
  readonly names: readonly string[];
  readonly defaultName: string | undefined;
  readonly providers: Record<string, ProviderSettings>;
  readonly timeoutMs: number | undefined;
  readonly maxRetries: number | undefined;
  /** USD per million tokens by "provider:model-id" (the config's `prices`), for costs in answers. */
  readonly prices: Readonly<Record<string, { input: number; output: number }>>;
  /** The resolved preset; throws ConfigError (code unknown_preset) naming the available ones. */
  resolve(name: string): ResolvedPreset;
}

/** Whether this server can run a preset: every model and fallback resolves (known provider, key set, local file there). */
export type PresetAvailability = { runnable: true } | { runnable: false; reason: string; code: string };

export function presetAvailability(catalog: PresetCatalog, registry: ModelRegistry, name: string): PresetAvailability {
  try {
    for (const layer of catalog.resolve(name).layers) {
      for (const agent of layer.agents) {
        registry.resolve(agent.model, agent.path);
        agent.fallbacks.forEach((fallback, index) => registry.resolve(fallback, `${agent.path}.fallbacks[${index}]`));
      }
    }
    return { runnable: true };
  } catch (error) {
    if (error instanceof ConfigError) return { runnable: false, reason: error.message, code: error.code };
    throw error;
  }
}

function isLoadedConfig(config: LoadedConfig | ServerPresetConfig): config is LoadedConfig {
  return typeof (config as LoadedConfig).resolve === 'function';
}

/** Presets chosen at startup from the machine (see core/preset-choice.ts): the default, and `self-moa` bound to its model. */
export interface MachinePresets {
  /** The preset a client gets listed first (the config's defaultPreset, or e.g. "default" built from the keys found). */
  defaultPreset?: { name: string; input: PresetInput };
  /** Inputs that replace a listed preset's, e.g. the built-in `self-moa` over this machine's default model. */
  overrides?: Record<string, PresetInput>;
  /** What the machine default was built from, when the default came from the machine (not the config). */
  detected?: DefaultChoice;
}

/**
 * What the CLI would run without --preset, and `self-moa` over that model: chosen
 * once at startup (it may probe Ollama). A config that defines presets but no
 * defaultPreset simply has no default model.
 */
export async function choosePresetsForServer(config: LoadedConfig, env: Record<string, string | undefined>): Promise<MachinePresets> {
  const chosen: MachinePresets = {};
  try {
    const choice = await choosePresetInput(config, undefined, { env });
    chosen.defaultPreset = { name: choice.name, input: choice.input };
    if (choice.detected) chosen.detected = choice.detected;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
  }
  if (Object.hasOwn(config.presets, 'self-moa') && !config.configPresetNames.includes('self-moa')) {
    try {
      // The machine was probed once already when the default came from it: bind self-moa to the same model.
      const input = chosen.detected ? selfMoAPreset(chosen.detected.primaryModel) : (await choosePresetInput(config, 'self-moa', { env })).input;
      chosen.overrides = { 'self-moa': input };
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
    }
  }
  return chosen;
}

export function createPresetCatalog(config: LoadedConfig | ServerPresetConfig, machine: MachinePresets = {}): PresetCatalog {
  const loaded = isLoadedConfig(config);
  const extra: Record<string, PresetInput> = { ...machine.overrides };
  if (machine.defaultPreset && !Object.hasOwn(config.presets, machine.defaultPreset.name)) extra[machine.defaultPreset.name] = machine.defaultPreset.input;
  const declared = [...new Set([...Object.keys(config.presets), ...Object.keys(extra)])];
  const resolveUncached = (name: string): ResolvedPreset => {
    if (!declared.includes(name)) {
      throw new ConfigError(`Unknown model "${name}": this server offers the presets ${declared.join(', ')} (GET /v1/models lists them)`, {
        code: 'unknown_preset',
        path: 'model',
      });
    }
    const own = extra[name];
    if (own) return resolvePreset(own, { name, path: ['presets', name], readFile: readTextFile, ...(loaded ? { baseDir: config.baseDir } : {}) });
    if (loaded) return config.resolve(name);
    return resolvePreset(config.presets[name], { name, path: ['presets', name], readFile: readTextFile, ...(config.baseDir ? { baseDir: config.baseDir } : {}) });
  };
  const candidate = machine.defaultPreset?.name ?? config.defaultPreset;
  const defaultName = candidate !== undefined && declared.includes(candidate) ? candidate : undefined;
  const names = defaultName !== undefined ? [defaultName, ...declared.filter((name) => name !== defaultName)] : declared;
  const cache = new Map<string, ResolvedPreset>();
  return {
    names,
    defaultName,
    providers: config.providers ?? {},
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
    prices: config.prices ?? {},
    resolve(name) {
      let preset = cache.get(name);
      if (!preset) {
        preset = resolveUncached(name);
        cache.set(name, preset);
      }
      return preset;
    },
  };
}

/**
 * The preset with the request's temperature / max tokens applied to its final
 * layer (the aggregator and any other agent of that layer). Proposers keep the
 * preset's settings: they are the ensemble, the request shapes the answer.
 * The shared preset is never mutated.
 */
export function withAggregatorSettings(preset: ResolvedPreset, settings: { temperature?: number; maxTokens?: number }): ResolvedPreset {
  if (settings.temperature === undefined && settings.maxTokens === undefined) return preset;
  const last = preset.layers.length - 1;
  return {
    ...preset,
    layers: preset.layers.map((layer, index) =>
      index !== last
        ? layer
        : {
            ...layer,
            agents: layer.agents.map((agent) => ({
              ...agent,
              ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
              ...(settings.maxTokens !== undefined ? { maxTokens: settings.maxTokens } : {}),
            })),
          },
    ),
  };
}
