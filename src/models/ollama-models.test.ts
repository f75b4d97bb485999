import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listOllamaModels, ollamaRoot } from './ollama-models.js';

let server: Server | undefined;
afterEach(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
});

/** A stand-in for Ollama's GET /api/tags on 127.0.0.1. */
async function fakeOllama(body: unknown, status = 200): Promise<{ host: string; paths: string[] }> {
  const paths: string[] = [];
  server = createServer((request, response) => {
    paths.push(request.url ?? '');
    response.writeHead(status, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return { host: `127.0.0.1:${(server.address() as AddressInfo).port}`, paths };
}

describe('listOllamaModels', () => {
  it('reads the installed models from OLLAMA_HOST given as host:port', async () => {
    const ollama = await fakeOllama({ models: [{ name: 'qwen2.5:7b', model: 'qwen2.5:7b', size: 4_700_000_000 }, { model: 'phi4:latest' }] });
    expect(await listOllamaModels({ OLLAMA_HOST: ollama.host })).toEqual([{ name: 'qwen2.5:7b', size: 4_700_000_000 }, { name: 'phi4:latest' }]);
    expect(ollama.paths).toEqual(['/api/tags']);
  });

  it('answers undefined when nothing listens or the server errs', async () => {
    const ollama = await fakeOllama({ error: 'boom' }, 500);
    expect(await listOllamaModels({ OLLAMA_HOST: `http://${ollama.host}` })).toBeUndefined();
    await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
    expect(await listOllamaModels({ OLLAMA_HOST: ollama.host }, { timeoutMs: 500 })).toBeUndefined();
  });

  it('accepts OLLAMA_HOST in every form Ollama does', () => {
    expect(ollamaRoot({})).toBe('http://127.0.0.1:11434');
    expect(ollamaRoot({ OLLAMA_HOST: '0.0.0.0:11434' })).toBe('http://0.0.0.0:11434');
    expect(ollamaRoot({ OLLAMA_HOST: 'https://ollama.lan/api/' })).toBe('https://ollama.lan');
  });
});
