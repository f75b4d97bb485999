// A fake OpenAI-compatible chat completions server for end-to-end tests and benchmarks.
// Only node:http; cheap per request so benchmarks can push thousands of requests through it.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

export interface FakeFailure {
  status: number;
  retryAfter?: number /* seconds, sent as Retry-After header */;
  message?: string;
}
export interface FakeBehavior {
  delayMs?: number; // wait before the response starts (headers/first byte); default 0
  tokenDelayMs?: number; // for streams: wait between content chunks; default 0 (chunks are still separate events)
  tokens?: number; // number of output tokens (words) in the answer; default 20
  text?: string | ((request: FakeRequest) => string); // full answer text; overrides tokens-based filler
  failures?: FakeFailure[]; // consumed one per request to this model, in order, before answering normally
  alwaysFail?: FakeFailure; // every request fails with this
  hang?: boolean; // accept the request and never answer (until the client aborts/closes)
  hangTimes?: number; // hang only for the first N requests to this model, then answer normally
  chunkTokens?: number; // tokens per SSE chunk (default 1)
  paceNonStreamed?: boolean; // a JSON answer waits as long as streaming it would (tokenDelayMs per chunk after the first), like a model generating it
  randomFailures?: { rate: number; failure: FakeFailure }; // each request fails with this probability (after hangs, instead of answering)
  randomHangRate?: number; // each request hangs with this probability
  seed?: number; // seed of the per-model random choices above (default 1): runs are reproducible
  /**
   * The first token's top log-probabilities, returned (OpenAI-shaped, `choices[0].logprobs.content`,
   * cut to the request's `top_logprobs`) when a request asks with `logprobs: true`. Unset: the
   * server ignores the logprobs parameters, as a server without logprobs support does.
   */
  logprobs?: FakeTopLogprobs | ((request: FakeRequest) => FakeTopLogprobs | undefined);
  rejectLogprobs?: boolean; // a request asking for logprobs fails with HTTP 400 naming them (a server that refuses the parameter)
  /**
   * Streamed requests: after `afterTokens` content chunks, send `data: <body as JSON>` (an error chunk in the
   * upstream's own shape, e.g. OpenRouter's `{ error: { code: 502, message } }`) and end the stream.
   * Only the first `times` streamed requests to this model (default: all).
   */
  streamError?: { afterTokens: number; body: unknown; times?: number };
  /**
   * Answer with tool calls in OpenAI's shapes: `message.tool_calls` and `finish_reason: "tool_calls"`, or streamed as
   * `delta.tool_calls` chunks (the call's id, type and name first, then its arguments in `argumentChunks` pieces).
   * A function sees the request (e.g. answer with a call only when the request carries tools, or only before a
   * tool result); an empty list or undefined answers with text as usual. The content is null unless `toolCallText` is set.
   */
  toolCalls?: FakeToolCall[] | ((request: FakeRequest) => FakeToolCall[] | undefined);
  toolCallText?: string; // text content sent along with the tool calls (default: none, content null)
  argumentChunks?: number; // pieces a streamed tool call's arguments are split into (default 3)
}
/** One tool call the fake answers with; `arguments` as JSON text, or a value to JSON-encode. */
export interface FakeToolCall {
  id?: string;
  name: string;
  arguments: string | Record<string, unknown>;
}
export type FakeTopLogprobs = Array<{ token: string; logprob: number }>;
export interface FakeRequest {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  stream: boolean;
  temperature?: number;
  max_tokens?: number;
  body: Record<string, unknown>;
  headers: Record<string, string | string[] | undefined>;
}
export interface FakeLogEntry {
  id: number;
  model: string;
  stream: boolean;
  messages: FakeRequest['messages'];
  temperature?: number;
  maxTokens?: number;
  logprobs?: boolean;
  topLogprobs?: number; // the request's `logprobs` and `top_logprobs`, when sent
  tools?: unknown[];
  toolChoice?: unknown;
  responseFormat?: unknown; // the request's `tools`, `tool_choice`, `response_format`, when sent
  body: Record<string, unknown>; // the whole request body as received (stop, seed, top_p, parallel_tool_calls, …)
  authorization?: string; // the Authorization header as received
  startedAt: number; // performance.now() when the request arrived
  firstByteAt?: number;
  endedAt?: number;
  outcome: 'pending' | 'ok' | 'failed' | 'aborted'; // aborted = client closed before we finished
  status?: number;
}
export interface FakeLLMServer {
  url: string; // base URL ending in /v1, e.g. http://127.0.0.1:PORT/v1
  port: number;
  log: FakeLogEntry[];
  /** Every /v1/embeddings request: its model and inputs. */
  embeddingRequests: Array<{ model: string; inputs: string[] }>;
  /** The most chat completions that were in flight at once since the start (or the last reset()). */
  readonly maxInFlight: number;
  setBehavior(model: string, behavior: FakeBehavior): void;
  setDefaultBehavior(behavior: FakeBehavior): void;
  reset(): void; // clears log, behaviours, failure counters
  waitForIdle(timeoutMs?: number): Promise<void>; // resolves when no request is pending
  close(): Promise<void>; // closes server and destroys open sockets
}

