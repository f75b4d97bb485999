/**
 * `local:<file.gguf>`: GGUF models run in-process through node-llama-cpp,
 * behind the AI SDK LanguageModelV3 interface.
 *
 * The factory checks the file when a model is resolved (missing / not GGUF is
 * a ConfigError before any call), loads it on the first call, and holds one
 * reference to each model it loaded until `close()`; the model itself is
 * shared process-wide with every other factory naming the same file.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { ConfigError } from '../../util/errors.js';
import { checkGgufFile } from './gguf-file.js';
import { emitLocalWarning, type WarningSink } from './llama-instance.js';
import { acquireModel, releaseModel, type LoadedModel } from './loaded-models.js';
import { assertNodeLlamaCpp } from './node-llama-cpp.js';
import { runtimeSettings } from './runtime-settings.js';
import { LocalLanguageModel } from './local-language-model.js';
import { resolveLocalModelPath } from './models-dir.js';

export interface LocalProviderOptions {
  env: Record<string, string | undefined>;
  /** The provider's name in model labels (default `local`). */
  providerName?: string;
  /** Where one-time notes go (default: the runtime's sink, a line on stderr). */
  onWarning?: WarningSink;
}

export type LocalModelFactory = ((modelId: string) => LanguageModelV3) & { close: () => Promise<void> };

/** Files already warned about (no chat template): one note per file and sink per process. */
const warnedFallback = new WeakMap<WarningSink, Set<string>>();

function warnOnce(sink: WarningSink, path: string, message: string): void {
  let warned = warnedFallback.get(sink);
  if (!warned) warnedFallback.set(sink, (warned = new Set()));
  if (warned.has(path)) return;
  warned.add(path);
  sink(message);
}

export function createLocalModelFactory(options: LocalProviderOptions): LocalModelFactory {
  const env = options.env;
  const providerName = options.providerName ?? 'local';
  const settings = runtimeSettings(env);
  const warn = options.onWarning ?? emitLocalWarning;
  /** Model files this factory holds a reference to (the acquisition, settled or not). */
  const held = new Map<string, Promise<LoadedModel>>();
  const models = new Map<string, LocalLanguageModel>();
  let closed = false;

  const factory = (modelId: string): LanguageModelV3 => {
    if (closed) throw new ConfigError(`Model "${providerName}:${modelId}": the model registry was closed`, { code: 'registry_closed' });
    const existing = models.get(modelId);
    if (existing) return existing;
    const label = `${providerName}:${modelId}`;
    if (!modelId.trim()) {
      throw new ConfigError(`Model "${label}" names no file: write ${providerName}:<file.gguf> (looked up in the models folder) or ${providerName}:/path/to/model.gguf`, {
        code: 'local_model_missing',
      });
    }
    const path = resolveLocalModelPath(modelId, env);
    const fileSize = checkGgufFile(path, label, env);
    // Before any call: a machine without the optional runtime gets told how to add it.
    assertNodeLlamaCpp(label);
    const model = new LocalLanguageModel({
      provider: providerName,
      modelId,
      path,
      load: () => {
        if (closed) return Promise.reject(new ConfigError(`Model "${label}": the model registry was closed`, { code: 'registry_closed' }));
        let acquisition = held.get(path);
        if (!acquisition) {
          acquisition = acquireModel(path, label, fileSize, settings);
          held.set(path, acquisition);
          const mine = acquisition;
          // A failed load holds no reference: forget it so the next call tries again.
          mine.catch(() => {
            if (held.get(path) === mine) held.delete(path);
          });
        }
        return acquisition;
      },
      onFallbackTemplate: (loaded) =>
        warnOnce(
          warn,
          loaded.path,
          `${loaded.path} has no chat template; ${label} uses a general prompt format (### User / ### Response). Answers may be weaker than with the model's own template.`,
        ),
    });
    models.set(modelId, model);
    return model;
  };

  factory.close = async (): Promise<void> => {
    closed = true;
    const acquisitions = [...held.entries()];
    held.clear();
    models.clear();
    await Promise.all(
      acquisitions.map(async ([path, acquisition]) => {
        const loaded = await acquisition.then(
          () => true,
          () => false,
        );
        if (loaded) await releaseModel(path);
      }),
    );
  };

  return factory;
}
