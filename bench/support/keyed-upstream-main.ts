/**
 * The scale bench's upstream (`npx tsx bench/support/keyed-upstream-main.ts`), in its own process:
 * an OpenAI-compatible chat completions endpoint that allows each API key (one per worker) a fixed
 * number of calls in flight and answers each after a fixed service time — like a provider whose
 * accounts each have a concurrency quota. A call beyond the quota gets a 429 and is counted.
 * Config from env KEYED_UPSTREAM ({ perKey, serviceMs, tokens }); prints `UPSTREAM_URL=<url>`;
 * `GET /stats` → { calls, rejected, maxInFlightPerKey }. Ends on SIGTERM.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const config = JSON.parse(process.env['KEYED_UPSTREAM'] ?? '{}') as { perKey?: number; serviceMs?: number; tokens?: number };
const perKey = config.perKey ?? 4;
const serviceMs = config.serviceMs ?? 100;
const answer = Array.from({ length: config.tokens ?? 20 }, (_, index) => `w${index}`).join(' ');
const inFlight = new Map<string, number>();
let calls = 0;
let rejected = 0;
let maxInFlightPerKey = 0;

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

function onRequest(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'GET' && req.url === '/stats') {
    send(res, 200, { calls, rejected, maxInFlightPerKey });
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    const key = String(req.headers['authorization'] ?? '');
    const current = (inFlight.get(key) ?? 0) + 1;
    if (current > perKey) {
      rejected++;
      send(res, 429, { error: { message: `more than ${perKey} calls in flight for this key`, type: 'rate_limit_error', code: null } });
      return;
    }
    inFlight.set(key, current);
    maxInFlightPerKey = Math.max(maxInFlightPerKey, current);
    calls++;
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { model: string };
    setTimeout(() => {
      inFlight.set(key, (inFlight.get(key) ?? 1) - 1);
      send(res, 200, {
        id: `chatcmpl-${calls}`,
        object: 'chat.completion',
        created: Math.floor(Date.now() / 1000),
        model: body.model,
        choices: [{ index: 0, message: { role: 'assistant', content: answer }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 50, completion_tokens: 20, total_tokens: 70 },
      });
    }, serviceMs);
  });
}

const server = createServer(onRequest);
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  process.stdout.write(`UPSTREAM_URL=http://127.0.0.1:${port}/v1\n`);
});
process.on('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
