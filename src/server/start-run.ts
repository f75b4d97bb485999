/** One MoA run for a request: the preset by name, the request's aggregator settings, the server's shared registry. */
import type { MoAEvent, StreamMode } from '../core/events.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import { streamMoA, type MoARun, type RunOptions } from '../core/stream-moa.js';
import type { ModelRegistry } from '../models/registry.js';
import { finalCallOptions } from '../core/aggregator-settings.js';
import type { RunRequest } from './run-request.js';
import { withAggregatorSettings, type PresetCatalog } from '../node/preset-catalog.js';
import type { RunStore } from './run-store.js';

/** Run settings the server applies to every run (tests shorten the retry delays). */
export type ServerRunOptions = Pick<
  RunOptions,
  'timeoutMs' | 'attemptTimeoutMs' | 'maxRetries' | 'retryBaseDelayMs' | 'retryMaxDelayMs' | 'maxRetryAfterMs' | 'random' | 'clock'
>;

export interface RunDependencies {
  catalog: PresetCatalog;
  registry: ModelRegistry;
  store: RunStore;
  runOptions: ServerRunOptions;
}

export interface StartedRun {
  run: MoARun;
  preset: ResolvedPreset;
}

/**
 * Start a run; throws synchronously for an unknown preset, a bad conversation, a preset the
 * server cannot run (e.g. a missing API key), or an aggregator setting the preset's final
 * models cannot honour (a 400 naming the field).
 */
export function startRun(dependencies: RunDependencies, request: RunRequest, stream: StreamMode, signal: AbortSignal, onEvent?: (event: MoAEvent) => void): StartedRun {
  const { catalog, registry } = dependencies;
  const preset = withAggregatorSettings(catalog.resolve(request.model), {
    ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
    ...(request.maxTokens !== undefined ? { maxTokens: request.maxTokens } : {}),
  });
  const final = request.settings ? finalCallOptions(preset, registry, request.settings, request.params ?? {}) : undefined;
  const run = streamMoA(preset, request.messages, {
    stream,
    registry,
    signal,
    ...(final ? { final } : {}),
    ...(request.toolLoop ? { toolLoop: request.toolLoop } : {}),
    ...(request.draft ? { draft: true } : {}),
    ...(catalog.timeoutMs !== undefined ? { timeoutMs: catalog.timeoutMs } : {}),
    ...(catalog.maxRetries !== undefined ? { maxRetries: catalog.maxRetries } : {}),
    ...dependencies.runOptions,
    ...(onEvent ? { onEvent } : {}),
  });
  dependencies.store.track(run);
  return { run, preset };
}
