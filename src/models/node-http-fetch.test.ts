import { createServer, type Server } from 'node:http';
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
