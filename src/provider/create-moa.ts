/**
 * MoA as an AI SDK provider, so any AI SDK app can use a preset wherever it uses a model:
 *
 *   import { generateText } from 'ai';
 *   import { createMoA } from 'moa-engine/provider';
 *   const moa = createMoA();                          // ./moa.config.yaml or $MOA_CONFIG, else built-ins
 *   const { text } = await generateText({ model: moa('moa-lite'), prompt: 'Why is the sky blue?' });
 *   await moa.close();                                // release provider connections and local models
 *
 * `config` is a config file's path or a config object (the moa.config.yaml contract, merged over
 * the built-in presets). `moa()` with no name is the default preset, chosen the way the CLI
 * and the server choose it (the config's defaultPreset, else what this machine has). Every
 * model of one provider shares one registry, so provider limits hold across calls.
 */
import { NoSuchModelError, type LanguageModelV3, type ProviderV3 } from '@ai-sdk/provider';
import { BUILTIN_PRESETS } from '../core/builtin-presets.js';
import { configFileSchema, type ConfigFileInput } from '../core/config-schema.js';
import { loadConfig, type LoadedConfig } from '../node/load-config.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import { validate } from '../core/validate.js';
import { createModelRegistry, type ModelRegistry } from '../models/registry.js';
import { choosePresetsForServer, createPresetCatalog, type PresetCatalog, type ServerPresetConfig } from '../node/preset-catalog.js';
import { ConfigError } from '../util/errors.js';
import { MoALanguageModel, type ModelRunOptions } from './moa-language-model.js';
import '../models/local/register-local-provider.js'; // the local: provider (GGUF through node-llama-cpp) in this Node face's registries

export interface MoAProviderSettings extends ModelRunOptions {
  /** A config file's path, or a config object; default: ./moa.config.yaml, $MOA_CONFIG, else the built-in presets. */
  config?: string | ConfigFileInput;
  /** Where provider keys come from; default process.env. */
  env?: Record<string, string | undefined>;
  /** Folder relative paths in the config resolve against (a config object's synthesisPromptFile); default the working directory. */
  cwd?: string;
  /** A registry to use instead of building one (the provider then does not close it). */
  registry?: ModelRegistry;
}

export interface MoAProvider extends ProviderV3 {
  /** The preset as a model; the default preset when no name is given. */
  (preset?: string): LanguageModelV3;
  languageModel(preset?: string): LanguageModelV3;
  /** The preset names (built-in and from the config). */
  readonly presets: readonly string[];
  /** Releases provider connections and local models (when the provider built its registry). */
  close(): Promise<void>;
}

/** A config object, checked like a config file and merged over the built-in presets. */
function configFromObject(input: ConfigFileInput, cwd: string): ServerPresetConfig {
  const config = validate(configFileSchema, input, [], 'createMoA({ config })');
  return {
    presets: { ...BUILTIN_PRESETS, ...(config.presets ?? {}) },
    providers: config.providers ?? {},
    ...(config.defaultPreset !== undefined ? { defaultPreset: config.defaultPreset } : {}),
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    ...(config.maxRetries !== undefined ? { maxRetries: config.maxRetries } : {}),
    prices: config.prices ?? {},
    baseDir: cwd,
  };
}

/**
 * MoA presets as an AI SDK provider: `moa(name)` is a LanguageModelV3 for generateText,
 * streamText, generateObject and tool loops.
 *
 * @example
 * ```ts
 * import { generateText } from 'ai';
 * import { createMoA } from 'moa-engine/provider';
 *
 * const moa = createMoA({ maxRetries: 2 }); // ./moa.config.yaml or $MOA_CONFIG, else the built-in presets
 * const { text } = await generateText({ model: moa('moa-lite'), prompt: 'Why is the sky blue?' });
 * console.log(text, moa.presets);
 * await moa.close();
 * ```
 */
export function createMoA(settings: MoAProviderSettings = {}): MoAProvider {
  const env = settings.env ?? process.env;
  const cwd = settings.cwd ?? process.cwd();
  const { config: configSetting, env: _env, cwd: _cwd, registry: givenRegistry, ...runOptions } = settings;
  const config: LoadedConfig | ServerPresetConfig =
    typeof configSetting === 'object' ? configFromObject(configSetting, cwd) : loadConfig({ env, cwd, ...(configSetting ? { configPath: configSetting } : {}) });
  if (typeof configSetting === 'object' && config.defaultPreset !== undefined && !Object.hasOwn(config.presets, config.defaultPreset)) {
    throw new ConfigError(`createMoA({ config }): defaultPreset "${config.defaultPreset}" is not a preset (available: ${Object.keys(config.presets).join(', ')})`, {
      path: 'defaultPreset',
    });
  }
  const registry = givenRegistry ?? createModelRegistry({ providers: config.providers ?? {}, env });
  // The machine default and self-moa's model are looked up once, on the first call that needs them (it may probe Ollama).
  let catalog: Promise<PresetCatalog> | undefined;
  const catalogOf = (): Promise<PresetCatalog> => {
    catalog ??= (async () => {
      const loaded = typeof (config as LoadedConfig).resolve === 'function';
      return createPresetCatalog(config, loaded ? await choosePresetsForServer(config as LoadedConfig, env) : {});
    })();
    return catalog;
  };
  const names = Object.keys(config.presets);
  const timing = {
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    ...(config.maxRetries !== undefined ? { maxRetries: config.maxRetries } : {}),
    ...runOptions,
  };

  const languageModel = (preset?: string): LanguageModelV3 => {
    if (preset !== undefined && !names.includes(preset) && preset !== 'default') {
      throw new NoSuchModelError({ modelId: preset, modelType: 'languageModel', message: `No MoA preset "${preset}" (presets: ${names.join(', ')})` });
    }
    const resolve = async (): Promise<ResolvedPreset> => {
      const presets = await catalogOf();
      const name = preset ?? presets.defaultName;
      if (name === undefined) {
        throw new ConfigError(`No default preset: name one, e.g. moa('${presets.names[0] ?? 'moa'}'), or set defaultPreset in the config`, { code: 'no_preset' });
      }
      return presets.resolve(name);
    };
    return new MoALanguageModel(preset ?? 'default', { preset: resolve, registry, runOptions: timing });
  };

  const provider = ((preset?: string) => languageModel(preset)) as MoAProvider;
  Object.assign(provider, {
    specificationVersion: 'v3' as const,
    languageModel,
    presets: names,
    embeddingModel(modelId: string): never {
      throw new NoSuchModelError({ modelId, modelType: 'embeddingModel', message: 'MoA offers language models only' });
    },
    imageModel(modelId: string): never {
      throw new NoSuchModelError({ modelId, modelType: 'imageModel', message: 'MoA offers language models only' });
    },
    async close() {
      if (!givenRegistry) await registry.close();
    },
  });
  return provider;
}
