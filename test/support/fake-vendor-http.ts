// What the fakes of vendor APIs (Anthropic, Google) share: reading a body, answering JSON, the
// answer split into streamed words, and a node:http server on 127.0.0.1 whose close() also
// destroys open (keep-alive or hanging) sockets.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** Tokens of a fake answer: each word with its following whitespace, so joining them gives the text back. */
export function words(text: string): string[] {
  return text.match(/\S+\s*/g) ?? [];
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}, contentType = 'application/json'): void {
  const text = JSON.stringify(body);
  response.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(text), ...headers });
  response.end(text);
}

/**
 * Serves `handle` on a random port of 127.0.0.1. A handler that throws answers 500 with
 * `errorBody(message)` (or just ends a response already started).
 */
export async function serveFake(
  handle: (request: IncomingMessage, response: ServerResponse) => Promise<void>,
  errorBody: (message: string) => unknown,
  contentType?: string,
): Promise<{ origin: string; close: () => Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, errorBody(`fake server error: ${String(error)}`), {}, contentType);
      else response.end();
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close() {
      for (const socket of sockets) socket.destroy();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
