/**
 * How local models run, from the environment: MOA_LOCAL_GPU, MOA_LOCAL_THREADS (default: the cores
 * available to this process), MOA_LOCAL_SEQUENCES (parallel sequences per model) and
 * MOA_LOCAL_CONTEXT_SIZE. A bad value is a ConfigError naming the variable.
 */
import { availableParallelism } from 'node:os';
import { ConfigError } from '../../util/errors.js';

type Env = Record<string, string | undefined>;

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
