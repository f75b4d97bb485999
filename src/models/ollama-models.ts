/**
 * Which models a local Ollama server has installed (`GET /api/tags`), for the
 * zero-key default. Answers undefined when no server answers quickly: the
 * probe must never slow a command down by more than its short timeout.
 */
import type { FetchFunction } from './create-provider.js';

export interface OllamaModelInfo {
  name: string;
  /** Bytes on disk. */
  size?: number;
}

export const DEFAULT_OLLAMA_HOST = 'http://127.0.0.1:11434';

/** OLLAMA_HOST as Ollama itself accepts it: `host:port`, `http://host:port`, with or without `/api`. */
export function ollamaRoot(env: Record<string, string | undefined>): string {
  const host = env.OLLAMA_HOST?.trim() || DEFAULT_OLLAMA_HOST;
  const withScheme = /^https?:\/\//.test(host) ? host : `http://${host}`;
  return withScheme.replace(/\/+$/, '').replace(/\/api$/, '');
}

export async function listOllamaModels(
  env: Record<string, string | undefined>,
  options: { fetch?: FetchFunction; timeoutMs?: number } = {},
): Promise<OllamaModelInfo[] | undefined> {
  const fetchFunction = options.fetch ?? globalThis.fetch;
  try {
    const response = await fetchFunction(`${ollamaRoot(env)}/api/tags`, { signal: AbortSignal.timeout(options.timeoutMs ?? 1_000) });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { models?: Array<{ name?: unknown; model?: unknown; size?: unknown }> };
    if (!Array.isArray(body.models)) return undefined;
    return body.models.flatMap((model) => {
      const name = typeof model.name === 'string' ? model.name : typeof model.model === 'string' ? model.model : undefined;
      return name ? [{ name, ...(typeof model.size === 'number' ? { size: model.size } : {}) }] : [];
    });
  } catch {
    return undefined;
  }
}
