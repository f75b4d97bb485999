/**
 * Which preset a request runs when it names none, shared by the CLI and the
 * server: the config's `defaultPreset`, else the zero-key default built from
 * what the machine has (keys, then Ollama, then a local model). `self-moa`
 * runs over that same default model unless the config defines its own.
 */
import { listOllamaModels, type OllamaModelInfo } from '../models/ollama-models.js';
import { ConfigError } from '../util/errors.js';
import type { PresetInput } from '../core/config-schema.js';
import { chooseDefaultPreset, keyedProviders, selfMoAPreset, type DefaultChoice } from '../core/machine-default.js';
import type { LoadedConfig } from './load-config.js';

export interface PresetChoice {
  name: string;
  input: PresetInput;
  /** Set when the machine's default was used: what was picked, for stderr. */
  detected?: DefaultChoice;
}

export interface PresetChoiceOptions {
  env: Record<string, string | undefined>;
  /** Lists an Ollama server's models (default: GET $OLLAMA_HOST/api/tags with a 1 s timeout). */
  listOllama?: () => Promise<OllamaModelInfo[] | undefined>;
}

/** The machine's default (probing Ollama only when no key is set). */
export async function detectDefault(options: PresetChoiceOptions): Promise<DefaultChoice> {
  const needsProbe = keyedProviders(options.env).length === 0;
  const ollama = needsProbe ? await (options.listOllama ?? (() => listOllamaModels(options.env)))() : undefined;
  return chooseDefaultPreset(options.env, ollama);
}

/**
 * The preset named `name` (or the default when undefined), with `self-moa`
 * bound to the machine's default model. Throws ConfigError for an unknown name,
 * and when a config defines presets but names no defaultPreset.
 */
export async function choosePresetInput(config: LoadedConfig, name: string | undefined, options: PresetChoiceOptions): Promise<PresetChoice> {
  const chosen = name ?? config.defaultPreset;
  if (chosen !== undefined) {
    const input = config.presetInput(chosen);
    if (chosen === 'self-moa' && !config.configPresetNames.includes('self-moa')) {
      const detected = await detectDefault(options);
      return { name: chosen, input: selfMoAPreset(detected.primaryModel), detected };
    }
    return { name: chosen, input };
  }
  if (config.configPresetNames.length > 0) {
    throw new ConfigError(
      `No preset chosen and ${config.path ?? 'the config'} names no defaultPreset. Pass --preset NAME ` +
        `(yours: ${config.configPresetNames.join(', ')}), or set defaultPreset in the config`,
      { code: 'no_preset', path: 'defaultPreset' },
    );
  }
  const detected = await detectDefault(options);
  return { name: detected.name, input: detected.preset, detected };
}
