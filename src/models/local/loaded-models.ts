/**
 * One loaded model per file, shared by every registry and agent that names it and
 * reference-counted: the first acquire loads it (one context with N sequences, its chat format),
 * the last release unloads it. Load failures say what to do (out of memory: a smaller
 * quantization, fewer sequences, a smaller context).
 */
import type { ChatWrapper, LlamaContext, LlamaModel } from 'node-llama-cpp';
import { AbortedError, ProviderError } from '../../util/errors.js';
import { sharedLlama } from './llama-instance.js';
import { loadNodeLlamaCpp } from './node-llama-cpp.js';
import { SMALL_MODEL_BYTES, type RuntimeSettings } from './runtime-settings.js';
import { SequencePool } from './sequence-pool.js';

export interface LoadedModel {
  path: string;
  model: LlamaModel;
  context: LlamaContext;
  sequences: SequencePool;
  chatWrapper: ChatWrapper;
  /** `gguf`: the template stored in the file; `fallback`: it has none, a general format is used. */
  chatTemplate: 'gguf' | 'fallback';
  /** Threads each evaluation uses, and whether a GPU does the work. */
  threads: number;
  gpu: string | false;
}

interface PoolEntry {
  references: number;
  loading: Promise<LoadedModel>;
}

const pool = new Map<string, PoolEntry>();
let totalLoads = 0;

function formatBytes(bytes: number): string {
  if (bytes >= 1024 ** 3) return `${(bytes / 1024 ** 3).toFixed(1)} GB`;
  if (bytes >= 1024 ** 2) return `${(bytes / 1024 ** 2).toFixed(0)} MB`;
  return `${Math.round(bytes / 1024)} KB`;
}

function isMemoryError(error: unknown): boolean {
  const message = error instanceof Error ? error.message : String(error);
  return (
    (error instanceof Error && error.name === 'InsufficientMemoryError') ||
    /insufficient memory|out of memory|too large for the available|failed to allocate|not enough (v?ram|memory)|cannot allocate/i.test(message)
  );
}

function loadError(error: unknown, path: string, label: string, fileSize: number, settings: RuntimeSettings): ProviderError {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof ProviderError) return error;
  if (isMemoryError(error)) {
    return new ProviderError(
      `${label}: the model ${path} (${formatBytes(fileSize)}) does not fit in memory with ${settings.sequences} parallel sequence(s) ` +
        `(${message}). Use a smaller quantization of it (e.g. Q4_K_M instead of Q8_0) or a smaller model, or fewer sequences ` +
        `(MOA_LOCAL_SEQUENCES=1) or a smaller context (MOA_LOCAL_CONTEXT_SIZE=2048).`,
      { provider: 'local', model: label, isRetryable: false, code: 'local_model_out_of_memory', cause: error },
    );
  }
  return new ProviderError(
    `${label}: llama.cpp could not load ${path}: ${message}. The file may be damaged or use an architecture this llama.cpp ` +
      '(node-llama-cpp 3.21.1) does not know: download it again with "moa pull", or try another build of the model.',
    { provider: 'local', model: label, isRetryable: false, code: 'local_model_load_failed', cause: error },
  );
}

async function loadModel(path: string, label: string, fileSize: number, settings: RuntimeSettings): Promise<LoadedModel> {
  const llama = await sharedLlama(settings);
  const { resolveChatWrapper, GeneralChatWrapper } = await loadNodeLlamaCpp();
  let model: LlamaModel | undefined;
  try {
    model = await llama.loadModel({ modelPath: path });
    const gpu = llama.gpu;
    const threads = gpu === false && !settings.threadsFixed && fileSize < SMALL_MODEL_BYTES ? 1 : settings.threads;
    const context = await model.createContext({
      sequences: settings.sequences,
      contextSize: { max: Math.max(256, Math.min(model.trainContextSize || settings.maxContextSize, settings.maxContextSize)) },
      threads,
    });
    const template = model.fileInfo.metadata?.tokenizer?.chat_template;
    const hasTemplate = typeof template === 'string' && template.trim() !== '';
    const chatWrapper = hasTemplate ? resolveChatWrapper(model, { warningLogs: false }) : new GeneralChatWrapper();
    totalLoads++;
    return {
      path,
      model,
      context,
      sequences: new SequencePool(context),
      chatWrapper,
      chatTemplate: hasTemplate ? 'gguf' : 'fallback',
      threads,
      gpu,
    };
  } catch (error) {
    await model?.dispose().catch(() => undefined);
    throw loadError(error, path, label, fileSize, settings);
  }
}

/**
 * Takes a reference to the model at `path`, loading it on first use. The
 * reference is counted at once (before loading finishes); every successful
 * acquire needs one `releaseModel(path)`. A failed load holds no reference.
 */
export function acquireModel(path: string, label: string, fileSize: number, settings: RuntimeSettings): Promise<LoadedModel> {
  let entry = pool.get(path);
  if (!entry) {
    const loading = loadModel(path, label, fileSize, settings);
    const created: PoolEntry = { references: 0, loading };
    entry = created;
    pool.set(path, created);
    loading.catch(() => {
      if (pool.get(path) === created) pool.delete(path);
    });
  }
  entry.references++;
  const held = entry;
  return held.loading.catch((error: unknown) => {
    held.references--;
    throw error;
  });
}

/** Drops one reference; the last one unloads the model (its context, then its weights). */
export async function releaseModel(path: string): Promise<void> {
  const entry = pool.get(path);
  if (!entry) return;
  entry.references--;
  if (entry.references > 0) return;
  pool.delete(path);
  const loaded = await entry.loading.catch(() => undefined);
  if (!loaded) return;
  loaded.sequences.rejectWaiters(new AbortedError('the local model was unloaded'));
  await loaded.context.dispose().catch(() => undefined);
  await loaded.model.dispose().catch(() => undefined);
}

export interface LocalModelStats {
  /** Models in memory now (or loading). */
  loadedModels: number;
  /** Loads since the process started (a model unloaded and loaded again counts twice). */
  totalLoads: number;
  models: Array<{
    path: string;
    references: number;
    sequences?: number;
    busySequences?: number;
    peakBusySequences?: number;
    /** Threads per evaluation, the GPU in use (false: CPU), where the chat format came from. */
    threads?: number;
    gpu?: string | false;
    chatTemplate?: 'gguf' | 'fallback';
  }>;
}

/** Introspection for tests and benchmarks: what is loaded, how often, how busy. */
export async function localModelStats(): Promise<LocalModelStats> {
  const models: LocalModelStats['models'] = [];
  for (const [path, entry] of pool) {
    const loaded = await entry.loading.catch(() => undefined);
    models.push({
      path,
      references: entry.references,
      ...(loaded
        ? {
            sequences: loaded.sequences.size,
            busySequences: loaded.sequences.busy,
            peakBusySequences: loaded.sequences.peakBusy,
            threads: loaded.threads,
            gpu: loaded.gpu,
            chatTemplate: loaded.chatTemplate,
          }
        : {}),
    });
  }
  return { loadedModels: pool.size, totalLoads, models };
}
