/**
 * `local:<file.gguf>`: GGUF models run in-process through node-llama-cpp,
 * behind the AI SDK LanguageModelV3 interface. (Being built: issue 5.)
 */
import type { LanguageModelV3 } from '@ai-sdk/provider';
import { ConfigError } from '../../util/errors.js';

export interface LocalProviderOptions {
  env: Record<string, string | undefined>;
}

export function createLocalModelFactory(_options: LocalProviderOptions): ((modelId: string) => LanguageModelV3) & { close?: () => Promise<void> } {
  return (modelId: string) => {
    throw new ConfigError(`local models are not available yet (model "local:${modelId}")`, { code: 'not_implemented' });
  };
}
