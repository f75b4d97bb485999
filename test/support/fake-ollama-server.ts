// A fake Ollama server for tests: GET /api/tags lists models, POST /api/chat answers in Ollama's own
// format (one JSON object, or NDJSON when streaming). Only node:http; answers "<model> says: ..." words.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readBody } from './fake-vendor-http.js';

export interface FakeOllamaRequest {
  model: string;
  stream: boolean;
  messages: Array<{ role: string; content: string }>;
  options?: Record<string, unknown>;
}

export interface FakeOllamaServer {
  /** host:port, as OLLAMA_HOST is usually written. */
  host: string;
  chats: FakeOllamaRequest[];
  close(): Promise<void>;
}

export async function startFakeOllama(models: Array<{ name: string; size: number }>): Promise<FakeOllamaServer> {
  const chats: FakeOllamaRequest[] = [];
  const server = createServer((request, response) => {
    void (async () => {
      if (request.method === 'GET' && request.url === '/api/tags') {
        response.writeHead(200, { 'Content-Type': 'application/json' });
        response.end(JSON.stringify({ models: models.map((model) => ({ name: model.name, model: model.name, size: model.size })) }));
        return;
      }
      if (request.method === 'POST' && request.url === '/api/chat') {
        const body = JSON.parse(await readBody(request)) as FakeOllamaRequest;
        chats.push(body);
        const words = `${body.model} says: answer number ${chats.length}`.split(' ').map((word, index) => (index === 0 ? word : ` ${word}`));
        const base = { model: body.model, created_at: new Date().toISOString() };
        const last = { ...base, message: { role: 'assistant', content: '' }, done: true, done_reason: 'stop', prompt_eval_count: 11, eval_count: words.length };
        if (body.stream) {
          response.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
          for (const word of words) response.write(`${JSON.stringify({ ...base, message: { role: 'assistant', content: word }, done: false })}\n`);
          response.end(`${JSON.stringify(last)}\n`);
        } else {
          response.writeHead(200, { 'Content-Type': 'application/json' });
          response.end(JSON.stringify({ ...last, message: { role: 'assistant', content: words.join('') } }));
        }
        return;
      }
      response.writeHead(404, { 'Content-Type': 'application/json' });
      response.end(JSON.stringify({ error: `no route ${request.method} ${request.url}` }));
    })().catch((error: unknown) => {
      response.writeHead(500);
      response.end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    host: `127.0.0.1:${(server.address() as AddressInfo).port}`,
    chats,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
