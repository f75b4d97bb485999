/**
 * A `fetch` for the AI SDK providers built on node:http / node:https with
 * keep-alive agents. Measured on this project's 2-core machine against the
 * fake server, Node's built-in fetch (undici) costs about 0.85 ms of CPU per
 * small JSON request, node:http about 0.27 ms: at a batch's hundreds of calls a
 * second that is the difference between a saturated and a lagging event loop.
 * The batch runner uses it (`createModelRegistry({ fetch })`); interactive
 * commands keep the built-in fetch.
 *
 * Same contract as fetch where the providers rely on it: a WHATWG `Response`
 * (streamed bodies stay streams), gzip/deflate/br bodies decoded, the signal
 * aborts the request (rejecting with the signal's reason), and a request that
 * gets no answer rejects with `TypeError('fetch failed')` carrying the socket
 * error as `cause` (what the SDK turns into a retryable "Cannot connect" error).
 * Anything unusual (a Request object, a stream or form body) goes to the
 * built-in fetch.
 *
 * Like fetch it follows redirects (up to 20; 303, and 301/302 after a POST, become a GET without the
 * body; `redirect: 'manual'` hands the 3xx back, `'error'` rejects), and unlike Node 20's fetch it
 * honours the proxy variables every HTTP tool does: HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, minus the
 * hosts in NO_PROXY (proxy-from-env reads them; http-proxy-agent and https-proxy-agent, a CONNECT
 * tunnel for https, do the proxying).
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingMessage } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { HttpProxyAgent } from 'http-proxy-agent';
import { HttpsProxyAgent } from 'https-proxy-agent';
import { getProxyForUrl } from 'proxy-from-env';
import { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate } from 'node:zlib';

import type { FetchFunction } from '../util/fetch-function.js';

const MAX_REDIRECTS = 20;
const REDIRECT_STATUS = new Set([301, 302, 303, 307, 308]);

export interface NodeHttpFetch extends FetchFunction {
  /** Close the kept-alive sockets. */
  close(): void;
}

const NULL_BODY_STATUS = new Set([101, 204, 205, 304]);

function headerPairs(headers: HeadersInit | undefined): Array<[string, string]> {
  if (!headers) return [];
  if (headers instanceof Headers) return [...headers.entries()];
  if (Array.isArray(headers)) return headers.map(([name, value]) => [String(name), String(value)]);
  return Object.entries(headers).map(([name, value]) => [name, String(value)]);
}

function bodyBytes(body: BodyInit | null | undefined): Buffer | undefined | false {
  if (body === undefined || body === null) return undefined;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body.buffer, body.byteOffset, body.byteLength);
  if (body instanceof ArrayBuffer) return Buffer.from(body);
  return false; // streams, forms, blobs: not handled here
}

function decoded(response: IncomingMessage): Readable {
  const encoding = String(response.headers['content-encoding'] ?? '')
    .trim()
    .toLowerCase();
  if (encoding === 'gzip' || encoding === 'x-gzip') return response.pipe(createGunzip());
  if (encoding === 'deflate') return response.pipe(createInflate());
  if (encoding === 'br') return response.pipe(createBrotliDecompress());
  return response;
}

function toResponse(message: IncomingMessage, body: BodyInit | null): Response {
  const headers = new Headers();
  const raw = message.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index]!.toLowerCase();
    // The body is handed over decoded: its encoding and length headers no longer describe it.
    if (name === 'content-encoding' || name === 'content-length') continue;
    headers.append(raw[index]!, raw[index + 1]!);
  }
  return new Response(body, { status: message.statusCode ?? 0, statusText: message.statusMessage ?? '', headers });
}

/**
 * Streamed bodies stay streams: server-sent events (OpenAI, Anthropic, Google), NDJSON
 * (Ollama) and anything that is not plain JSON. A JSON body is read whole first: a buffer
 * makes a cheaper Response than a web stream, and the SDK parses it in one piece anyway.
 */
function isStreamed(message: IncomingMessage): boolean {
  const type = String(message.headers['content-type'] ?? '').toLowerCase();
  return /event-stream|ndjson|jsonl/.test(type) || !type.includes('json');
}

type Agent = HttpAgent | HttpsAgent;

