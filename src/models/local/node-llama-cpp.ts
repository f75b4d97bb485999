/**
 * node-llama-cpp is an optional dependency (about 700 MB with its prebuilt binaries): users of
 * remote providers never install or load it. It is imported only when a `local:` model is used,
 * and its absence is a ConfigError saying how to add it.
 */
import { createRequire } from 'node:module';
import { ConfigError } from '../../util/errors.js';

export const NODE_LLAMA_CPP_VERSION = '3.21.1';

export const NODE_LLAMA_CPP_MISSING =
  `Local models (local:<file.gguf>) need node-llama-cpp, which is not installed: run "npm install node-llama-cpp@${NODE_LLAMA_CPP_VERSION}" ` +
  '(for a global moa: "npm install -g node-llama-cpp@' +
  NODE_LLAMA_CPP_VERSION +
  '" next to it), or install moa without --omit=optional.';

/** Whether node-llama-cpp can be found (checked when a local model is resolved, before any call). */
export function isNodeLlamaCppInstalled(): boolean {
  try {
    createRequire(import.meta.url).resolve('node-llama-cpp');
    return true;
  } catch {
    return false;
  }
}

export function assertNodeLlamaCpp(label: string): void {
  if (!isNodeLlamaCppInstalled()) throw new ConfigError(`Model "${label}": ${NODE_LLAMA_CPP_MISSING}`, { code: 'local_runtime_missing' });
}

export async function loadNodeLlamaCpp(): Promise<typeof import('node-llama-cpp')> {
  try {
    return await import('node-llama-cpp');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /node-llama-cpp/.test((error as Error).message)) {
      throw new ConfigError(NODE_LLAMA_CPP_MISSING, { code: 'local_runtime_missing', cause: error });
    }
    throw error;
  }
}
