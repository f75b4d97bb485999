// CORS: with corsOrigins (moa serve --cors), a chat UI served from another origin may call /v1 from the
// browser: the preflight is answered without a key and allows whatever headers the SDK asks for, and
// every /v1 response — JSON, streams, errors — carries the same CORS headers. Other origins get 403.
import { describe, expect, it } from 'vitest';
import { ssePayloads, useServerSuite } from './server-suite.js';

const KEY = 'moa-test-key';
const UI = 'http://localhost:3000';
const question = [{ role: 'user', content: 'hi' }];

/** What the official SDKs and chat UIs put on requests: openai-node's x-stainless-*, OpenAI-Organization/-Project, OpenRouter-style HTTP-Referer/X-Title. */
const SDK_HEADERS = [
  'authorization',
  'content-type',
  'x-stainless-arch',
  'x-stainless-lang',
  'x-stainless-os',
  'x-stainless-package-version',
  'x-stainless-retry-count',
  'x-stainless-runtime',
  'x-stainless-runtime-version',
  'x-stainless-timeout',
  'openai-organization',
  'openai-project',
  'http-referer',
  'x-title',
  'x-moa-details',
];

function expectCors(response: Response, origin = UI): void {
  expect(response.headers.get('access-control-allow-origin'), `${response.status} ${response.url}`).toBe(origin);
  expect(response.headers.get('access-control-expose-headers')).toContain('X-MoA-Run-Id');
  if (origin !== '*') expect(response.headers.get('vary')).toContain('Origin');
}

describe('CORS for browser chat UIs (--cors)', () => {
  const open = useServerSuite({ apiKey: KEY, corsOrigins: [UI] });
  const post = (body: unknown, key = KEY): Promise<Response> =>
    fetch(`${open.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Origin: UI, Authorization: `Bearer ${key}`, 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });

  it('answers the preflight of an allowed origin without the key, echoing the headers the SDKs send', async () => {
    const response = await fetch(`${open.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': SDK_HEADERS.join(',') },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI);
    expect(response.headers.get('access-control-allow-methods')).toContain('POST');
    const allowed = (response.headers.get('access-control-allow-headers') ?? '').split(',').map((name) => name.trim().toLowerCase());
    for (const name of SDK_HEADERS) expect(allowed).toContain(name);
    expect(response.headers.get('vary')).toMatch(/Origin.*Access-Control-Request-Headers/);
  });

  it('lets the keyed request through with the origin allowed, and still refuses a wrong key', async () => {
    const ok = await post({ model: 'solo', messages: question });
    expect(ok.status).toBe(200);
    expectCors(ok);
    const refused = await post({ model: 'solo', messages: question }, 'wrong');
    expect(refused.status).toBe(401);
    expectCors(refused);
  });

  it('puts the CORS headers on a streamed completion', async () => {
    open.fake.setBehavior('aggregator', { text: 'one two three' });
    const response = await post({ model: 'solo', messages: question, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expectCors(response);
    const payloads = ssePayloads(await response.text());
    expect(payloads[payloads.length - 1]).toBe('[DONE]');
  });

  it('puts them on every error: 400, 404, 415, 502, and on a stream that ends with an error event', async () => {
    const badJson = await post('{"model":');
    expect(badJson.status).toBe(400);
    expectCors(badJson);
    const unknownPreset = await post({ model: 'nope', messages: question });
    expect(unknownPreset.status).toBe(404);
    expectCors(unknownPreset);
    const unknownRoute = await fetch(`${open.url}/v1/embeddings`, { headers: { Origin: UI, Authorization: `Bearer ${KEY}` } });
    expect(unknownRoute.status).toBe(404);
    expectCors(unknownRoute);
    const notJson = await fetch(`${open.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Origin: UI, Authorization: `Bearer ${KEY}`, 'Content-Type': 'text/plain' },
      body: JSON.stringify({ model: 'solo', messages: question }),
    });
    expect(notJson.status).toBe(415);
    expectCors(notJson);
    open.fake.setBehavior('aggregator', { alwaysFail: { status: 500, message: 'down' } });
    const failed = await post({ model: 'solo', messages: question });
    expect(failed.status).toBe(502);
    expectCors(failed);
    // A stream's headers go out before the run fails: the failure is its last event, readable cross-origin.
    const failedStream = await post({ model: 'solo', messages: question, stream: true });
    expect(failedStream.status).toBe(200);
    expectCors(failedStream);
    expect(await failedStream.text()).toContain('"error":');
  });

  it('puts them on GET /v1/models and /v1/models/:id', async () => {
    for (const path of ['/v1/models', '/v1/models/solo']) {
      const response = await fetch(`${open.url}${path}`, { headers: { Origin: UI, Authorization: `Bearer ${KEY}` } });
      expect(response.status).toBe(200);
      expectCors(response);
    }
  });

  it('refuses other origins with 403 and no CORS header, preflight included', async () => {
    const response = await fetch(`${open.url}/v1/models`, { headers: { Origin: 'https://evil.example', Authorization: `Bearer ${KEY}` } });
    expect(response.status).toBe(403);
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
    const preflight = await fetch(`${open.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    expect(open.fake.log).toEqual([]);
  });
});

describe('--cors *', () => {
  const open = useServerSuite({ corsOrigins: ['*'] });

  it('allows any origin, on streams too', async () => {
    const response = await fetch(`${open.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Origin: 'https://any.example', 'Content-Type': 'application/json' },
      body: JSON.stringify({ model: 'solo', messages: question, stream: true }),
    });
    expect(response.status).toBe(200);
    expectCors(response, '*');
    expect(ssePayloads(await response.text()).pop()).toBe('[DONE]');
  });
});
