// A fake Gemini API (generativelanguage.googleapis.com) for tests: POST
// /v1beta/models/{model}:generateContent (one GenerateContentResponse) and
// :streamGenerateContent?alt=sse (one GenerateContentResponse per SSE `data:` line), with
// Google's error bodies ({error:{code, message, status, details}}, RetryInfo on a 429). Only
// node:http. Shapes follow what @ai-sdk/google sends and parses (`responseSchema`, `chunkSchema`,
// `googleErrorDataSchema`).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson as sendVendorJson, serveFake, words } from './fake-vendor-http.js';

export interface GoogleFailure {
  /** HTTP status; the body's `status` is derived from it (429 → RESOURCE_EXHAUSTED, 503 → UNAVAILABLE, …). */
  code: number;
  message?: string;
  /** A google.rpc.RetryInfo detail with this `retryDelay` (a Duration such as "1s"), as the Gemini API sends with a 429. */
  retryDelay?: string;
  /** Sent as a Retry-After header (the Gemini API itself does not; proxies in front of it may). */
  retryAfterHeader?: string;
}

export interface GoogleBehavior {
  /** The answer; default "<model> answer <n>: …" (several words, one SSE chunk per word when streaming). */
  text?: string | ((request: GoogleLogEntry) => string);
  /** Consumed one per request to this model, in order, before answering normally. */
  failures?: GoogleFailure[];
}

export interface GoogleLogEntry {
  id: number;
  method: string;
  /** The path without the query, e.g. /v1beta/models/gemini-2.5-flash:generateContent. */
  path: string;
  /** The query string as received ("alt=sse" for streams). */
  query: string;
  headers: IncomingHttpHeaders;
  /** The `x-goog-api-key` header. */
  apiKey: string | undefined;
  model: string;
  stream: boolean;
  systemInstruction: unknown;
  /** systemInstruction's parts' text, joined with blank lines. */
  systemText: string;
  contents: Array<{ role: string; text: string }>;
  generationConfig: Record<string, unknown> | undefined;
  body: Record<string, unknown>;
  status?: number;
  usage?: { promptTokenCount: number; candidatesTokenCount: number; totalTokenCount: number };
  answer?: string;
}

export interface FakeGoogleServer {
  origin: string;
  /** http://127.0.0.1:PORT/v1beta: GOOGLE_GENERATIVE_AI_BASE_URL for this server. */
  baseURL: string;
  log: GoogleLogEntry[];
  setBehavior(model: string, behavior: GoogleBehavior): void;
  reset(): void;
  close(): Promise<void>;
}

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  429: 'RESOURCE_EXHAUSTED',
  500: 'INTERNAL',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function partsText(content: unknown): string {
  const parts = (content as { parts?: unknown } | null | undefined)?.parts;
  if (!Array.isArray(parts)) return '';
  return parts
    .filter((part): part is { text: string } => typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string')
    .map((part) => part.text)
    .join('\n\n');
}

const JSON_TYPE = 'application/json; charset=UTF-8';

/** Google answers JSON with a charset. */
function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  sendVendorJson(response, status, body, headers, JSON_TYPE);
}

