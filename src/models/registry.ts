/**
 * Resolve "provider:model-id" names to AI SDK language models: one provider instance per name,
 * and the call scheduler's lane of that provider connection (shared by every registry of the
 * process that talks to the same connection: its limits hold for all of them together).
 */
import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import { defaultScheduler, type CallScheduler, type ConcurrencySetting, type Lane } from './call-scheduler.js';
import { providerCapabilities, type ProviderCapabilities } from './provider-capabilities.js';
import type { ProviderSettings } from './provider-schema.js';
import { ConfigError } from '../util/errors.js';
import { registerSecret } from '../util/redact.js';
import { createModelFactory, type FetchFunction, type ModelFactory } from './create-provider.js';
import { BUILTIN_PROVIDERS, type ProviderEntry } from './provider-catalog.js';

/** Calls in flight per provider unless its config pins a number: adaptive (AIMD, 16 to start, 1..256). */
export const DEFAULT_MAX_CONCURRENCY: ConcurrencySetting = 'auto';

export interface ResolvedModel {
  /** "provider:model-id" as written (or derived from a model object). */
  label: string;
  provider: string;
  modelId: string;
  model: LanguageModelV3;
  /**
   * The scheduler's line for this provider connection: concurrency (fixed or adaptive),
   * requests/tokens per minute, per-model pauses after a 429, priorities.
   */
  lane: Lane;
  /** What the provider's package can do: tools, logprobs, its providerOptions key. */
  capabilities: ProviderCapabilities;
  timeoutMs?: number;
  attemptTimeoutMs?: number;
  maxRetries?: number;
}

export interface ModelRegistry {
  /** Throws ConfigError (naming `path`) for an unknown provider or a missing API key. */
  resolve(model: string | LanguageModelV3, path?: string): ResolvedModel;
  /** An embedding model by "provider:model-id"; ConfigError when the provider has none. */
  resolveEmbedding(model: string, path?: string): EmbeddingModelV3;
  providerNames(): string[];
  /** Releases what the providers hold (local models are unloaded). Safe to call twice. */
  close(): Promise<void>;
}

export interface RegistryOptions {
  /** Custom providers from the config; a name shared with a built-in overrides it. */
  providers?: Record<string, ProviderSettings>;
  env?: Record<string, string | undefined>;
  fetch?: FetchFunction;
  /** Concurrency of providers whose config sets none, and of model objects (default 'auto'). */
  defaultMaxConcurrency?: ConcurrencySetting;
  /** Where calls wait their turn; default: the one scheduler of this process. */
  scheduler?: CallScheduler;
}

/**
 * AI SDK model objects hold no per-call state but cost a few milliseconds to
 * build (each compiles its response schemas), so models are shared across
 * registries with the same connection. Queues stay per registry.
 */
const MODEL_CACHE_LIMIT = 64;
const modelCache = new Map<string, Map<string, LanguageModelV3>>();

function cachedModels(key: string | undefined): Map<string, LanguageModelV3> {
  if (key === undefined) return new Map();
  let models = modelCache.get(key);
  if (models) {
    modelCache.delete(key); // keep the most recently used last
  } else {
    models = new Map();
    if (modelCache.size >= MODEL_CACHE_LIMIT) modelCache.delete(modelCache.keys().next().value!);
  }
  modelCache.set(key, models);
  return models;
}

interface ProviderState {
  factory: ModelFactory;
  models: Map<string, LanguageModelV3>;
  lane: Lane;
  capabilities: ProviderCapabilities;
  settings: ProviderSettings;
}

