/**
 * Where local GGUF models live: `$MOA_MODELS_DIR`, default `~/.cache/moa/models`.
 * `local:<name>` with a bare name is looked up there; a path is used as is.
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

type Env = Record<string, string | undefined>;

function expandHome(path: string, env: Env): string {
  if (path === '~') return env.HOME || homedir();
  if (path.startsWith('~/') || path.startsWith('~\\')) return join(env.HOME || homedir(), path.slice(2));
  return path;
}

/** The models folder (absolute): `$MOA_MODELS_DIR` (`~` expanded), else `~/.cache/moa/models`. */
export function modelsDir(env: Env = process.env): string {
  const configured = env.MOA_MODELS_DIR?.trim();
  if (configured) return resolve(expandHome(configured, env));
  return join(env.HOME || homedir(), '.cache', 'moa', 'models');
}

/** A name with a directory part (or `~`, or absolute) is a path; anything else is a bare file name. */
export function isModelPath(name: string): boolean {
  return isAbsolute(name) || name.startsWith('~') || name.startsWith('.') || /[\\/]/.test(name);
}

/**
 * The file behind `local:<name>`. A path (absolute, `~/…`, `./…`, or with a
 * directory part) resolves against the working directory; a bare name resolves
 * inside the models folder, adding `.gguf` when the name has no extension and
 * only the `.gguf` file exists. The file may not exist: callers check.
 */
export function resolveLocalModelPath(name: string, env: Env = process.env): string {
  const trimmed = name.trim();
  if (isModelPath(trimmed)) return resolve(expandHome(trimmed, env));
  const path = join(modelsDir(env), trimmed);
  if (!existsSync(path) && !/\.gguf$/i.test(trimmed) && existsSync(`${path}.gguf`)) return `${path}.gguf`;
  return path;
}
