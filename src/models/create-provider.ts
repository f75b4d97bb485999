/**
 * Turn one provider entry into an AI SDK provider. Every vendor client comes
 * from a maintained package; nothing here speaks HTTP itself.
 */
import { createAnthropic } from '@ai-sdk/anthropic';
import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import type { EmbeddingModelV3, LanguageModelV3 } from '@ai-sdk/provider';
import { createOllama } from 'ollama-ai-provider-v2';
import { hostProviderType } from './host-provider-types.js';
import { ConfigError } from '../util/errors.js';
import { reportingResponseStart } from './response-start.js';

import type { FetchFunction } from '../util/fetch-function.js';
import type { ModelFactory, ProviderConnection } from './model-factory.js';

export type { FetchFunction };

export type { ModelFactory, ProviderConnection } from './model-factory.js';

function withEmbeddings(language: (modelId: string) => LanguageModelV3, embedding: (modelId: string) => EmbeddingModelV3): ModelFactory {
  return Object.assign(language, { embedding });
}

/** Ollama's native API lives under /api; accept `http://host:11434` as OLLAMA_HOST gives it. */
function ollamaBaseURL(baseURL: string | undefined): string | undefined {
  if (!baseURL) return undefined;
  const withScheme = /^https?:\/\//.test(baseURL) ? baseURL : `http://${baseURL}`;
  const trimmed = withScheme.replace(/\/+$/, '');
  return trimmed.endsWith('/api') ? trimmed : `${trimmed}/api`;
}

/**
 * ANTHROPIC_BASE_URL as Anthropic's own SDKs, Claude Code and the Anthropic-compatible gateways
 * write it is the origin (`https://api.anthropic.com`, `http://localhost:4000`), to which the client
 * adds `/v1/messages`; @ai-sdk/anthropic adds only `/messages` (it special-cases the official
 * origin alone). Accept both forms: append `/v1` unless the URL already ends with it.
 */
function anthropicBaseURL(baseURL: string | undefined): string | undefined {
  if (!baseURL) return undefined;
  const trimmed = baseURL.replace(/\/+$/, '');
  return trimmed.endsWith('/v1') ? trimmed : `${trimmed}/v1`;
}

export function createModelFactory(connection: ProviderConnection): ModelFactory {
  const common = {
    ...(connection.headers ? { headers: connection.headers } : {}),
    // Response starts reach the call scheduler (an `auto` limit grows on them): see response-start.ts.
    fetch: reportingResponseStart(connection.fetch),
  };
  switch (connection.type) {
    case 'openai': {
      const provider = createOpenAI({
        ...common,
        ...(connection.apiKey ? { apiKey: connection.apiKey } : {}),
        ...(connection.baseURL ? { baseURL: connection.baseURL } : {}),
        name: connection.name,
      });
      // Chat Completions: what OpenAI and every OpenAI-style gateway behind OPENAI_BASE_URL speak.
      return withEmbeddings(
        (modelId) => provider.chat(modelId),
        (modelId) => provider.embedding(modelId),
      );
    }
    case 'anthropic': {
      const baseURL = anthropicBaseURL(connection.baseURL);
      const provider = createAnthropic({
        ...common,
        ...(connection.apiKey ? { apiKey: connection.apiKey } : {}),
        ...(baseURL ? { baseURL } : {}),
      });
      return (modelId) => provider(modelId);
    }
    case 'google': {
      const provider = createGoogleGenerativeAI({
        ...common,
        ...(connection.apiKey ? { apiKey: connection.apiKey } : {}),
        ...(connection.baseURL ? { baseURL: connection.baseURL } : {}),
      });
      return withEmbeddings(
        (modelId) => provider(modelId),
        (modelId) => provider.embedding(modelId),
      );
    }
    case 'ollama': {
      const baseURL = ollamaBaseURL(connection.baseURL);
      const provider = createOllama({ ...common, ...(baseURL ? { baseURL } : {}) });
      return withEmbeddings(
        (modelId) => provider(modelId),
        (modelId) => provider.embedding(modelId),
      );
    }
    case 'local': {
      const local = hostProviderType('local');
      if (!local) {
        throw new ConfigError(
          `provider "${connection.name}" runs local GGUF models, which need Node.js: import 'moa-engine/local' once (moa-engine/node, /server, /batch and /eval do it too)`,
          { code: 'local_unavailable' },
        );
      }
      return local(connection);
    }
    case 'openai-compatible': {
      if (!connection.baseURL) throw new Error(`provider "${connection.name}" has no baseURL`);
      const provider = createOpenAICompatible({
        ...common,
        name: connection.name,
        baseURL: connection.baseURL,
        ...(connection.apiKey ? { apiKey: connection.apiKey } : {}),
        includeUsage: true,
        ...(connection.structuredOutputs ? { supportsStructuredOutputs: true } : {}),
      });
      return withEmbeddings(
        (modelId) => provider.chatModel(modelId),
        (modelId) => provider.embeddingModel(modelId),
      );
    }
  }
}