/** A short, stable fingerprint of a key (the lane's identity must not hold the key itself). */
function fingerprint(text: string | undefined): string {
  if (text === undefined) return '-';
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    h1 = Math.imul(h1 ^ code, 2654435761);
    h2 = Math.imul(h2 ^ code, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return (4294967296 * (2097151 & h2) + (h1 >>> 0)).toString(36);
}

export function splitModelName(name: string): { provider: string; modelId: string } {
  const colon = name.indexOf(':');
  return { provider: name.slice(0, colon), modelId: name.slice(colon + 1) };
}

function modelFor(state: ProviderState, modelId: string): LanguageModelV3 {
  let model = state.models.get(modelId);
  if (!model) {
    model = state.factory(modelId);
    state.models.set(modelId, model);
  }
  return model;
}

export function createModelRegistry(options: RegistryOptions = {}): ModelRegistry {
  // No `process` in browsers and edge runtimes: keys then come from `env` only.
  const env = options.env ?? globalThis.process?.env ?? {};
  const custom = options.providers ?? {};
  const states = new Map<string, ProviderState>();
  const scheduler = options.scheduler ?? defaultScheduler();
  const defaultConcurrency = options.defaultMaxConcurrency ?? DEFAULT_MAX_CONCURRENCY;

  function entryFor(name: string): ProviderEntry | undefined {
    const settings = custom[name];
    if (settings) {
      return {
        ...settings,
        apiKeyEnvs: settings.apiKeyEnv ? [settings.apiKeyEnv] : [],
        requiresKey: Boolean(settings.apiKeyEnv),
      };
    }
    return BUILTIN_PROVIDERS[name];
  }

  function providerState(name: string, path: string | undefined, modelName: string): ProviderState {
    const existing = states.get(name);
    if (existing) return existing;
    const entry = entryFor(name);
    const where = path ? ` at ${path}` : '';
    if (!entry) {
      const known = [...new Set([...Object.keys(BUILTIN_PROVIDERS), ...Object.keys(custom)])].sort();
      throw new ConfigError(
        `Unknown provider "${name}" in model "${modelName}"${where}. Known providers: ${known.join(', ')}. ` +
          `Add it under "providers:" in moa.config.yaml, e.g. ${name}: { type: openai-compatible, baseURL: http://127.0.0.1:8000/v1 }`,
        { ...(path ? { path } : {}), code: 'unknown_provider' },
      );
    }
    const keyEnv = entry.apiKeyEnvs.find((variable) => env[variable]);
    const apiKey = keyEnv ? env[keyEnv] : undefined;
    if (entry.requiresKey && !apiKey) {
      throw new ConfigError(
        `Model "${modelName}"${where} needs an API key: set ${entry.apiKeyEnvs.join(' or ')} in the environment` +
          (entry.signup ? ` (get one at ${entry.signup})` : '') +
          '.',
        { ...(path ? { path } : {}), code: 'missing_api_key' },
      );
    }
    registerSecret(apiKey);
    const baseURL = (entry.baseURLEnv ? env[entry.baseURLEnv] : undefined) || entry.baseURL;
    const factory = createModelFactory({
      name,
      type: entry.type,
      baseURL,
      apiKey,
      headers: entry.headers,
      fetch: options.fetch,
      ...(entry.structuredOutputs !== undefined ? { structuredOutputs: entry.structuredOutputs } : {}),
      env,
    });
    // Local models hold memory and are unloaded by close(): never shared across registries.
    const cacheKey =
      options.fetch || entry.type === 'local' ? undefined : JSON.stringify([name, entry.type, baseURL, apiKey, entry.headers ?? null, entry.structuredOutputs ?? null]);
    const laneKey = JSON.stringify([name, entry.type, baseURL ?? null, fingerprint(apiKey), entry.headers ?? null]);
    const state: ProviderState = {
      factory,
      models: cachedModels(cacheKey),
      lane: scheduler.lane(laneKey, {
        maxConcurrency: entry.maxConcurrency ?? defaultConcurrency,
        ...(entry.requestsPerMinute !== undefined ? { requestsPerMinute: entry.requestsPerMinute } : {}),
        ...(entry.tokensPerMinute !== undefined ? { tokensPerMinute: entry.tokensPerMinute } : {}),
      }),
      capabilities: providerCapabilities(entry.type, name),
      settings: entry,
    };
    states.set(name, state);
    return state;
  }

  return {
    resolve(model, path) {
      if (typeof model !== 'string') {
        const label = `${model.provider}:${model.modelId}`;
        return {
          label,
          provider: model.provider,
          modelId: model.modelId,
          model,
          lane: scheduler.objectLane(model, label, { maxConcurrency: defaultConcurrency }),
          capabilities: providerCapabilities('object', model.provider),
        };
      }
      const { provider, modelId } = splitModelName(model);
      const state = providerState(provider, path, model);
      return {
        label: model,
        provider,
        modelId,
        model: modelFor(state, modelId),
        lane: state.lane,
        capabilities: state.capabilities,
        ...(state.settings.timeoutMs !== undefined ? { timeoutMs: state.settings.timeoutMs } : {}),
        ...(state.settings.attemptTimeoutMs !== undefined ? { attemptTimeoutMs: state.settings.attemptTimeoutMs } : {}),
        ...(state.settings.maxRetries !== undefined ? { maxRetries: state.settings.maxRetries } : {}),
      };
    },
    resolveEmbedding(model, path) {
      const { provider, modelId } = splitModelName(model);
      const state = providerState(provider, path, model);
      if (!state.factory.embedding) {
        throw new ConfigError(
          `Provider "${provider}" (type ${state.settings.type}) has no embedding models${path ? ` (at ${path})` : ''}: use an openai, openai-compatible, google or ollama provider for embeddings`,
          { ...(path ? { path } : {}), code: 'no_embeddings' },
        );
      }
      return state.factory.embedding(modelId);
    },
    providerNames() {
      return [...new Set([...Object.keys(BUILTIN_PROVIDERS), ...Object.keys(custom)])];
    },
    async close() {
      const open = [...states.values()];
      states.clear();
      await Promise.all(open.map((state) => state.factory.close?.()));
    },
  };
}