function googleError(code: number, message: string, details?: unknown[]): { error: Record<string, unknown> } {
  return { error: { code, message, status: STATUS_NAMES[code] ?? (code >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'), ...(details ? { details } : {}) } };
}

const ROUTE = /^\/v1beta\/models\/([^/:]+):(generateContent|streamGenerateContent)$/;

export async function startFakeGoogle(): Promise<FakeGoogleServer> {
  const behaviors = new Map<string, GoogleBehavior>();
  const consumed = new Map<string, number>();
  const log: GoogleLogEntry[] = [];
  let nextId = 1;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const [path = '', query = ''] = (request.url ?? '').split('?');
    const route = ROUTE.exec(path);
    if (request.method !== 'POST' || !route) {
      sendJson(response, 404, googleError(404, `Not found: ${request.method} ${path}`));
      return;
    }
    const model = decodeURIComponent(route[1]!);
    const stream = route[2] === 'streamGenerateContent';
    const body = JSON.parse(await readBody(request)) as Record<string, unknown>;
    const entry: GoogleLogEntry = {
      id: nextId++,
      method: request.method,
      path,
      query,
      headers: request.headers,
      apiKey: request.headers['x-goog-api-key'] as string | undefined,
      model,
      stream,
      systemInstruction: body.systemInstruction,
      systemText: partsText(body.systemInstruction),
      contents: Array.isArray(body.contents) ? (body.contents as Array<{ role: string }>).map((content) => ({ role: content.role, text: partsText(content) })) : [],
      generationConfig: body.generationConfig as Record<string, unknown> | undefined,
      body,
    };
    log.push(entry);
    const behavior = behaviors.get(model) ?? {};

    if (!entry.apiKey) {
      entry.status = 403;
      sendJson(
        response,
        403,
        googleError(
          403,
          "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        ),
      );
      return;
    }
    if (stream && query !== 'alt=sse') {
      // Without alt=sse the real API answers a JSON array, which the SDK cannot parse: make that a loud failure.
      entry.status = 400;
      sendJson(response, 400, googleError(400, `fake: streamGenerateContent without alt=sse (query "${query}")`));
      return;
    }

    const used = consumed.get(model) ?? 0;
    const failure = behavior.failures?.[used];
    if (failure) {
      consumed.set(model, used + 1);
      entry.status = failure.code;
      const details = failure.retryDelay !== undefined ? [{ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: failure.retryDelay }] : undefined;
      sendJson(
        response,
        failure.code,
        googleError(failure.code, failure.message ?? `${STATUS_NAMES[failure.code] ?? 'ERROR'} (fake)`, details),
        failure.retryAfterHeader !== undefined ? { 'retry-after': failure.retryAfterHeader } : {},
      );
      return;
    }

    let text =
      typeof behavior.text === 'function' ? behavior.text(entry) : (behavior.text ?? `${model} answer ${entry.id}: Rayleigh scattering favours short wavelengths.`);
    let tokens = words(text);
    let finishReason = 'STOP';
    const maxOutputTokens = entry.generationConfig?.maxOutputTokens;
    if (typeof maxOutputTokens === 'number' && tokens.length > maxOutputTokens) {
      tokens = tokens.slice(0, maxOutputTokens);
      text = tokens.join('');
      finishReason = 'MAX_TOKENS';
    }
    const promptTokenCount = words(entry.systemText).length + entry.contents.reduce((sum, content) => sum + words(content.text).length, 0) + 2;
    const usage = { promptTokenCount, candidatesTokenCount: tokens.length, totalTokenCount: promptTokenCount + tokens.length };
    const responseId = `fake-response-${entry.id}`;
    entry.status = 200;
    entry.usage = usage;
    entry.answer = text;

    if (!stream) {
      sendJson(response, 200, {
        candidates: [{ content: { parts: [{ text }], role: 'model' }, finishReason, index: 0 }],
        usageMetadata: usage,
        modelVersion: model,
        responseId,
      });
      return;
    }
    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let sent = 0;
    for (const [index, token] of tokens.entries()) {
      sent++;
      const last = index === tokens.length - 1;
      const chunk = {
        candidates: [{ content: { parts: [{ text: token }], role: 'model' }, ...(last ? { finishReason } : {}), index: 0 }],
        // Every chunk carries the usage so far, as the Gemini API does; the last one is the total.
        usageMetadata: { promptTokenCount, candidatesTokenCount: sent, totalTokenCount: promptTokenCount + sent },
        modelVersion: model,
        responseId,
      };
      response.write(`data: ${JSON.stringify(chunk)}\r\n\r\n`);
    }
    response.end();
  }

  const { origin, close } = await serveFake(handle, (message) => googleError(500, message), JSON_TYPE);
  return {
    origin,
    baseURL: `${origin}/v1beta`,
    log,
    setBehavior(model, behavior) {
      behaviors.set(model, behavior);
      consumed.delete(model);
    },
    reset() {
      log.length = 0;
      behaviors.clear();
      consumed.clear();
    },
    close,
  };
}
