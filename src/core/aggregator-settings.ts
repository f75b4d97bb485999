/**
 * The settings a request gives the final aggregator (tools, response format, stop sequences,
 * sampling, end-user id, reasoning effort, n), checked against every model that may write the
 * final answer — the final layer's agents and their fallbacks — and turned into the engine's
 * `RunOptions.final`.
 *
 * Each face (Chat Completions, Responses, Messages) translates its own fields into
 * `AggregatorSettings` and says which request field each came from (`params`), so a setting one
 * of those models cannot honour is a ConfigError (`unsupported_parameter`, a 400 on the server)
 * naming the field and the model, before any call. What
 * no AI SDK call option covers goes into `providerOptions` under the key each provider's
 * package reads (`openai`, the openai-compatible provider's name, `anthropic`); a request whose
 * final layer mixes provider types gets every key, and each package reads its own.
 *
 * What each provider type's package honours (read from their code): see SUPPORT below.
 */
import type { SharedV3ProviderOptions } from '@ai-sdk/provider';
import type { ResolvedPreset } from './resolve-preset.js';
import type { FinalCallOptions } from './stream-moa.js';
import type { FunctionToolDefinition, ResponseFormatSetting, ToolChoiceSetting } from '../models/call-settings.js';
import type { ProviderType } from '../models/provider-capabilities.js';
import type { ModelRegistry } from '../models/registry.js';
import { ConfigError } from '../util/errors.js';

export type ThinkingSetting = { type: 'enabled'; budgetTokens: number } | { type: 'adaptive' } | { type: 'disabled' };

export interface AggregatorSettings {
  tools?: FunctionToolDefinition[];
  toolChoice?: ToolChoiceSetting;
  /** false: at most one tool call per answer (true is every provider's default). */
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormatSetting;
  stopSequences?: string[];
  seed?: number;
  topP?: number;
  topK?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  /** Token id → bias (-100..100), OpenAI's `logit_bias`. */
  logitBias?: Record<string, number>;
  /** The end user's id, for the provider's abuse monitoring. */
  user?: string;
  /** `low`, `medium`, `high`, … as the request spelled it. */
  reasoningEffort?: string;
  /** Anthropic's extended thinking. */
  thinking?: ThinkingSetting;
  /** n: answers over one set of references. */
  samples?: number;
}

export type SettingName = keyof AggregatorSettings;

/** The request field each setting came from, for error messages (`stop`, `stop_sequences`, `text.format`, …). */
export type SettingParams = Partial<Record<SettingName, string>>;

const EVERY_TYPE: readonly ProviderType[] = ['openai', 'openai-compatible', 'anthropic', 'google', 'ollama', 'local', 'object'];
const except = (...types: ProviderType[]): readonly ProviderType[] => EVERY_TYPE.filter((type) => !types.includes(type));

/**
 * Which provider types honour each setting. An AI SDK model object passed from code ('object')
 * is trusted with everything: its own package warns about what it does not take.
 */
const SUPPORT: Record<Exclude<SettingName, 'samples' | 'parallelToolCalls' | 'reasoningEffort' | 'thinking' | 'tools' | 'toolChoice'>, readonly ProviderType[]> = {
  responseFormat: except('local'),
  stopSequences: except('ollama'),
  seed: except('anthropic', 'ollama'),
  topP: EVERY_TYPE,
  topK: except('openai', 'openai-compatible', 'ollama'),
  presencePenalty: except('anthropic', 'ollama'),
  frequencyPenalty: except('anthropic', 'ollama'),
  logitBias: ['openai', 'openai-compatible', 'object'],
  user: ['openai', 'openai-compatible', 'anthropic', 'object'],
};

/** Anthropic's effort levels; OpenAI's `none` and `minimal` have no Anthropic equivalent. */
const ANTHROPIC_EFFORTS = new Set(['low', 'medium', 'high', 'xhigh', 'max']);

interface Candidate {
  label: string;
  type: ProviderType;
  optionsKey: string;
}

/** Every model that may write the final answer: the final layer's agents and their fallbacks. */
function finalCandidates(preset: ResolvedPreset, registry: ModelRegistry): Candidate[] {
  const last = preset.layers[preset.layers.length - 1]!;
  const candidates: Candidate[] = [];
  for (const agent of last.agents) {
    const models: Array<[string | typeof agent.model, string]> = [
      [agent.model, agent.path],
      ...agent.fallbacks.map((fallback, index): [string, string] => [fallback, `${agent.path}.fallbacks[${index}]`]),
    ];
    for (const [model, path] of models) {
      const resolved = registry.resolve(model, path);
      candidates.push({ label: resolved.label, type: resolved.capabilities.type, optionsKey: resolved.capabilities.optionsKey });
    }
  }
  return candidates;
}

