// A fake Anthropic Messages API for tests: POST /v1/messages answering as api.anthropic.com does
// (one `message` JSON object, or the SSE event sequence when `stream: true`), with Anthropic's error
// bodies and headers. Only node:http. Shapes follow what @ai-sdk/anthropic sends and parses
// (its `anthropicMessagesResponseSchema`, `anthropicMessagesChunkSchema`, `anthropicErrorDataSchema`).
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import { readBody, sendJson, serveFake, words } from './fake-vendor-http.js';

/** One failed answer: `{type:"error", error:{type, message}}` with this status. */
export interface AnthropicFailure {
  status: number;
  /** Anthropic's error type; derived from the status when absent (429 → rate_limit_error, 529 → overloaded_error, …). */
  type?: string;
  message?: string;
  /** Sent as the `retry-after` header (seconds, as Anthropic sends it). */
  retryAfter?: string;
}

export interface AnthropicBehavior {
  /** The answer; default "<model> answer <n>: …" (several words, one text_delta per word when streaming). */
  text?: string | ((request: AnthropicLogEntry) => string);
  /** Consumed one per request to this model, in order, before answering normally. */
  failures?: AnthropicFailure[];
  /** Streaming only: after `afterDeltas` text deltas of the next stream, send an `error` event and end (consumed once). */
  streamError?: { afterDeltas: number; type: string; message: string };
}

export interface AnthropicLogEntry {
  id: number;
  method: string;
  /** The request path, e.g. /v1/messages. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The `x-api-key` header. */
  apiKey: string | undefined;
  /** The `anthropic-version` header. */
  version: string | undefined;
  model: string;
  /** `system` as sent (Anthropic takes a string or a list of text blocks). */
  system: unknown;
  /** The system prompt's text (blocks joined with blank lines). */
  systemText: string;
  /** The turns, each message's text blocks joined. */
  messages: Array<{ role: string; text: string }>;
  maxTokens: number | undefined;
  temperature: number | undefined;
  stream: boolean;
  body: Record<string, unknown>;
  /** The `request-id` header answered (Anthropic's request id). */
  requestId: string;
  /** HTTP status answered. */
  status?: number;
  /** The usage reported (successful answers). */
  usage?: { input_tokens: number; output_tokens: number };
  /** The text answered (successful answers; up to the error for a broken stream). */
  answer?: string;
}

export interface FakeAnthropicServer {
  /** http://127.0.0.1:PORT, as ANTHROPIC_BASE_URL is written for Anthropic's own SDKs. */
  origin: string;
  /** http://127.0.0.1:PORT/v1, the base URL form @ai-sdk/anthropic expects. */
  baseURL: string;
  log: AnthropicLogEntry[];
  setBehavior(model: string, behavior: AnthropicBehavior): void;
  reset(): void;
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter((block): block is { type: 'text'; text: string } => typeof block === 'object' && block !== null && (block as { type?: unknown }).type === 'text')
    .map((block) => block.text)
    .join('\n\n');
}

function sse(response: ServerResponse, event: string, data: unknown): void {
  response.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
}

