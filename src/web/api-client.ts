/**
 * The page's client of the server: presets from `GET /v1/models`, runs from
 * `POST /api/runs` (an SSE stream of MoAEvents), traces from `GET /api/runs/:id`.
 * `fetch` is injected so the client runs under test in Node.
 */
import type { ChatMessage, MoAEvent } from '../core/events.js';
import { readSseMessages } from './sse-decoder.js';

export type FetchFunction = (input: string, init?: RequestInit) => Promise<Response>;

export interface ClientOptions {
  /** Sent as `Authorization: Bearer <key>` when set (servers started with MOA_API_KEY require it). */
  apiKey?: string;
  fetch?: FetchFunction;
  /** Prefix of every path, '' for the page's own origin. */
  baseUrl?: string;
}

export interface PresetLayer {
  models: string[];
}

export interface PresetInfo {
  id: string;
  isDefault: boolean;
  layers: PresetLayer[];
}

export interface RunRequest {
  model: string;
  messages: ChatMessage[];
  temperature?: number;
  max_tokens?: number;
  /** The native stream's extension: `draft` streams the fastest proposer's answer as a labelled draft. */
  moa?: { draft?: boolean };
}

/** An error answered by the server (`{ error: { message, type, code } }`) or a broken exchange. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    message: string,
    readonly status: number,
    readonly type?: string,
    readonly code?: string,
  ) {
    super(message);
  }

  /** The server wants an API key (none sent, or a wrong one). */
  get needsApiKey(): boolean {
    return this.status === 401;
  }
}

function headersFor(options: ClientOptions, extra: Record<string, string> = {}): Record<string, string> {
  const headers: Record<string, string> = { ...extra };
  if (options.apiKey) headers.Authorization = `Bearer ${options.apiKey}`;
  return headers;
}

async function errorFromResponse(response: Response): Promise<ApiError> {
  let text = '';
  try {
    text = await response.text();
  } catch {
    // The body could not be read; the status says enough.
  }
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown; type?: unknown; code?: unknown } };
    const error = body.error;
    if (error && typeof error.message === 'string') {
      return new ApiError(
        error.message,
        response.status,
        typeof error.type === 'string' ? error.type : undefined,
        typeof error.code === 'string' ? error.code : undefined,
      );
    }
  } catch {
    // Not JSON: fall through to the status line.
  }
  const detail = text.trim().slice(0, 200);
  return new ApiError(`The server answered ${response.status} ${response.statusText}${detail ? `: ${detail}` : ''}`, response.status);
}

export async function listPresets(options: ClientOptions = {}): Promise<PresetInfo[]> {
  const fetchFunction = options.fetch ?? globalThis.fetch.bind(globalThis);
  const response = await fetchFunction(`${options.baseUrl ?? ''}/v1/models`, { headers: headersFor(options) });
  if (!response.ok) throw await errorFromResponse(response);
  const body = (await response.json()) as { data?: unknown };
  if (!Array.isArray(body.data)) throw new ApiError('The server sent no model list', response.status);
  const presets: PresetInfo[] = [];
  for (const entry of body.data as Array<Record<string, unknown>>) {
    if (typeof entry?.id !== 'string') continue;
    const moa = (entry.moa ?? {}) as { default?: unknown; layers?: unknown };
    const layers = Array.isArray(moa.layers)
      ? (moa.layers as Array<{ models?: unknown }>).map((layer) => ({
          models: Array.isArray(layer?.models) ? layer.models.filter((model): model is string => typeof model === 'string') : [],
        }))
      : [];
    presets.push({ id: entry.id, isDefault: moa.default === true, layers });
  }
  return presets;
}

export interface RunOutcome {
  runId?: string;
  /** The last event received: `run-end` or `run-error` when the stream finished properly. */
  lastEvent?: MoAEvent;
}

/**
 * Start a run and call `onEvent` for every event as it arrives. Resolves when
 * the stream ends with `run-end`/`run-error`; rejects with an ApiError when the
 * server refuses the run, when the stream breaks off, or with the abort reason
 * when `signal` aborts.
 */
export async function streamRun(
  request: RunRequest,
  onEvent: (event: MoAEvent) => void,
  options: ClientOptions & { signal?: AbortSignal; onRunId?: (runId: string) => void } = {},
): Promise<RunOutcome> {
  const fetchFunction = options.fetch ?? globalThis.fetch.bind(globalThis);
  const response = await fetchFunction(`${options.baseUrl ?? ''}/api/runs`, {
    method: 'POST',
    headers: headersFor(options, { 'Content-Type': 'application/json', Accept: 'text/event-stream' }),
    body: JSON.stringify(request),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  if (!response.ok) throw await errorFromResponse(response);
  const runId = response.headers.get('X-MoA-Run-Id') ?? undefined;
  if (runId !== undefined) options.onRunId?.(runId);
  if (response.body === null) throw new ApiError('The server sent an empty response', response.status);
  let lastEvent: MoAEvent | undefined;
  for await (const message of readSseMessages(response.body)) {
    if (message.data === '[DONE]') continue;
    let event: MoAEvent;
    try {
      event = JSON.parse(message.data) as MoAEvent;
    } catch {
      throw new ApiError(`The server sent an unreadable event: ${message.data.slice(0, 120)}`, response.status);
    }
    if (typeof event !== 'object' || event === null || typeof event.type !== 'string') continue;
    lastEvent = event;
    onEvent(event);
    if (event.type === 'run-end' || event.type === 'run-error') break;
  }
  if (lastEvent?.type !== 'run-end' && lastEvent?.type !== 'run-error') {
    throw new ApiError('The connection to the server closed before the run finished', response.status, undefined, 'stream_interrupted');
  }
  return { ...(runId !== undefined ? { runId } : {}), lastEvent };
}

/** The trace of a finished run, as JSONL text (the same format `moa ask --trace` writes). */
export async function fetchTrace(runId: string, options: ClientOptions = {}): Promise<string> {
  const fetchFunction = options.fetch ?? globalThis.fetch.bind(globalThis);
  const response = await fetchFunction(`${options.baseUrl ?? ''}/api/runs/${encodeURIComponent(runId)}`, { headers: headersFor(options) });
  if (!response.ok) throw await errorFromResponse(response);
  return response.text();
}