/** One in-flight chat completion: its log entry and the timer currently scheduled for it. */
interface Exchange {
  entry: FakeLogEntry;
  res: ServerResponse;
  timer?: NodeJS.Timeout;
  done: boolean;
}

const errorTypes: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  429: 'rate_limit_error',
};

function errorBody(status: number, message: string): string {
  const type = errorTypes[status] ?? (status >= 500 ? 'server_error' : 'api_error');
  return JSON.stringify({ error: { message, type, code: null } });
}

function sendJson(res: ServerResponse, status: number, body: string, extraHeaders: Record<string, string> = {}): void {
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), ...extraHeaders });
  res.end(body);
}

function countWords(text: string): number {
  const matches = text.match(/\S+/g);
  return matches === null ? 0 : matches.length;
}

/** Text of a message content: a string, or the text parts of an array of parts joined by spaces. */
function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  const texts: string[] = [];
  for (const part of content as unknown[]) {
    if (typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string') texts.push((part as { text: string }).text);
  }
  return texts.join(' ');
}

/** Splits text into tokens: each token is a word plus its following whitespace, so joining the tokens gives back the text. */
function tokenize(text: string): string[] {
  const tokens = text.match(/\S+\s*/g) ?? [];
  const leading = /^\s+/.exec(text);
  if (leading !== null && tokens.length > 0) tokens[0] = leading[0] + tokens[0];
  return tokens;
}

function fillerText(model: string, tokens: number): string {
  const words: string[] = [];
  if (tokens > 0) words.push(`[${model}]`);
  for (let index = 1; index < tokens; index++) words.push(`w${index}`);
  return words.join(' ');
}

