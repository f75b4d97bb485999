import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLLMServer, type FakeLLMServer } from '../../test/support/fake-llm-server.js';
import { callModel } from './call-model.js';
import { createNodeHttpFetch } from './node-http-fetch.js';
import { createModelRegistry } from './registry.js';
import { ProviderError } from '../util/errors.js';

let server: FakeLLMServer;
const fetch = createNodeHttpFetch();
beforeAll(async () => {
  server = await startFakeLLMServer();
});
afterAll(async () => {
  fetch.close();
  await server.close();
});

const prompt = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hello there' }] }];
const registryFor = (baseURL: string) =>
  createModelRegistry({ providers: { fake: { type: 'openai-compatible', baseURL, apiKeyEnv: 'KEY' } }, env: { KEY: 'secret' }, fetch });

describe('createNodeHttpFetch', () => {
  it('carries a provider call: request body and key sent, answer and usage read back', async () => {
    server.setBehavior('m', { text: 'general kenobi' });
    const result = await callModel(registryFor(server.url).resolve('fake:m'), { prompt, temperature: 0.2, signal: new AbortController().signal });
    expect(result).toMatchObject({ text: 'general kenobi', usage: { inputTokens: 2, outputTokens: 2 }, finishReason: 'stop' });
    const entry = server.log.at(-1)!;
    expect(entry).toMatchObject({ model: 'm', temperature: 0.2, authorization: 'Bearer secret', stream: false });
  });

  it('streams server-sent events as they arrive', async () => {
    server.setBehavior('s', { text: 'one two three', tokenDelayMs: 5 });
    const deltas: string[] = [];
    const result = await callModel(registryFor(server.url).resolve('fake:s'), { prompt, signal: new AbortController().signal, onDelta: (delta) => deltas.push(delta) });
    expect(result.text).toBe('one two three');
    expect(deltas).toEqual(['one ', 'two ', 'three']);
  });

  it('streams NDJSON (Ollama) line by line instead of waiting for the end', async () => {
    const lines = ['{"n":1}\n', '{"n":2}\n', '{"n":3}\n'];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ndjson = createServer((_request, response) => {
      response.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
      response.write(lines[0]);
      void gate.then(() => response.end(lines.slice(1).join('')));
    });
    await new Promise<void>((resolve) => ndjson.listen(0, '127.0.0.1', resolve));
    try {
      const response = await fetch(`http://127.0.0.1:${(ndjson.address() as AddressInfo).port}/api/chat`, { method: 'POST', body: '{}' });
      const reader = response.body!.getReader();
      // The first line arrives while the server still holds the rest back: the body was not buffered.
      const first = await reader.read();
      expect(new TextDecoder().decode(first.value)).toBe(lines[0]);
      release();
      let rest = '';
      for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) rest += new TextDecoder().decode(chunk.value);
      expect(rest).toBe(lines.slice(1).join(''));
    } finally {
      release();
      await new Promise<void>((resolve) => ndjson.close(() => resolve()));
    }
  });

  it('passes HTTP errors through with status and Retry-After', async () => {
    server.setBehavior('limited', { failures: [{ status: 429, retryAfter: 3, message: 'slow down' }] });
    const error = await callModel(registryFor(server.url).resolve('fake:limited'), { prompt, signal: new AbortController().signal }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ status: 429, retryAfterMs: 3000, isRetryable: true, message: 'fake:limited: HTTP 429: slow down' });
  });

  it('aborting the signal cancels the request and rejects with its reason', async () => {
    server.setBehavior('hang', { hang: true });
    const controller = new AbortController();
    const call = callModel(registryFor(server.url).resolve('fake:hang'), { prompt, signal: controller.signal });
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (server.log.some((entry) => entry.model === 'hang')) {
          clearInterval(poll);
          resolve();
        }
      }, 2);
    });
    controller.abort(new Error('stop now'));
    await expect(call).rejects.toThrow('stop now');
    await server.waitForIdle();
    expect(server.log.find((entry) => entry.model === 'hang')!.outcome).toBe('aborted');
  });

  it('a refused connection is a retryable network error', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await callModel(registryFor(`http://127.0.0.1:${port}/v1`).resolve('fake:m'), { prompt, signal: new AbortController().signal }).catch(
      (caught: unknown) => caught,
    );
    expect(error).toMatchObject({ code: 'network_error', isRetryable: true });
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
  });

  it('decodes a gzip body', async () => {
    let gzipServer: Server | undefined;
    try {
      gzipServer = createServer((_request, response) => {
        response.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        response.end(gzipSync(JSON.stringify({ ok: true })));
      });
      await new Promise<void>((resolve) => gzipServer!.listen(0, '127.0.0.1', resolve));
      const response = await fetch(`http://127.0.0.1:${(gzipServer.address() as AddressInfo).port}/`, { method: 'POST', body: '{}' });
      expect(response.status).toBe(200);
      expect(response.headers.get('content-encoding')).toBeNull();
      expect(await response.json()).toEqual({ ok: true });
    } finally {
      await new Promise((resolve) => gzipServer?.close(resolve));
    }
  });
});

