/**
 * The zero-key default: with no config and no preset named, `moa ask`, `moa
 * chat` and `moa serve` run a preset built from what the machine has, in this
 * order: API keys in the environment, then an Ollama server with models, then
 * a small local GGUF model. Pure: the caller probes Ollama and the disk.
 */
import type { OllamaModelInfo } from '../models/ollama-models.js';
import type { PresetInput } from './config-schema.js';

export type { OllamaModelInfo };

/** The local model used when the machine has no key and no Ollama (Apache-2.0, ~1.1 GB, 4-bit). */
export const DEFAULT_LOCAL_MODEL = {
  file: 'qwen2.5-1.5b-instruct-q4_k_m.gguf',
  ref: 'hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF/qwen2.5-1.5b-instruct-q4_k_m.gguf',
  description: 'Qwen2.5-1.5B-Instruct, 4-bit (Q4_K_M), about 1.1 GB, Apache-2.0',
} as const;

/** How many times Self-MoA samples its one model in the proposer layer. */
export const SELF_MOA_SAMPLES = 4;

/**
 * Strong current models per keyed provider, best first. The first model of the
 * highest-ranked provider found aggregates; each provider found proposes with
 * its models.
 */
export const PROVIDER_DEFAULT_MODELS: ReadonlyArray<{ provider: string; keyEnvs: readonly string[]; models: readonly string[] }> = [
  { provider: 'openai', keyEnvs: ['OPENAI_API_KEY'], models: ['openai:gpt-4.1', 'openai:gpt-4.1-mini'] },
  { provider: 'anthropic', keyEnvs: ['ANTHROPIC_API_KEY'], models: ['anthropic:claude-sonnet-4-5', 'anthropic:claude-haiku-4-5'] },
  {
    provider: 'google',
    keyEnvs: ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    models: ['google:gemini-2.5-pro', 'google:gemini-2.5-flash'],
  },
  {
    provider: 'together',
    keyEnvs: ['TOGETHER_API_KEY'],
    models: ['together:deepseek-ai/DeepSeek-V3', 'together:Qwen/Qwen3-235B-A22B-Instruct-2507-tput', 'together:meta-llama/Llama-3.3-70B-Instruct-Turbo'],
  },
  {
    provider: 'openrouter',
    keyEnvs: ['OPENROUTER_API_KEY'],
    models: ['openrouter:deepseek/deepseek-chat-v3.1', 'openrouter:qwen/qwen3-235b-a22b-2507'],
  },
  { provider: 'groq', keyEnvs: ['GROQ_API_KEY'], models: ['groq:llama-3.3-70b-versatile', 'groq:openai/gpt-oss-120b'] },
];

/** At most this many proposers in a mixed default: enough diversity, bounded cost. */
const MAX_DEFAULT_PROPOSERS = 6;

export type DefaultSource = 'keys' | 'ollama' | 'local';

export interface DefaultChoice {
  source: DefaultSource;
  /** The preset name shown to the user ("default"). */
  name: string;
  preset: PresetInput;
  /** The one model Self-MoA samples on this machine. */
  primaryModel: string;
  /** One line for stderr: what was picked and why. */
  notice: string;
}

export function keyedProviders(env: Record<string, string | undefined>): string[] {
  return PROVIDER_DEFAULT_MODELS.filter((entry) => entry.keyEnvs.some((name) => Boolean(env[name]))).map((entry) => entry.provider);
}

/** Self-MoA (Li et al., 2025): one model sampled several times at temperature 0.7, the same model aggregating. */
export function selfMoAPreset(model: string, samples = SELF_MOA_SAMPLES): PresetInput {
  return {
    description: `Self-MoA: ${model} sampled ${samples} times at temperature 0.7, the same model aggregating`,
    layers: 2,
    proposers: Array.from({ length: samples }, () => model),
    aggregator: model,
    temperature: 0.7,
  };
}

/** A 2-layer preset mixing the keyed providers' models (MoA-Lite shape: cheaper than 3 layers). */
export function mixedProviderPreset(providers: readonly string[]): PresetInput | undefined {
  const entries = PROVIDER_DEFAULT_MODELS.filter((entry) => providers.includes(entry.provider));
  const first = entries[0];
  if (!first) return undefined;
  const perProvider = entries.length === 1 ? first.models.length : Math.max(1, Math.floor(MAX_DEFAULT_PROPOSERS / entries.length));
  const proposers = entries.flatMap((entry) => entry.models.slice(0, perProvider)).slice(0, MAX_DEFAULT_PROPOSERS);
  return {
    description: `Default for the keys found (${entries.map((entry) => entry.provider).join(', ')}): 2 layers, ${proposers.length} proposers`,
    layers: 2,
    proposers,
    aggregator: first.models[0]!,
    temperature: 0.7,
    maxTokens: 2048,
  };
}

/** Embedding models cannot chat; they are skipped. */
function isChatModel(model: OllamaModelInfo): boolean {
  return !/embed|bge-|minilm/i.test(model.name);
}

/** MoA over the installed Ollama models: up to 4 proposers, the largest aggregating; one model gives Self-MoA. */
export function ollamaPreset(models: readonly OllamaModelInfo[]): PresetInput | undefined {
  const chat = models.filter(isChatModel);
  if (chat.length === 0) return undefined;
  const bySize = [...chat].sort((a, b) => (b.size ?? 0) - (a.size ?? 0));
  const largest = `ollama:${bySize[0]!.name}`;
  if (chat.length === 1) return selfMoAPreset(largest);
  const proposers = chat.slice(0, 4).map((model) => `ollama:${model.name}`);
  return {
    description: `Default for the local Ollama server: 2 layers, ${proposers.length} of its models proposing, ${largest} aggregating`,
    layers: 2,
    proposers,
    aggregator: largest,
    temperature: 0.7,
  };
}

/**
 * Picks the default from what the machine has. `ollamaModels` is what Ollama
 * reported (undefined or empty when it is not reachable or has no model).
 */
export function chooseDefaultPreset(env: Record<string, string | undefined>, ollamaModels: readonly OllamaModelInfo[] | undefined): DefaultChoice {
  const providers = keyedProviders(env);
  const mixed = mixedProviderPreset(providers);
  if (mixed) {
    return {
      source: 'keys',
      name: 'default',
      preset: mixed,
      primaryModel: mixed.aggregator as string,
      notice: `Using a default preset for the API keys found (${providers.join(', ')}): ${mixed.proposers!.length} proposers, ${String(mixed.aggregator)} aggregating. Pick another with --preset (see "moa presets").`,
    };
  }
  const ollama = ollamaModels ? ollamaPreset(ollamaModels) : undefined;
  if (ollama) {
    return {
      source: 'ollama',
      name: 'default',
      preset: ollama,
      primaryModel: ollama.aggregator as string,
      notice: `No API key found; using the Ollama server's models: ${(ollama.proposers as string[]).join(', ')} (aggregator ${String(ollama.aggregator)}).`,
    };
  }
  const model = `local:${DEFAULT_LOCAL_MODEL.file}`;
  return {
    source: 'local',
    name: 'default',
    preset: selfMoAPreset(model),
    primaryModel: model,
    notice: `No API key and no Ollama server found; running Self-MoA on the local model ${DEFAULT_LOCAL_MODEL.file} (${DEFAULT_LOCAL_MODEL.description}).`,
  };
}