export async function startFakeLLMServer(
  options: { port?: number; host?: string; behaviors?: Record<string, FakeBehavior>; defaultBehavior?: FakeBehavior } = {},
): Promise<FakeLLMServer> {
  const behaviors = new Map<string, FakeBehavior>(Object.entries(options.behaviors ?? {}));
  let defaultBehavior: FakeBehavior = options.defaultBehavior ?? {};
  const requestCounts = new Map<string, number>(); // requests per model since its behaviour was set (for hangTimes)
  const failureCounts = new Map<string, number>(); // failures consumed per model
  const streamedCounts = new Map<string, number>(); // streamed answers begun per model (for streamError.times)
  const randomStates = new Map<string, number>(); // per-model PRNG state (mulberry32) for randomFailures / randomHangRate
  function random(model: string, seed: number): number {
    let state = (randomStates.get(model) ?? seed) >>> 0;
    state = (state + 0x6d2b79f5) >>> 0;
    randomStates.set(model, state);
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  }
  const log: FakeLogEntry[] = [];
  const embeddingRequests: Array<{ model: string; inputs: string[] }> = [];
  const inFlight = new Set<Exchange>();
  let maxInFlight = 0;
  let idleWaiters: Array<() => void> = [];
  let nextId = 1;

  function finish(exchange: Exchange, outcome: FakeLogEntry['outcome']): void {
    if (exchange.done) return;
    exchange.done = true;
    if (exchange.timer !== undefined) clearTimeout(exchange.timer);
    exchange.timer = undefined;
    exchange.entry.outcome = outcome;
    exchange.entry.endedAt = performance.now();
    inFlight.delete(exchange);
    if (inFlight.size === 0 && idleWaiters.length > 0) {
      const waiters = idleWaiters;
      idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  function later(exchange: Exchange, delayMs: number, action: () => void): void {
    if (delayMs <= 0) {
      action();
      return;
    }
    exchange.timer = setTimeout(() => {
      exchange.timer = undefined;
      if (!exchange.done) action();
    }, delayMs);
  }

  function fail(exchange: Exchange, failure: FakeFailure): void {
    const { entry, res } = exchange;
    const headers: Record<string, string> = failure.retryAfter === undefined ? {} : { 'Retry-After': String(failure.retryAfter) };
    entry.status = failure.status;
    entry.firstByteAt = performance.now();
    sendJson(res, failure.status, errorBody(failure.status, failure.message ?? `fake upstream error ${failure.status} for model ${entry.model}`), headers);
    finish(exchange, 'failed');
  }

  function answer(exchange: Exchange, behavior: FakeBehavior, request: FakeRequest): void {
    const { entry, res } = exchange;
    let text: string;
    try {
      text = typeof behavior.text === 'function' ? behavior.text(request) : (behavior.text ?? fillerText(request.model, behavior.tokens ?? 20));
    } catch (error) {
      fail(exchange, { status: 500, message: `fake text function threw: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    let tokens = tokenize(text);
    let finishReason = 'stop';
    if (request.max_tokens !== undefined && request.max_tokens < tokens.length) {
      tokens = tokens.slice(0, Math.max(0, request.max_tokens));
      const lastIndex = tokens.length - 1;
      if (lastIndex >= 0) tokens[lastIndex] = (tokens[lastIndex] ?? '').trimEnd();
      finishReason = 'length';
    }
    const promptTokens = request.messages.reduce((sum, message) => sum + countWords(contentText(message.content)), 0);
    const usage = { prompt_tokens: promptTokens, completion_tokens: tokens.length, total_tokens: promptTokens + tokens.length };
    let logprobs: { content: Array<{ token: string; logprob: number; top_logprobs: FakeTopLogprobs }> } | undefined;
    if (request.body['logprobs'] === true && behavior.logprobs !== undefined) {
      let top: FakeTopLogprobs | undefined;
      try {
        top = typeof behavior.logprobs === 'function' ? behavior.logprobs(request) : behavior.logprobs;
      } catch (error) {
        fail(exchange, { status: 500, message: `fake logprobs function threw: ${error instanceof Error ? error.message : String(error)}` });
        return;
      }
      if (top !== undefined) {
        const topCount = typeof request.body['top_logprobs'] === 'number' ? request.body['top_logprobs'] : 0;
        const listed = top.slice(0, topCount);
        logprobs = {
          content: tokens.map((token, index) => ({
            token,
            logprob: index === 0 ? (top.find((candidate) => candidate.token === token)?.logprob ?? 0) : 0,
            top_logprobs: index === 0 ? listed : [],
          })),
        };
      }
    }
    let calls: FakeToolCall[] | undefined;
    try {
      calls = typeof behavior.toolCalls === 'function' ? behavior.toolCalls(request) : behavior.toolCalls;
    } catch (error) {
      fail(exchange, { status: 500, message: `fake toolCalls function threw: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    const id = `chatcmpl-fake-${entry.id}`;
    const created = Math.floor(Date.now() / 1000);
    entry.status = 200;
    entry.firstByteAt = performance.now();
    if (calls !== undefined && calls.length > 0) {
      answerToolCalls(exchange, behavior, request, calls, { id, created, promptTokens });
      return;
    }

    if (!request.stream) {
      const send = (): void => {
        entry.firstByteAt = performance.now();
        sendJson(
          res,
          200,
          JSON.stringify({
            id,
            object: 'chat.completion',
            created,
            model: request.model,
            choices: [{ index: 0, message: { role: 'assistant', content: tokens.join('') }, ...(logprobs ? { logprobs } : {}), finish_reason: finishReason }],
            usage,
          }),
        );
        finish(exchange, 'ok');
      };
      const chunkCount = Math.ceil(tokens.length / Math.max(1, behavior.chunkTokens ?? 1));
      later(exchange, behavior.paceNonStreamed ? (behavior.tokenDelayMs ?? 0) * Math.max(0, chunkCount - 1) : 0, send);
      return;
    }

    const chunk = (delta: Record<string, unknown>, reason: string | null, chunkLogprobs?: unknown): string =>
      `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, choices: [{ index: 0, delta, ...(chunkLogprobs ? { logprobs: chunkLogprobs } : {}), finish_reason: reason }] })}\n\n`;
    const chunkTokens = Math.max(1, behavior.chunkTokens ?? 1);
    const contentChunks: string[] = [];
    for (let index = 0; index < tokens.length; index += chunkTokens) {
      contentChunks.push(
        chunk(
          { content: tokens.slice(index, index + chunkTokens).join('') },
          null,
          logprobs ? { content: logprobs.content.slice(index, index + chunkTokens) } : undefined,
        ),
      );
    }
    const streamOptions = request.body['stream_options'] as { include_usage?: unknown } | undefined;
    let tail = chunk({}, finishReason);
    if (streamOptions?.include_usage === true) {
      tail += `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created, model: request.model, choices: [], usage })}\n\n`;
    }
    tail += 'data: [DONE]\n\n';
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    const head = chunk({ role: 'assistant', content: '' }, null);
    const streamError = behavior.streamError;
    const streamedSoFar = streamedCounts.get(request.model) ?? 0;
    streamedCounts.set(request.model, streamedSoFar + 1);
    if (streamError !== undefined && streamedSoFar < (streamError.times ?? Infinity)) {
      contentChunks.length = Math.min(contentChunks.length, streamError.afterTokens);
      tail = `data: ${JSON.stringify(streamError.body)}\n\n`;
    }
    const tokenDelayMs = behavior.tokenDelayMs ?? 0;
    if (tokenDelayMs <= 0) {
      res.end(head + contentChunks.join('') + tail);
      finish(exchange, 'ok');
      return;
    }
    res.write(head + (contentChunks[0] ?? ''));
    let next = 1;
    const writeNext = (): void => {
      if (exchange.done) return;
      if (next >= contentChunks.length) {
        res.end(tail);
        finish(exchange, 'ok');
        return;
      }
      res.write(contentChunks[next++] ?? '');
      later(exchange, tokenDelayMs, writeNext);
    };
    later(exchange, next >= contentChunks.length ? 0 : tokenDelayMs, writeNext);
  }

  function answerToolCalls(
    exchange: Exchange,
    behavior: FakeBehavior,
    request: FakeRequest,
    calls: FakeToolCall[],
    meta: { id: string; created: number; promptTokens: number },
  ): void {
    const { res, entry } = exchange;
    const content = behavior.toolCallText ?? null;
    const toolCalls = calls.map((call, index) => ({
      index,
      id: call.id ?? `call_fake_${entry.id}_${index}`,
      type: 'function' as const,
      function: { name: call.name, arguments: typeof call.arguments === 'string' ? call.arguments : JSON.stringify(call.arguments) },
    }));
    const completionTokens = toolCalls.reduce(
      (sum, call) => sum + Math.max(1, Math.ceil(call.function.arguments.length / 4)),
      content === null ? 0 : countWords(content),
    );
    const usage = { prompt_tokens: meta.promptTokens, completion_tokens: completionTokens, total_tokens: meta.promptTokens + completionTokens };
    if (!request.stream) {
      sendJson(
        res,
        200,
        JSON.stringify({
          id: meta.id,
          object: 'chat.completion',
          created: meta.created,
          model: request.model,
          choices: [{ index: 0, message: { role: 'assistant', content, tool_calls: toolCalls.map(({ index: _index, ...call }) => call) }, finish_reason: 'tool_calls' }],
          usage,
        }),
      );
      finish(exchange, 'ok');
      return;
    }
    const chunk = (delta: Record<string, unknown>, reason: string | null): string =>
      `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: request.model, choices: [{ index: 0, delta, finish_reason: reason }] })}\n\n`;
    const pieces = Math.max(1, behavior.argumentChunks ?? 3);
    const chunks: string[] = [chunk({ role: 'assistant', content: content ?? null }, null)];
    for (const call of toolCalls) {
      chunks.push(chunk({ tool_calls: [{ index: call.index, id: call.id, type: 'function', function: { name: call.function.name, arguments: '' } }] }, null));
      const text = call.function.arguments;
      const size = Math.max(1, Math.ceil(text.length / pieces));
      for (let start = 0; start < text.length; start += size) {
        chunks.push(chunk({ tool_calls: [{ index: call.index, function: { arguments: text.slice(start, start + size) } }] }, null));
      }
    }
    let tail = chunk({}, 'tool_calls');
    const streamOptions = request.body['stream_options'] as { include_usage?: unknown } | undefined;
    if (streamOptions?.include_usage === true) {
      tail += `data: ${JSON.stringify({ id: meta.id, object: 'chat.completion.chunk', created: meta.created, model: request.model, choices: [], usage })}\n\n`;
    }
    tail += 'data: [DONE]\n\n';
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
    const tokenDelayMs = behavior.tokenDelayMs ?? 0;
    if (tokenDelayMs <= 0) {
      res.end(chunks.join('') + tail);
      finish(exchange, 'ok');
      return;
    }
    let next = 0;
    const writeNext = (): void => {
      if (exchange.done) return;
      if (next >= chunks.length) {
        res.end(tail);
        finish(exchange, 'ok');
        return;
      }
      res.write(chunks[next++] ?? '');
      later(exchange, tokenDelayMs, writeNext);
    };
    writeNext();
  }

  function handleCompletion(req: IncomingMessage, res: ServerResponse, rawBody: string, startedAt: number): void {
    let body: unknown;
    try {
      body = JSON.parse(rawBody);
    } catch {
      sendJson(res, 400, errorBody(400, 'fake server: request body is not valid JSON'));
      return;
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      sendJson(res, 400, errorBody(400, 'fake server: request body must be a JSON object'));
      return;
    }
    const record = body as Record<string, unknown>;
    const model = record['model'];
    const messages = record['messages'];
    if (typeof model !== 'string' || !Array.isArray(messages)) {
      sendJson(res, 400, errorBody(400, 'fake server: "model" (string) and "messages" (array) are required'));
      return;
    }
    const temperature = typeof record['temperature'] === 'number' ? record['temperature'] : undefined;
    const maxTokensValue = record['max_tokens'] ?? record['max_completion_tokens'];
    const maxTokens = typeof maxTokensValue === 'number' ? maxTokensValue : undefined;
    const request: FakeRequest = {
      model,
      messages: messages as FakeRequest['messages'],
      stream: record['stream'] === true,
      temperature,
      max_tokens: maxTokens,
      body: record,
      headers: req.headers,
    };
    const authorization = req.headers.authorization;
    const entry: FakeLogEntry = {
      id: nextId++,
      model,
      stream: request.stream,
      messages: request.messages,
      temperature,
      maxTokens,
      body: record,
      authorization,
      startedAt,
      outcome: 'pending',
    };
    if (typeof record['logprobs'] === 'boolean') entry.logprobs = record['logprobs'];
    if (typeof record['top_logprobs'] === 'number') entry.topLogprobs = record['top_logprobs'];
    if (Array.isArray(record['tools'])) entry.tools = record['tools'];
    if (record['tool_choice'] !== undefined) entry.toolChoice = record['tool_choice'];
    if (record['response_format'] !== undefined) entry.responseFormat = record['response_format'];
    log.push(entry);
    const exchange: Exchange = { entry, res, done: false };
    inFlight.add(exchange);
    maxInFlight = Math.max(maxInFlight, inFlight.size);
    res.on('close', () => finish(exchange, 'aborted')); // no-op when already finished

    const behavior = behaviors.get(model) ?? defaultBehavior;
    const requestIndex = requestCounts.get(model) ?? 0;
    requestCounts.set(model, requestIndex + 1);
    const hangs = behavior.hangTimes !== undefined ? requestIndex < behavior.hangTimes : behavior.hang === true;
    if (hangs) return; // never answer; 'close' marks it aborted
    if (behavior.randomHangRate !== undefined && random(model, behavior.seed ?? 1) < behavior.randomHangRate) return;
    let failure = behavior.alwaysFail;
    if (failure === undefined && behavior.randomFailures !== undefined && random(model, behavior.seed ?? 1) < behavior.randomFailures.rate) {
      failure = behavior.randomFailures.failure;
    }
    if (failure === undefined && behavior.rejectLogprobs === true && record['logprobs'] !== undefined) {
      failure = { status: 400, message: 'logprobs is not supported for this model' };
    }
    if (failure === undefined && behavior.failures !== undefined) {
      const consumed = failureCounts.get(model) ?? 0;
      failure = behavior.failures[consumed];
      if (failure !== undefined) failureCounts.set(model, consumed + 1);
    }
    const chosenFailure = failure;
    later(exchange, behavior.delayMs ?? 0, () => {
      if (chosenFailure !== undefined) fail(exchange, chosenFailure);
      else answer(exchange, behavior, request);
    });
  }

  /**
   * OpenAI-shaped embeddings: each input becomes a deterministic 64-dimensional vector of its words' hashed
   * counts, so texts with the same words embed close together and different ones apart.
   */
  function handleEmbeddings(res: ServerResponse, rawBody: string): void {
    let body: { model?: unknown; input?: unknown };
    try {
      body = JSON.parse(rawBody) as typeof body;
    } catch {
      sendJson(res, 400, errorBody(400, 'fake server: request body is not valid JSON'));
      return;
    }
    const inputs = typeof body.input === 'string' ? [body.input] : Array.isArray(body.input) ? body.input.map(String) : undefined;
    if (!inputs || typeof body.model !== 'string') {
      sendJson(res, 400, errorBody(400, 'fake server: "model" and "input" are required'));
      return;
    }
    embeddingRequests.push({ model: body.model, inputs });
    const data = inputs.map((text, index) => {
      const vector = new Array<number>(64).fill(0);
      for (const word of text.toLowerCase().match(/[a-z0-9]+/g) ?? []) {
        let hash = 2166136261;
        for (let position = 0; position < word.length; position++) hash = Math.imul(hash ^ word.charCodeAt(position), 16777619);
        vector[(hash >>> 0) % 64]! += 1;
      }
      return { object: 'embedding', index, embedding: vector };
    });
    const tokens = inputs.reduce((sum, text) => sum + countWords(text), 0);
    sendJson(res, 200, JSON.stringify({ object: 'list', model: body.model, data, usage: { prompt_tokens: tokens, total_tokens: tokens } }));
  }

  const server = createServer((req, res) => {
    const startedAt = performance.now();
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'POST' && path === '/v1/chat/completions') {
      const chunks: Buffer[] = [];
      req.on('data', (data: Buffer) => chunks.push(data));
      req.on('end', () => handleCompletion(req, res, Buffer.concat(chunks).toString('utf8'), startedAt));
      return;
    }
    if (req.method === 'POST' && path === '/v1/embeddings') {
      const chunks: Buffer[] = [];
      req.on('data', (data: Buffer) => chunks.push(data));
      req.on('end', () => handleEmbeddings(res, Buffer.concat(chunks).toString('utf8')));
      return;
    }
    req.resume();
    if (req.method === 'GET' && path === '/v1/models') {
      const created = Math.floor(Date.now() / 1000);
      sendJson(res, 200, JSON.stringify({ object: 'list', data: [...behaviors.keys()].map((id) => ({ id, object: 'model', created, owned_by: 'fake' })) }));
      return;
    }
    sendJson(res, 404, errorBody(404, `fake server: no route for ${req.method ?? '?'} ${path ?? ''}`));
  });
  server.keepAliveTimeout = 30_000;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1', backlog: 4096 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}/v1`,
    port: address.port,
    log,
    embeddingRequests,
    get maxInFlight() {
      return maxInFlight;
    },
    setBehavior(model, behavior) {
      behaviors.set(model, behavior);
      requestCounts.delete(model);
      failureCounts.delete(model);
      streamedCounts.delete(model);
      randomStates.delete(model);
    },
    setDefaultBehavior(behavior) {
      defaultBehavior = behavior;
    },
    reset() {
      log.length = 0;
      embeddingRequests.length = 0;
      behaviors.clear();
      defaultBehavior = {};
      requestCounts.clear();
      failureCounts.clear();
      streamedCounts.clear();
      randomStates.clear();
      maxInFlight = inFlight.size;
    },
    waitForIdle(timeoutMs = 5_000) {
      if (inFlight.size === 0) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          idleWaiters = idleWaiters.filter((waiter) => waiter !== done);
          const pending = [...inFlight].map((exchange) => `#${exchange.entry.id} ${exchange.entry.model}`).join(', ');
          reject(new Error(`fake LLM server not idle after ${timeoutMs} ms; pending: ${pending}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          resolve();
        };
        idleWaiters.push(done);
      });
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        for (const exchange of inFlight) finish(exchange, 'aborted');
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}
