/**
 * Resolve "provider:model-id" names to AI SDK language models, one provider
 * instance and one concurrency queue per provider name.
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import PQueue from 'p-queue';
import type { ProviderSettings } from './provider-schema.js';
import { ConfigError } from '../util/errors.js';
import { registerSecret } from '../util/redact.js';
import { createModelFactory, type FetchFunction, type ModelFactory } from './create-provider.js';
import { BUILTIN_PROVIDERS, type ProviderEntry } from './provider-catalog.js';
import { RateLimiter } from './rate-limiter.js';

export const DEFAULT_MAX_CONCURRENCY = 16;

export interface ResolvedModel {
  /** "provider:model-id" as written (or derived from a model object). */
  label: string;
  provider: string;
  modelId: string;
  model: LanguageModelV3;
  /** Shared by every call to this provider: its concurrency limit. */
  queue: PQueue;
  /**
   * Shared by every call to this provider: requests/tokens per minute and the
   * provider-wide pause after a 429. Consulted once a call holds a queue slot.
   */
  limiter?: RateLimiter;
  timeoutMs?: number;
  attemptTimeoutMs?: number;
  maxRetries?: number;
}

export interface ModelRegistry {
  /** Throws ConfigError (naming `path`) for an unknown provider or a missing API key. */
  resolve(model: string | LanguageModelV3, path?: string): ResolvedModel;
  providerNames(): string[];
  /** Releases what the providers hold (local models are unloaded). Safe to call twice. */
  close(): Promise<void>;
}

export interface RegistryOptions {
  /** Custom providers from the config; a name shared with a built-in overrides it. */
  providers?: Record<string, ProviderSettings>;
  env?: Record<string, string | undefined>;
  fetch?: FetchFunction;
  defaultMaxConcurrency?: number;
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
  queue: PQueue;
  limiter: RateLimiter;
  settings: ProviderSettings;
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
  const env = options.env ?? process.env;
  const custom = options.providers ?? {};
  const states = new Map<string, ProviderState>();
  const objectQueues = new WeakMap<LanguageModelV3, { queue: PQueue; limiter: RateLimiter }>();
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
      env,
    });
    // Local models hold memory and are unloaded by close(): never shared across registries.
    const cacheKey = options.fetch || entry.type === 'local'
      ? undefined
      : JSON.stringify([name, entry.type, baseURL, apiKey, entry.headers ?? null]);
    const state: ProviderState = {
      factory,
      models: cachedModels(cacheKey),
      queue: new PQueue({ concurrency: entry.maxConcurrency ?? defaultConcurrency }),
      limiter: new RateLimiter({
        ...(entry.requestsPerMinute !== undefined ? { requestsPerMinute: entry.requestsPerMinute } : {}),
        ...(entry.tokensPerMinute !== undefined ? { tokensPerMinute: entry.tokensPerMinute } : {}),
      }),
      settings: entry,
    };
    states.set(name, state);
    return state;
  }

  return {
    resolve(model, path) {
      if (typeof model !== 'string') {
        let limits = objectQueues.get(model);
        if (!limits) {
          limits = { queue: new PQueue({ concurrency: defaultConcurrency }), limiter: new RateLimiter() };
          objectQueues.set(model, limits);
        }
        return {
          label: `${model.provider}:${model.modelId}`,
          provider: model.provider,
          modelId: model.modelId,
          model,
          queue: limits.queue,
          limiter: limits.limiter,
        };
      }
      const { provider, modelId } = splitModelName(model);
      const state = providerState(provider, path, model);
      return {
        label: model,
        provider,
        modelId,
        model: modelFor(state, modelId),
        queue: state.queue,
        limiter: state.limiter,
        ...(state.settings.timeoutMs !== undefined ? { timeoutMs: state.settings.timeoutMs } : {}),
        ...(state.settings.attemptTimeoutMs !== undefined ? { attemptTimeoutMs: state.settings.attemptTimeoutMs } : {}),
        ...(state.settings.maxRetries !== undefined ? { maxRetries: state.settings.maxRetries } : {}),
      };
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
