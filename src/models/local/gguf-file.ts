/**
 * Checks a local model file before anything is loaded: it exists, it is a
 * file, and it starts with the 4-byte GGUF magic. Synchronous on purpose: the
 * registry resolves every model before a run starts, so a bad file is a
 * configuration error (CLI exit 2), never a mid-run failure.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { ConfigError } from '../../util/errors.js';
import { modelsDir } from './models-dir.js';

export const GGUF_MAGIC = 'GGUF';

/** The first bytes of a file, as printable text for error messages. */
function describeBytes(bytes: Buffer): string {
  return JSON.stringify(bytes.toString('latin1').replace(/[^\x20-\x7e]/g, '.'));
}

/** True when `bytes` starts with the GGUF magic. */
export function hasGgufMagic(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && Buffer.from(bytes.subarray(0, 4)).toString('latin1') === GGUF_MAGIC;
}

/**
 * Throws ConfigError naming `label` (e.g. `local:model.gguf`) and `path`, with
 * what to do, when the file is missing, a folder, or not GGUF. Returns its size.
 */
export function checkGgufFile(path: string, label: string, env: Record<string, string | undefined> = process.env): number {
  let size: number;
  try {
    const stats = statSync(path);
    if (stats.isDirectory()) {
      throw new ConfigError(`Model "${label}": ${path} is a folder, not a .gguf file. Name the model file itself, e.g. local:${path}/model.gguf.`, {
        code: 'local_model_not_file',
      });
    }
    size = stats.size;
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') {
      throw new ConfigError(
        `Model "${label}": file not found: ${path}. Download a GGUF model with "moa pull hf:<user>/<repo>/<file>.gguf" ` +
          `(it goes to the models folder, ${modelsDir(env)}; set MOA_MODELS_DIR to use another), or give the path of a .gguf file, e.g. local:./model.gguf.`,
        { code: 'local_model_missing', cause: error },
      );
    }
    throw new ConfigError(`Model "${label}": cannot read ${path}: ${(error as Error).message}`, { code: 'local_model_unreadable', cause: error });
  }
  const head = Buffer.alloc(64);
  let read: number;
  let descriptor: number | undefined;
  try {
    descriptor = openSync(path, 'r');
    read = readSync(descriptor, head, 0, head.length, 0);
  } catch (error) {
    throw new ConfigError(`Model "${label}": cannot read ${path}: ${(error as Error).message}`, { code: 'local_model_unreadable', cause: error });
  } finally {
    if (descriptor !== undefined) closeSync(descriptor);
  }
  const bytes = head.subarray(0, read);
  if (!hasGgufMagic(bytes)) {
    const text = bytes.toString('latin1');
    const hint = text.startsWith('version https://git-lfs')
      ? ' It is a Git LFS pointer, not the model: fetch the real file (git lfs pull), or download it with "moa pull".'
      : /^\s*</.test(text)
        ? ' It looks like an HTML page (a failed or gated download?): download it again with "moa pull".'
        : ' local: runs llama.cpp GGUF models only: download a .gguf build of the model (e.g. with "moa pull hf:<user>/<repo>/<file>.gguf") or convert it with llama.cpp.';
    throw new ConfigError(
      `Model "${label}": ${path} is not a GGUF file (${size === 0 ? 'it is empty' : `it starts with ${describeBytes(bytes.subarray(0, 8))}, not "GGUF"`}).${hint}`,
      { code: 'local_model_not_gguf' },
    );
  }
  return size;
}
