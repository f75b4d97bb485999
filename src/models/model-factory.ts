/** What a provider entry becomes: its connection settings, and the factory of its models. */
import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import type { FetchFunction } from '../util/fetch-function.js';
import type { ProviderSettings } from './provider-schema.js';

export interface ProviderConnection {
  name: string;
  type: ProviderSettings['type'];
  baseURL: string | undefined;
  apiKey: string | undefined;
  headers: Record<string, string> | undefined;
  fetch: FetchFunction | undefined;
  /** openai-compatible: send the JSON schema of a structured answer (response_format json_schema). */
  structuredOutputs?: boolean;
  /** The environment the registry reads (local models use MOA_MODELS_DIR from it). */
  env?: Record<string, string | undefined>;
}

/** Builds a provider's models; `close` releases what they hold (local models unload); `embedding` when it has embedding models. */
export type ModelFactory = ((modelId: string) => LanguageModelV3) & {
  close?: () => Promise<void>;
  embedding?: (modelId: string) => EmbeddingModelV3;
};
