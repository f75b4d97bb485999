/**
 * The engine: runs, presets, events, the reducer, the model registry. No `node:` import and no
 * server, database or native module in its import graph, so it runs in Node, browsers and edge
 * runtimes (anything with `fetch`). The Node faces are subpaths:
 * `moa-engine/node` (config files, traces, the machine default), `moa-engine/server`,
 * `moa-engine/batch`, `moa-engine/eval`, `moa-engine/local`, `moa-engine/provider` (AI SDK).
 */
export { streamMoA, runMoA, MoARunError, normalizeInput, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from './core/stream-moa.js';
export type { FinalCallOptions, MoAInput, MoARun, RunOptions } from './core/stream-moa.js';
export type { ChatMessage, FinalChoice, MoAEvent, MoAEventBody, MoAEventType, PlannedLayer, StreamMode, ToolCall, Usage } from './core/events.js';
export type { FunctionToolDefinition, ResponseFormatSetting, ToolChoiceSetting } from './models/call-settings.js';
export { createReferenceMemory, type ReferenceMemory } from './core/reference-memory.js';
export { EVENT_TYPES } from './core/events.js';
export { applyEvent, initialResult, reduceEvents } from './core/reducer.js';
export type { AgentResult, AgentStatus, LayerResult, MoAResult, Warning } from './core/reducer.js';
export { resolvePreset } from './core/resolve-preset.js';
export type { ResolvedAgent, ResolvedLayer, ResolvedPreset } from './core/resolve-preset.js';
export type { AgentInput, ConfigFileInput, LayerInput, PresetInput, ProviderInput } from './core/config-schema.js';
export { BUILTIN_PRESETS } from './core/builtin-presets.js';
export { DEFAULT_SYNTHESIS_PROMPT, buildAgentPrompt, buildSynthesisSystem } from './core/synthesis-prompt.js';
export { createModelRegistry, type ModelRegistry, type ResolvedModel } from './models/registry.js';
export { BUILTIN_PROVIDERS } from './models/provider-catalog.js';
export { MoAError, ConfigError, ProviderError, AbortedError, RunFailedError, type ErrorInfo } from './util/errors.js';
export { chooseDefaultPreset, selfMoAPreset, DEFAULT_LOCAL_MODEL, type DefaultChoice } from './core/machine-default.js';
export { createMemoryResponseCache, responseCacheKey, type CachedResponse, type ResponseCache } from './core/response-cache.js';
export { parseTraceText, TraceFormatError, type ParsedTrace } from './core/trace-parse.js';
