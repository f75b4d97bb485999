/**
 * The process's one llama.cpp runtime (`Llama`), created on first use: GPU when one is usable,
 * else CPU with threads set from the cores actually available; where its one-time notes go.
 */
import type { Llama } from 'node-llama-cpp';
import { ProviderError } from '../../util/errors.js';
import { loadNodeLlamaCpp } from './node-llama-cpp.js';
import type { RuntimeSettings } from './runtime-settings.js';

/** Where one-time notes go (chat-template fallback, llama.cpp errors). */
export type WarningSink = (message: string) => void;

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
  const { getLlama, LlamaLogLevel } = await loadNodeLlamaCpp();
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

export function sharedLlama(settings: RuntimeSettings): Promise<Llama> {
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
