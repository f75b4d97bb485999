/**
 * Built-in providers: where each one lives and which environment variables
 * carry its key and base URL. Custom providers from the config use the same shape.
 */
import type { ProviderSettings } from './provider-schema.js';

export interface ProviderEntry extends ProviderSettings {
  /** Environment variables tried in order for the key (the first set one wins). */
  apiKeyEnvs: string[];
  /** Environment variable that overrides the base URL. */
  baseURLEnv?: string;
  /** False for servers that need no key (Ollama, local gateways). */
  requiresKey: boolean;
  /** Where to get a key, for error messages. */
  signup?: string;
}

export const BUILTIN_PROVIDERS: Record<string, ProviderEntry> = {
  openai: {
    type: 'openai',
    apiKeyEnvs: ['OPENAI_API_KEY'],
    baseURLEnv: 'OPENAI_BASE_URL',
    requiresKey: true,
    signup: 'https://platform.openai.com/api-keys',
  },
  anthropic: {
    type: 'anthropic',
    apiKeyEnvs: ['ANTHROPIC_API_KEY'],
    baseURLEnv: 'ANTHROPIC_BASE_URL',
    requiresKey: true,
    signup: 'https://console.anthropic.com/',
  },
  google: {
    type: 'google',
    apiKeyEnvs: ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY', 'GOOGLE_API_KEY'],
    baseURLEnv: 'GOOGLE_GENERATIVE_AI_BASE_URL',
    requiresKey: true,
    signup: 'https://aistudio.google.com/apikey',
  },
  together: {
    type: 'openai-compatible',
    baseURL: 'https://api.together.xyz/v1',
    apiKeyEnvs: ['TOGETHER_API_KEY'],
    baseURLEnv: 'TOGETHER_BASE_URL',
    requiresKey: true,
    signup: 'https://api.together.ai/settings/api-keys',
  },
  groq: {
    type: 'openai-compatible',
    baseURL: 'https://api.groq.com/openai/v1',
    apiKeyEnvs: ['GROQ_API_KEY'],
    baseURLEnv: 'GROQ_BASE_URL',
    requiresKey: true,
    signup: 'https://console.groq.com/keys',
  },
  openrouter: {
    type: 'openai-compatible',
    baseURL: 'https://openrouter.ai/api/v1',
    apiKeyEnvs: ['OPENROUTER_API_KEY'],
    baseURLEnv: 'OPENROUTER_BASE_URL',
    requiresKey: true,
    signup: 'https://openrouter.ai/keys',
  },
  ollama: {
    type: 'ollama',
    apiKeyEnvs: [],
    baseURLEnv: 'OLLAMA_HOST',
    requiresKey: false,
  },
  /** GGUF files run in-process: `local:<file.gguf>` (a bare name is looked up in $MOA_MODELS_DIR). */
  local: {
    type: 'local',
    apiKeyEnvs: [],
    requiresKey: false,
  },
};

/** Every environment variable that may hold a built-in provider's key. */
export const PROVIDER_KEY_ENVS: string[] = Object.values(BUILTIN_PROVIDERS).flatMap((entry) => entry.apiKeyEnvs);