export async function startFakeAnthropic(): Promise<FakeAnthropicServer> {
  const behaviors = new Map<string, AnthropicBehavior>();
  const consumed = new Map<string, number>();
  const log: AnthropicLogEntry[] = [];
  let nextId = 1;

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '').split('?')[0] ?? '';
    const id = nextId++;
    const requestId = `req_fake_${id}`;
    if (request.method !== 'POST' || path !== '/v1/messages') {
      sendJson(response, 404, { type: 'error', error: { type: 'not_found_error', message: `Not found: ${request.method} ${path}` } }, { 'request-id': requestId });
      return;
    }
    const raw = await readBody(request);
    const body = JSON.parse(raw) as Record<string, unknown>;
    const model = String(body.model);
    const entry: AnthropicLogEntry = {
      id,
      method: request.method,
      path,
      headers: request.headers,
      apiKey: request.headers['x-api-key'] as string | undefined,
      version: request.headers['anthropic-version'] as string | undefined,
      model,
      system: body.system,
      systemText: textOf(body.system),
      messages: Array.isArray(body.messages)
        ? (body.messages as Array<{ role: string; content: unknown }>).map((message) => ({ role: message.role, text: textOf(message.content) }))
        : [],
      maxTokens: typeof body.max_tokens === 'number' ? body.max_tokens : undefined,
      temperature: typeof body.temperature === 'number' ? body.temperature : undefined,
      stream: body.stream === true,
      body,
      requestId,
    };
    log.push(entry);
    const behavior = behaviors.get(model) ?? {};

    // The real API checks these first: no key or no version header is a 401/400.
    if (!entry.apiKey) {
      entry.status = 401;
      sendJson(response, 401, { type: 'error', error: { type: 'authentication_error', message: 'x-api-key header is required' } }, { 'request-id': requestId });
      return;
    }
    if (!entry.version) {
      entry.status = 400;
      sendJson(response, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'anthropic-version: header is required' } }, { 'request-id': requestId });
      return;
    }
    if (entry.maxTokens === undefined) {
      entry.status = 400;
      sendJson(response, 400, { type: 'error', error: { type: 'invalid_request_error', message: 'max_tokens: Field required' } }, { 'request-id': requestId });
      return;
    }

    const used = consumed.get(model) ?? 0;
    const failure = behavior.failures?.[used];
    if (failure) {
      consumed.set(model, used + 1);
      entry.status = failure.status;
      const type = failure.type ?? ERROR_TYPES[failure.status] ?? (failure.status >= 500 ? 'api_error' : 'invalid_request_error');
      sendJson(
        response,
        failure.status,
        { type: 'error', error: { type, message: failure.message ?? `${type} (fake)` } },
        {
          'request-id': requestId,
          ...(failure.retryAfter !== undefined ? { 'retry-after': failure.retryAfter } : {}),
          ...(failure.status === 529 || failure.status >= 500 ? { 'x-should-retry': 'true' } : {}),
        },
      );
      return;
    }

    let text = typeof behavior.text === 'function' ? behavior.text(entry) : (behavior.text ?? `${model} answer ${entry.id}: the sky scatters blue light most.`);
    let tokens = words(text);
    let stopReason = 'end_turn';
    if (tokens.length > entry.maxTokens) {
      tokens = tokens.slice(0, entry.maxTokens);
      text = tokens.join('');
      stopReason = 'max_tokens';
    }
    const inputTokens = words(entry.systemText).length + entry.messages.reduce((sum, message) => sum + words(message.text).length, 0) + 3;
    const usage = { input_tokens: inputTokens, output_tokens: tokens.length };
    const messageId = `msg_fake_${entry.id}`;
    entry.status = 200;

    if (!entry.stream) {
      entry.usage = usage;
      entry.answer = text;
      sendJson(
        response,
        200,
        { id: messageId, type: 'message', role: 'assistant', model, content: [{ type: 'text', text }], stop_reason: stopReason, stop_sequence: null, usage },
        { 'request-id': requestId },
      );
      return;
    }

    response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'request-id': requestId });
    sse(response, 'message_start', {
      type: 'message_start',
      message: {
        id: messageId,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: inputTokens, output_tokens: 1 },
      },
    });
    sse(response, 'content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
    sse(response, 'ping', { type: 'ping' });
    const streamError = behavior.streamError;
    if (streamError) behaviors.set(model, { ...behavior, streamError: undefined });
    let sent = '';
    for (const [index, token] of tokens.entries()) {
      if (streamError && index === streamError.afterDeltas) {
        sse(response, 'error', { type: 'error', error: { type: streamError.type, message: streamError.message } });
        entry.answer = sent;
        response.end();
        return;
      }
      sse(response, 'content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: token } });
      sent += token;
    }
    sse(response, 'content_block_stop', { type: 'content_block_stop', index: 0 });
    sse(response, 'message_delta', { type: 'message_delta', delta: { stop_reason: stopReason, stop_sequence: null }, usage: { output_tokens: tokens.length } });
    sse(response, 'message_stop', { type: 'message_stop' });
    entry.usage = usage;
    entry.answer = text;
    response.end();
  }

  const { origin, close } = await serveFake(handle, (message) => ({ type: 'error', error: { type: 'api_error', message } }));
  return {
    origin,
    baseURL: `${origin}/v1`,
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
