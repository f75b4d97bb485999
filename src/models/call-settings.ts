/**
 * What a caller may set on one model call beyond the prompt, temperature and output budget: the
 * final aggregator's tools, response format and sampling settings, passed to the provider's
 * AI SDK package as they are (its own `providerOptions` included).
 */
import type { JSONSchema7, LanguageModelV3CallOptions, LanguageModelV3FunctionTool, SharedV3ProviderOptions } from '@ai-sdk/provider';

export type { JSONSchema7 };

export interface FunctionToolDefinition {
  name: string;
  description?: string;
  /** The tool's parameters as a JSON Schema. */
  inputSchema: JSONSchema7;
  strict?: boolean;
}

export type ToolChoiceSetting = 'auto' | 'none' | 'required' | { type: 'tool'; toolName: string };

export type ResponseFormatSetting = { type: 'text' } | { type: 'json'; schema?: JSONSchema7; name?: string; description?: string };

export interface CallSettings {
  tools?: FunctionToolDefinition[];
  toolChoice?: ToolChoiceSetting;
  responseFormat?: ResponseFormatSetting;
  stopSequences?: string[];
  seed?: number;
  topP?: number;
  topK?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Passed as is, e.g. `{ openai: { parallelToolCalls: false, logitBias: { … }, user: 'u-1', reasoningEffort: 'low' } }`. */
  providerOptions?: SharedV3ProviderOptions;
}

/** The settings as AI SDK call options (everything but prompt, signal, temperature and maxOutputTokens). */
export function callOptionsOf(settings: CallSettings | undefined): Partial<LanguageModelV3CallOptions> {
  if (!settings) return {};
  const tools: LanguageModelV3FunctionTool[] | undefined = settings.tools?.map((tool) => ({
    type: 'function',
    name: tool.name,
    ...(tool.description !== undefined ? { description: tool.description } : {}),
    inputSchema: tool.inputSchema,
    ...(tool.strict !== undefined ? { strict: tool.strict } : {}),
  }));
  const choice = settings.toolChoice;
  return {
    ...(tools && tools.length > 0 ? { tools } : {}),
    ...(choice !== undefined ? { toolChoice: typeof choice === 'string' ? { type: choice } : choice } : {}),
    ...(settings.responseFormat ? { responseFormat: settings.responseFormat } : {}),
    ...(settings.stopSequences && settings.stopSequences.length > 0 ? { stopSequences: settings.stopSequences } : {}),
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
    ...(settings.topP !== undefined ? { topP: settings.topP } : {}),
    ...(settings.topK !== undefined ? { topK: settings.topK } : {}),
    ...(settings.presencePenalty !== undefined ? { presencePenalty: settings.presencePenalty } : {}),
    ...(settings.frequencyPenalty !== undefined ? { frequencyPenalty: settings.frequencyPenalty } : {}),
    ...(settings.providerOptions ? { providerOptions: settings.providerOptions } : {}),
  };
}

/** Two providerOptions objects merged key by key (the second wins inside a key). */
export function mergeProviderOptions(first: SharedV3ProviderOptions | undefined, second: SharedV3ProviderOptions | undefined): SharedV3ProviderOptions | undefined {
  if (!first) return second;
  if (!second) return first;
  const merged: SharedV3ProviderOptions = { ...first };
  for (const [key, value] of Object.entries(second)) merged[key] = { ...(merged[key] ?? {}), ...value };
  return merged;
}