/** A local HTTP server for one test: its handler, its base URL, and close(). */
async function localServer(
  handler: (request: IncomingMessage, response: ServerResponse) => void | Promise<void>,
): Promise<{ url: string; server: Server; close: () => Promise<void> }> {
  // An async handler that fails answers 500 with its error (the test then fails on it) instead of leaving the rejection unhandled.
  const local = createServer((request, response) => {
    Promise.resolve(handler(request, response)).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => local.listen(0, '127.0.0.1', resolve));
  const { port } = local.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    server: local,
    close: () =>
      new Promise<void>((resolve) => {
        local.closeAllConnections();
        local.close(() => resolve());
      }),
  };
}

function readBody(request: import('node:http').IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (text += chunk));
    request.on('end', () => resolve(text));
  });
}

describe('createNodeHttpFetch: redirects', () => {
  it('follows them as fetch does: 307 keeps method and body, 303 and a POST after 302 become a GET without it', async () => {
    const seen: Array<{ method: string; path: string; body: string; authorization?: string }> = [];
    const target = await localServer(async (request, response) => {
      const body = await readBody(request);
      seen.push({ method: request.method!, path: request.url!, body, ...(request.headers.authorization ? { authorization: request.headers.authorization } : {}) });
      const redirects: Record<string, [number, string]> = { '/307': [307, '/final'], '/303': [303, '/final'], '/302': [302, '/final'], '/chain': [301, '/307'] };
      const redirect = redirects[request.url!];
      if (redirect) {
        response.writeHead(redirect[0], { Location: redirect[1] });
        response.end();
        return;
      }
      response.writeHead(200, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ at: request.url, method: request.method }));
    });
    try {
      const post = (path: string) =>
        fetch(`${target.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer k' }, body: '{"x":1}' });
      expect(await (await post('/307')).json()).toEqual({ at: '/final', method: 'POST' });
      expect(seen.slice(-1)).toEqual([{ method: 'POST', path: '/final', body: '{"x":1}', authorization: 'Bearer k' }]);
      expect(await (await post('/303')).json()).toEqual({ at: '/final', method: 'GET' });
      expect(seen.at(-1)).toMatchObject({ method: 'GET', body: '' });
      expect(await (await post('/302')).json()).toEqual({ at: '/final', method: 'GET' });
      const chained = await fetch(`${target.url}/chain`);
      expect(await chained.json()).toEqual({ at: '/final', method: 'GET' });
      // redirect: 'manual' hands the 3xx back.
      const manual = await fetch(`${target.url}/303`, { redirect: 'manual' });
      expect(manual.status).toBe(303);
      expect(manual.headers.get('location')).toBe('/final');
    } finally {
      await target.close();
    }
  });

  it('stops after 20 redirects with a fetch-style error', async () => {
    const loop = await localServer((_request, response) => {
      response.writeHead(302, { Location: '/again' });
      response.end();
    });
    try {
      const error = (await fetch(`${loop.url}/again`).catch((caught: unknown) => caught)) as TypeError;
      expect(error).toBeInstanceOf(TypeError);
      expect((error.cause as Error).message).toBe('more than 20 redirects');
    } finally {
      await loop.close();
    }
  });
});

describe('createNodeHttpFetch: proxies from the environment', () => {
  const saved = { ...process.env };
  const restore = () => {
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy', 'ALL_PROXY', 'all_proxy']) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  };

  it('sends http requests through HTTP_PROXY, https ones as a CONNECT tunnel through HTTPS_PROXY, and skips NO_PROXY hosts', async () => {
    const through: string[] = [];
    const proxy = await localServer(async (request, response) => {
      // A forward proxy: the request line holds the absolute URL; forward it to the origin.
      through.push(`${request.method} ${request.url}`);
      const upstream = await globalThis.fetch(request.url!, {
        method: request.method!,
        headers: { 'content-type': 'application/json' },
        ...(request.method === 'POST' ? { body: await readBody(request) } : {}),
      });
      response.writeHead(upstream.status, { 'Content-Type': upstream.headers.get('content-type') ?? 'text/plain' });
      response.end(Buffer.from(await upstream.arrayBuffer()));
    });
    proxy.server.on('connect', (request, socket) => {
      through.push(`CONNECT ${request.url}`);
      socket.end('HTTP/1.1 403 Forbidden\r\n\r\n');
    });
    const proxied = createNodeHttpFetch();
    try {
      server.setBehavior('via-proxy', { text: 'through the proxy' });
      process.env.HTTP_PROXY = proxy.url;
      process.env.HTTPS_PROXY = proxy.url;
      delete process.env.NO_PROXY;
      delete process.env.no_proxy;
      const registry = createModelRegistry({
        providers: { fake: { type: 'openai-compatible', baseURL: server.url, apiKeyEnv: 'KEY' } },
        env: { KEY: 'secret' },
        fetch: proxied,
      });
      const result = await callModel(registry.resolve('fake:via-proxy'), { prompt, signal: new AbortController().signal });
      expect(result.text).toBe('through the proxy');
      expect(through).toEqual([`POST ${server.url}/chat/completions`]);

      // https goes through a CONNECT tunnel (this proxy refuses it: the request fails, but it asked the proxy).
      await proxied('https://api.example.test/v1/models').catch(() => undefined);
      expect(through.at(-1)).toBe('CONNECT api.example.test:443');

      // NO_PROXY: straight to the host.
      process.env.NO_PROXY = '127.0.0.1';
      through.length = 0;
      await callModel(registry.resolve('fake:via-proxy'), { prompt, signal: new AbortController().signal });
      expect(through).toEqual([]);
    } finally {
      restore();
      proxied.close();
      await proxy.close();
    }
  });
});
