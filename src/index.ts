/** Public library API. */
export { streamMoA, runMoA, MoARunError, normalizeInput, DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT_MS } from './core/stream-moa.js';
export type { MoAInput, MoARun, RunOptions } from './core/stream-moa.js';
export type { ChatMessage, MoAEvent, MoAEventBody, MoAEventType, PlannedLayer, StreamMode, Usage } from './core/events.js';
export { EVENT_TYPES } from './core/events.js';
export { applyEvent, initialResult, reduceEvents } from './core/reducer.js';
export type { AgentResult, AgentStatus, LayerResult, MoAResult, Warning } from './core/reducer.js';
export { resolvePreset } from './core/resolve-preset.js';
export type { ResolvedAgent, ResolvedLayer, ResolvedPreset } from './core/resolve-preset.js';
export type { AgentInput, ConfigFileInput, LayerInput, PresetInput, ProviderInput } from './core/config-schema.js';
export { BUILTIN_PRESETS } from './core/builtin-presets.js';
export { DEFAULT_SYNTHESIS_PROMPT, buildAgentPrompt, buildSynthesisSystem } from './core/synthesis-prompt.js';
export { loadConfig, type LoadedConfig } from './core/load-config.js';
export { readTrace, writeTrace, createTraceWriter } from './core/trace-file.js';
export { createModelRegistry, type ModelRegistry, type ResolvedModel } from './models/registry.js';
export { BUILTIN_PROVIDERS } from './models/provider-catalog.js';
export { MoAError, ConfigError, ProviderError, AbortedError, RunFailedError, type ErrorInfo } from './util/errors.js';
export { createApp, DEFAULT_LIMITS, type AppOptions, type MoAApp, type ServerLimits } from './server/app.js';
export { startServer, type RunningServer, type StartServerOptions } from './server/start-server.js';
export { createMoA, type MoAProvider, type MoAProviderSettings } from './provider/create-moa.js';
export { serveMcpOverStdio, type StdioMcpOptions, type StdioMcpServer } from './server/mcp-stdio.js';
export { choosePresetInput, detectDefault, type PresetChoice } from './core/preset-choice.js';
export { chooseDefaultPreset, selfMoAPreset, DEFAULT_LOCAL_MODEL, type DefaultChoice } from './core/machine-default.js';
export { createMemoryResponseCache, responseCacheKey, type CachedResponse, type ResponseCache } from './core/response-cache.js';
export { runBatch, type BatchItem, type BatchItemContext, type BatchEvent, type BatchSummary, type RunBatchOptions } from './batch/run-batch.js';
export { openResponseCache, defaultCachePath } from './batch/response-cache.js';
export { modelsDir, resolveLocalModelPath, parseModelRef, pullModel, type PullOptions, type PullResult } from './models/local/index.js';
/** Benchmark formats, judge prompts and metrics (AlpacaEval 2.0 incl. length-controlled win rate, MT-Bench, FLASK). */
export * as evaluation from './eval/index.js';