export function createNodeHttpFetch(): NodeHttpFetch {
  const agents = {
    'http:': new HttpAgent({ keepAlive: true, maxSockets: Infinity }),
    'https:': new HttpsAgent({ keepAlive: true, maxSockets: Infinity }),
  };
  /** Keep-alive agents through each proxy, by protocol and proxy URL. */
  const proxied = new Map<string, Agent>();
  const agentFor = (url: URL): Agent => {
    const proxy = getProxyForUrl(url.href);
    const protocol = url.protocol as 'http:' | 'https:';
    if (!proxy) return agents[protocol];
    const key = `${protocol} ${proxy}`;
    let agent = proxied.get(key);
    if (!agent) {
      agent = protocol === 'https:' ? new HttpsProxyAgent(proxy, { keepAlive: true }) : new HttpProxyAgent(proxy, { keepAlive: true });
      proxied.set(key, agent);
    }
    return agent;
  };

  const nodeFetch = (async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    if (typeof input !== 'string' && !(input instanceof URL)) return globalThis.fetch(input, init);
    let url = typeof input === 'string' ? new URL(input) : input;
    let bytes = bodyBytes(init.body);
    if (bytes === false || (url.protocol !== 'http:' && url.protocol !== 'https:')) return globalThis.fetch(input, init);
    let method = (init.method ?? 'GET').toUpperCase();
    const headers: Record<string, string> = {};
    for (const [name, value] of headerPairs(init.headers)) headers[name.toLowerCase()] = value;
    for (let redirects = 0; ; redirects++) {
      const response = await sendOnce(url, method, headers, bytes, init.signal ?? undefined, agentFor(url));
      const location = response.headers.get('location');
      if (!REDIRECT_STATUS.has(response.status) || !location || init.redirect === 'manual') return response;
      await response.body?.cancel().catch(() => undefined);
      if (init.redirect === 'error') throw new TypeError('fetch failed', { cause: new Error(`redirected (${response.status}) to ${location} with redirect: "error"`) });
      if (redirects >= MAX_REDIRECTS) throw new TypeError('fetch failed', { cause: new Error(`more than ${MAX_REDIRECTS} redirects`) });
      const next = new URL(location, url);
      if (next.protocol !== 'http:' && next.protocol !== 'https:') throw new TypeError('fetch failed', { cause: new Error(`redirected to ${next.protocol} URL`) });
      // As fetch does: 303, and 301/302 after a POST, continue as a GET without the body.
      if (response.status === 303 || ((response.status === 301 || response.status === 302) && method === 'POST')) {
        method = method === 'HEAD' ? 'HEAD' : 'GET';
        bytes = undefined;
        for (const name of ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location']) delete headers[name];
      }
      // Credentials do not follow a redirect to another origin.
      if (next.origin !== url.origin) delete headers['authorization'];
      url = next;
    }
  }) as NodeHttpFetch;

  function sendOnce(
    url: URL,
    method: string,
    requestHeaders: Record<string, string>,
    bytes: Buffer | undefined,
    signal: AbortSignal | undefined,
    agent: Agent,
  ): Promise<Response> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Response>((resolve, reject) => {
      const headers: Record<string, string> = { ...requestHeaders };
      if (bytes) headers['content-length'] = String(bytes.length);
      if (!headers['accept-encoding']) headers['accept-encoding'] = 'gzip, deflate, br';
      const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let settled = false;
      const onAbort = (): void => {
        request.destroy();
        if (!settled) {
          settled = true;
          reject(signal!.reason);
        }
      };
      const request = send(url, { method, headers, agent }, (message) => {
        const body = decoded(message);
        const finish = (): void => signal?.removeEventListener('abort', onAbort);
        if (isStreamed(message)) {
          // A stream stays a stream; aborting the signal destroys it.
          settled = true;
          body.once('close', finish);
          resolve(toResponse(message, NULL_BODY_STATUS.has(message.statusCode ?? 0) ? null : (Readable.toWeb(body) as ReadableStream<Uint8Array>)));
          return;
        }
        const chunks: Buffer[] = [];
        body.on('data', (chunk: Buffer) => chunks.push(chunk));
        body.once('error', (error) => {
          finish();
          if (settled) return;
          settled = true;
          reject(new TypeError('fetch failed', { cause: error }));
        });
        body.once('end', () => {
          finish();
          if (settled) return;
          settled = true;
          resolve(toResponse(message, NULL_BODY_STATUS.has(message.statusCode ?? 0) ? null : Buffer.concat(chunks)));
        });
      });
      request.once('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        if (settled) return;
        settled = true;
        reject(signal?.aborted ? signal.reason : new TypeError('fetch failed', { cause: error }));
      });
      signal?.addEventListener('abort', onAbort, { once: true });
      request.end(bytes);
    });
  }

  nodeFetch.close = () => {
    agents['http:'].destroy();
    agents['https:'].destroy();
    for (const agent of proxied.values()) agent.destroy();
    proxied.clear();
  };
  return nodeFetch;
}