/** The faces turn this into their own refusal: a 400 naming the field (server), UnsupportedFunctionalityError (AI SDK provider). */
function refuse(param: string, candidate: Candidate, what: string): never {
  throw new ConfigError(
    `'${param}' is not supported: ${what}, and ${candidate.label} (provider type "${candidate.type}") may write this preset's final answer; choose a preset whose aggregator and fallbacks support it, or leave it out.`,
    { code: 'unsupported_parameter', path: param },
  );
}

/**
 * The engine's `final` options for these settings on this preset; throws a 400 naming the field
 * when a model that may write the final answer cannot honour one of them.
 */
export function finalCallOptions(preset: ResolvedPreset, registry: ModelRegistry, settings: AggregatorSettings, params: SettingParams): FinalCallOptions | undefined {
  const param = (name: SettingName): string => params[name] ?? name;
  const candidates = finalCandidates(preset, registry);
  for (const [name, types] of Object.entries(SUPPORT) as Array<[keyof typeof SUPPORT, readonly ProviderType[]]>) {
    if (settings[name] === undefined) continue;
    const unable = candidates.find((candidate) => !types.includes(candidate.type));
    if (unable) refuse(param(name), unable, `this setting is not supported by "${unable.type}" providers`);
  }

  const providerOptions: SharedV3ProviderOptions = {};
  const put = (key: string, values: Record<string, unknown>): void => {
    providerOptions[key] = { ...(providerOptions[key] ?? {}), ...values } as SharedV3ProviderOptions[string];
  };
  for (const candidate of candidates) {
    const key = candidate.optionsKey;
    const { type } = candidate;
    if (settings.parallelToolCalls === false) {
      if (type === 'openai' || type === 'object') put(key, { parallelToolCalls: false });
      // The openai-compatible package copies keys it does not know into the request body as they are.
      else if (type === 'openai-compatible') put(key, { parallel_tool_calls: false });
      else if (type === 'anthropic') put(key, { disableParallelToolUse: true });
      else refuse(param('parallelToolCalls'), candidate, 'one tool call at a time cannot be asked of every provider');
    }
    if (settings.logitBias !== undefined) {
      if (type === 'openai' || type === 'object') put(key, { logitBias: settings.logitBias });
      else if (type === 'openai-compatible') put(key, { logit_bias: settings.logitBias });
    }
    if (settings.user !== undefined) {
      if (type === 'anthropic') put(key, { metadata: { userId: settings.user } });
      else put(key, { user: settings.user });
    }
    if (settings.reasoningEffort !== undefined) {
      const effort = settings.reasoningEffort;
      if (type === 'openai' || type === 'openai-compatible' || type === 'object') put(key, { reasoningEffort: effort });
      else if (type === 'anthropic' && ANTHROPIC_EFFORTS.has(effort)) put(key, { effort });
      else if (type === 'anthropic') refuse(param('reasoningEffort'), candidate, `effort "${effort}" has no Anthropic equivalent (low, medium, high, xhigh, max)`);
      else refuse(param('reasoningEffort'), candidate, 'reasoning effort is not supported by this provider');
    }
    if (settings.thinking !== undefined && settings.thinking.type !== 'disabled') {
      if (type === 'anthropic' || type === 'object') put(key, { thinking: settings.thinking });
      else refuse(param('thinking'), candidate, 'extended thinking is an Anthropic setting');
    }
  }

  const final: FinalCallOptions = {
    ...(settings.tools && settings.tools.length > 0 ? { tools: settings.tools } : {}),
    ...(settings.toolChoice !== undefined ? { toolChoice: settings.toolChoice } : {}),
    ...(settings.responseFormat !== undefined ? { responseFormat: settings.responseFormat } : {}),
    ...(settings.stopSequences !== undefined && settings.stopSequences.length > 0 ? { stopSequences: settings.stopSequences } : {}),
    ...(settings.seed !== undefined ? { seed: settings.seed } : {}),
    ...(settings.topP !== undefined ? { topP: settings.topP } : {}),
    ...(settings.topK !== undefined ? { topK: settings.topK } : {}),
    ...(settings.presencePenalty !== undefined ? { presencePenalty: settings.presencePenalty } : {}),
    ...(settings.frequencyPenalty !== undefined ? { frequencyPenalty: settings.frequencyPenalty } : {}),
    ...(Object.keys(providerOptions).length > 0 ? { providerOptions } : {}),
    ...(settings.samples !== undefined && settings.samples > 1 ? { samples: settings.samples } : {}),
  };
  return Object.keys(final).length > 0 ? final : undefined;
}
