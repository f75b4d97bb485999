import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../util/errors.js';
import { DEFAULT_MAX_CONTEXT_SIZE, DEFAULT_SEQUENCES, runtimeSettings } from './runtime-settings.js';

describe('runtimeSettings', () => {
  it('defaults: GPU when usable (auto), threads = the cores this process may use, 4 sequences', () => {
    expect(runtimeSettings({})).toEqual({
      gpu: 'auto',
      threads: availableParallelism(),
      threadsFixed: false,
      sequences: DEFAULT_SEQUENCES,
      maxContextSize: DEFAULT_MAX_CONTEXT_SIZE,
    });
  });

  it('reads MOA_LOCAL_GPU, MOA_LOCAL_THREADS, MOA_LOCAL_SEQUENCES and MOA_LOCAL_CONTEXT_SIZE', () => {
    const settings = runtimeSettings({ MOA_LOCAL_GPU: 'off', MOA_LOCAL_THREADS: '3', MOA_LOCAL_SEQUENCES: '8', MOA_LOCAL_CONTEXT_SIZE: '2048' });
    expect(settings).toEqual({ gpu: false, threads: 3, threadsFixed: true, sequences: 8, maxContextSize: 2048 });
    expect(runtimeSettings({ MOA_LOCAL_GPU: 'CUDA' }).gpu).toBe('cuda');
  });

  it('rejects invalid values with a ConfigError naming the variable', () => {
    expect(() => runtimeSettings({ MOA_LOCAL_THREADS: '0' })).toThrow(ConfigError);
    expect(() => runtimeSettings({ MOA_LOCAL_THREADS: 'many' })).toThrow(/MOA_LOCAL_THREADS must be a whole number/);
    expect(() => runtimeSettings({ MOA_LOCAL_SEQUENCES: '2.5' })).toThrow(/MOA_LOCAL_SEQUENCES/);
    expect(() => runtimeSettings({ MOA_LOCAL_GPU: 'tpu' })).toThrow(/MOA_LOCAL_GPU must be auto, false, cuda, vulkan or metal/);
  });
});
