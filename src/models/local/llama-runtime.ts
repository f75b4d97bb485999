/**
 * The process-wide llama.cpp runtime behind `local:` models:
 *
 * - one `Llama` instance per process, created on first use (GPU when one is
 *   usable, else CPU with threads set from the cores actually available);
 * - one loaded model per file, shared by every registry and agent that names
 *   it, reference-counted: the last release unloads it;
 * - one context per model with N sequences; each call borrows a free sequence
 *   (waiting when all are busy), so concurrent agents on one model run as
 *   parallel sequences of one batch instead of loading the model again or
 *   running one after another.
 *
 * node-llama-cpp is imported lazily: runs that use no local model never load it.
 */
import { availableParallelism } from 'node:os';
import type { ChatWrapper, Llama, LlamaContext, LlamaContextSequence, LlamaModel } from 'node-llama-cpp';
import { AbortedError, ConfigError, ProviderError } from '../../util/errors.js';

type Env = Record<string, string | undefined>;

/** Where one-time notes go (chat-template fallback, llama.cpp errors). */
export type WarningSink = (message: string) => void;

export const DEFAULT_SEQUENCES = 4;
export const DEFAULT_MAX_CONTEXT_SIZE = 8192;
/**
 * Below this file size a token is so little work that splitting it across
 * threads costs more than it saves: on a 2-core VM, stories260K (1 MB) makes
 * 64 tokens in ~50 ms on 1 thread and ~1 s on 2. Larger models use every core.
 */
export const SMALL_MODEL_BYTES = 64 * 1024 * 1024;

export interface RuntimeSettings {
  /** `auto` (default), `false` for CPU only, or a GPU type (`cuda`, `vulkan`, `metal`). */
  gpu: 'auto' | false | 'cuda' | 'vulkan' | 'metal';
  /** Threads for evaluation; default: the cores available to this process. */
  threads: number;
  /** Threads fixed by MOA_LOCAL_THREADS (no small-model adjustment). */
  threadsFixed: boolean;
  /** Parallel sequences per loaded model. */
  sequences: number;
  /** Upper bound of each sequence's context (tokens); llama.cpp shrinks it to fit memory. */
  maxContextSize: number;
}

function positiveInteger(env: Env, name: string, fallback: number, max: number): number {
  const raw = env[name]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new ConfigError(`${name} must be a whole number from 1 to ${max} (got "${raw}")`, { code: 'local_setting_invalid' });
  }
  return value;
}

/** Settings from the environment: MOA_LOCAL_GPU, MOA_LOCAL_THREADS, MOA_LOCAL_SEQUENCES, MOA_LOCAL_CONTEXT_SIZE. */
export function runtimeSettings(env: Env = process.env): RuntimeSettings {
  const gpuSetting = env.MOA_LOCAL_GPU?.trim().toLowerCase() || 'auto';
  let gpu: RuntimeSettings['gpu'];
  if (['false', 'off', 'no', 'cpu', '0'].includes(gpuSetting)) gpu = false;
  else if (gpuSetting === 'auto' || gpuSetting === 'cuda' || gpuSetting === 'vulkan' || gpuSetting === 'metal') gpu = gpuSetting;
  else {
    throw new ConfigError(`MOA_LOCAL_GPU must be auto, false, cuda, vulkan or metal (got "${env.MOA_LOCAL_GPU}")`, { code: 'local_setting_invalid' });
  }
  const cores = Math.max(1, availableParallelism());
  return {
    gpu,
    threads: positiveInteger(env, 'MOA_LOCAL_THREADS', cores, 1024),
    threadsFixed: Boolean(env.MOA_LOCAL_THREADS?.trim()),
    sequences: positiveInteger(env, 'MOA_LOCAL_SEQUENCES', DEFAULT_SEQUENCES, 64),
    maxContextSize: positiveInteger(env, 'MOA_LOCAL_CONTEXT_SIZE', DEFAULT_MAX_CONTEXT_SIZE, 1 << 20),
  };
}

// ---------------------------------------------------------------- the Llama instance

let llamaPromise: Promise<Llama> | undefined;
let llamaSettingsKey: string | undefined;
let warningSink: WarningSink = (message) => void process.stderr.write(`moa: warning: ${message}\n`);

/** Where the runtime's one-time notes go (default: a `moa: warning:` line on stderr). */
export function setLocalWarningSink(sink: WarningSink): void {
  warningSink = sink;
}

export function emitLocalWarning(message: string): void {
  warningSink(message);
}

async function createLlama(settings: RuntimeSettings): Promise<Llama> {
  const { getLlama, LlamaLogLevel } = await import('node-llama-cpp');
  const common = {
    build: 'never' as const,
    progressLogs: false,
    // Without this, node-llama-cpp uses max(4, math cores) threads on CPU: on a 2-core machine 4
    // spinning threads make generation hundreds of times slower.
    maxThreads: settings.threads,
    logLevel: LlamaLogLevel.error,
    logger: (level: string, message: string) => {
      const text = message.trim();
      if (text && (level === 'error' || level === 'fatal')) emitLocalWarning(`llama.cpp ${level}: ${text}`);
    },
  };
  try {
    return await getLlama({ ...common, gpu: settings.gpu });
  } catch (error) {
    if (settings.gpu === false) {
      throw new ProviderError(
        `Cannot start llama.cpp for local models: ${(error as Error).message}. node-llama-cpp ships prebuilt binaries for ` +
          'Linux, macOS and Windows (x64, arm64); on another platform build one with "npx --no node-llama-cpp source download".',
        { provider: 'local', model: 'local', isRetryable: false, code: 'local_runtime_unavailable', cause: error },
      );
    }
    // A GPU build that does not work here (driver, missing libraries): the CPU always does.
    emitLocalWarning(`GPU support (${String(settings.gpu)}) failed to start, using the CPU: ${(error as Error).message}`);
    return createLlama({ ...settings, gpu: false });
  }
}

function sharedLlama(settings: RuntimeSettings): Promise<Llama> {
  const key = JSON.stringify([settings.gpu, settings.threads]);
  if (llamaPromise && llamaSettingsKey !== key && !warnedSettings) {
    warnedSettings = true;
    emitLocalWarning('local models: the llama.cpp runtime was already started with other MOA_LOCAL_GPU/MOA_LOCAL_THREADS settings; keeping those.');
  }
  if (!llamaPromise) {
    llamaSettingsKey = key;
    llamaPromise = createLlama(settings);
    llamaPromise.catch(() => {
      llamaPromise = undefined; // let a later call try again
    });
  }
  return llamaPromise;
}
let warnedSettings = false;

// ---------------------------------------------------------------- sequences

/** Lends the sequences of one context to calls, one call per sequence; waiters queue in order. */
export class SequencePool {
  private readonly free: LlamaContextSequence[] = [];
  private readonly waiters: Array<{ resolve: (sequence: LlamaContextSequence) => void; reject: (error: unknown) => void }> = [];
  private busyCount = 0;
  private peak = 0;

  constructor(private readonly context: LlamaContext) {}

  get busy(): number {
    return this.busyCount;
  }

  /** The most sequences ever busy at once. */
  get peakBusy(): number {
    return this.peak;
  }

  get size(): number {
    return this.context.totalSequences;
  }

  private lend(sequence: LlamaContextSequence): LlamaContextSequence {
    this.busyCount++;
    this.peak = Math.max(this.peak, this.busyCount);
    return sequence;
  }

  acquire(signal: AbortSignal | undefined): Promise<LlamaContextSequence> {
    if (signal?.aborted) return Promise.reject(signal.reason ?? new AbortedError());
    const ready = this.free.pop();
    if (ready) return Promise.resolve(this.lend(ready));
    if (this.context.sequencesLeft > 0) return Promise.resolve(this.lend(this.context.getSequence()));
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (sequence: LlamaContextSequence) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(this.lend(sequence));
        },
        reject,
      };
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(signal?.reason ?? new AbortedError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  /** Clears the sequence's state and gives it to the next waiter (or keeps it free). */
  async release(sequence: LlamaContextSequence): Promise<void> {
    this.busyCount--;
    try {
      if (!sequence.disposed) await sequence.clearHistory();
    } catch {
      // a sequence that cannot be cleared is dropped; a fresh one replaces it
      sequence.dispose().catch(() => undefined);
    }
    const next = this.waiters.shift();
    if (sequence.disposed || this.context.disposed) {
      if (next && !this.context.disposed && this.context.sequencesLeft > 0) next.resolve(this.context.getSequence());
      else next?.reject(new AbortedError('the local model was unloaded'));
      return;
    }
    if (next) next.resolve(sequence);
    else this.free.push(sequence);
  }

  rejectWaiters(error: unknown): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
  }
}

// ---------------------------------------------------------------- loaded models

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
  const { resolveChatWrapper, GeneralChatWrapper } = await import('node-llama-cpp');
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
