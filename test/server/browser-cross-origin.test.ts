// The server from a real browser (Debian's Chromium, headless), the way pages elsewhere reach it:
// - a chat UI served on another port (another origin) allowed by --cors streams a completion token by
//   token, with plain fetch and with the official `openai` client bundled for the browser (esbuild);
// - a page on another origin cannot make the default server (no --cors, no key) call a model, neither
//   with a no-cors fetch, a JSON fetch nor a form post;
// - a page whose DNS name points at 127.0.0.1 (DNS rebinding; Chromium resolves *.localhost to
//   loopback itself, standing in for an attacker's DNS) gets 403 instead of the answers.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { launchChromium } from '../web/browser-support.js';
import { TEST_PRESETS, UPSTREAM_SECRET } from './server-suite.js';

const KEY = 'moa-browser-key-0123456789';
const ANSWER = 'Rayleigh scattering sends the blue light everywhere across the sky';
/** The answer as the fake server streams it: one word (with its trailing space) per chunk. */
const ANSWER_TOKENS = ANSWER.match(/\S+\s*/g)!;
const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

let fake: FakeLLMServer;
let browser: Browser;
let workDir: string;
let pageServer: Server;
let pageOrigin: string;
/** With --cors for the page's origin and MOA_API_KEY. */
let ui: RunningServer;
/** The default: no --cors, no key. */
let plain: RunningServer;

function serve(options: { corsOrigins?: string[]; apiKey?: string | null }): Promise<RunningServer> {
  return startServer({
    host: '127.0.0.1',
    port: 0,
    config: {
      presets: TEST_PRESETS,
      providers: { fake: { type: 'openai-compatible', baseURL: fake.url, apiKeyEnv: 'FAKE_KEY' } },
      defaultPreset: 'solo',
    },
    env: { FAKE_KEY: UPSTREAM_SECRET },
    apiKey: null,
    ...options,
  });
}

/** A page server on another port: an empty chat UI page and the `openai` client bundled for browsers. */
async function startPageServer(bundle: string): Promise<Server> {
  const server = createServer((request, response) => {
    if (request.url === '/openai.js') {
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      response.end(bundle);
      return;
    }
    response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    response.end('<!doctype html><meta charset="utf-8"><title>another chat UI</title><script src="/openai.js"></script><p>chat</p>');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return server;
}

beforeAll(async () => {
  fake = await startFakeLLMServer();
  workDir = mkdtempSync(join(tmpdir(), 'moa-browser-cors-'));
  // The official client as a browser would get it from a bundler.
  const outfile = join(workDir, 'openai.js');
  await build({
    stdin: { contents: "export { OpenAI } from 'openai';", resolveDir: REPO_ROOT, loader: 'js' },
    bundle: true,
    format: 'iife',
    globalName: 'OpenAIBundle',
    platform: 'browser',
    outfile,
    logLevel: 'silent',
  });
  pageServer = await startPageServer(readFileSync(outfile, 'utf8'));
  pageOrigin = `http://127.0.0.1:${(pageServer.address() as AddressInfo).port}`;
  ui = await serve({ corsOrigins: [pageOrigin], apiKey: KEY });
  plain = await serve({});
  browser = await launchChromium();
});

afterAll(async () => {
  await browser?.close();
  await ui?.close({ drainTimeoutMs: 0 });
  await plain?.close({ drainTimeoutMs: 0 });
  await new Promise<void>((resolve) => (pageServer ? pageServer.close(() => resolve()) : resolve()));
  await fake?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

let context: BrowserContext;
let page: Page;
/** Tokens the page reported, and whether the aggregator's upstream call was still going when the first arrived. */
let tokens: string[];
let firstTokenWhileUpstreamStreaming: boolean | undefined;

beforeEach(async () => {
  fake.reset();
  // 80 ms between words: the whole answer takes ~1 s upstream, so a token that reaches the page
  // while the upstream call is still pending was streamed, not delivered at the end.
  fake.setBehavior('aggregator', { text: ANSWER, tokenDelayMs: 80 });
  tokens = [];
  firstTokenWhileUpstreamStreaming = undefined;
  context = await browser.newContext();
  page = await context.newPage();
  await page.exposeFunction('onToken', (token: string) => {
    if (tokens.length === 0) {
      firstTokenWhileUpstreamStreaming = fake.log.some((entry) => entry.model === 'aggregator' && entry.outcome === 'pending');
    }
    tokens.push(token);
  });
});

afterEach(async () => {
  await context?.close();
});

declare global {
  interface Window {
    onToken(token: string): Promise<void>;
    OpenAIBundle: { OpenAI: typeof import('openai').OpenAI };
  }
}

describe('a chat UI on another origin, allowed with --cors', () => {
  it('streams a completion token by token with plain fetch', async () => {
    await page.goto(`${pageOrigin}/`);
    const result = await page.evaluate(
      async ({ base, key }) => {
        const response = await fetch(`${base}/v1/chat/completions`, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${key}` },
          body: JSON.stringify({ model: 'solo', stream: true, messages: [{ role: 'user', content: 'Why is the sky blue?' }] }),
        });
        const reader = response.body!.getReader();
        const decoder = new TextDecoder();
        let buffer = '';
        let done = false;
        while (!done) {
          const read = await reader.read();
          if (read.done) break;
          buffer += decoder.decode(read.value, { stream: true });
          for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
            const frame = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            if (frame.startsWith(':')) continue; // keep-alive comment
            const data = frame.replace(/^data: /, '');
            if (data === '[DONE]') done = true;
            else {
              const delta = (JSON.parse(data) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content;
              if (delta) await window.onToken(delta);
            }
          }
        }
        return { status: response.status, runId: response.headers.get('X-MoA-Run-Id'), done };
      },
      { base: ui.url, key: KEY },
    );
    expect(result.status).toBe(200);
    expect(result.done).toBe(true);
    expect(result.runId).toMatch(/^run_/); // an exposed header
    expect(tokens).toEqual(ANSWER_TOKENS);
    expect(firstTokenWhileUpstreamStreaming).toBe(true);
  });

  it('streams with the official openai client bundled for the browser, and its errors are readable', async () => {
    await page.goto(`${pageOrigin}/`);
    const result = await page.evaluate(
      async ({ base, key }) => {
        const client = new window.OpenAIBundle.OpenAI({ baseURL: `${base}/v1`, apiKey: key, dangerouslyAllowBrowser: true, maxRetries: 0 });
        const stream = await client.chat.completions.create({ model: 'solo', stream: true, messages: [{ role: 'user', content: 'Why is the sky blue?' }] });
        let finish: string | null = null;
        for await (const chunk of stream) {
          const delta = chunk.choices[0]?.delta.content;
          if (delta) await window.onToken(delta);
          finish = chunk.choices[0]?.finish_reason ?? finish;
        }
        const models = await client.models.list();
        const wrong = new window.OpenAIBundle.OpenAI({ baseURL: `${base}/v1`, apiKey: 'wrong', dangerouslyAllowBrowser: true, maxRetries: 0 });
        const failure = await wrong.models.list().then(
          () => null,
          (error: { status?: number; code?: string }) => ({
            status: error.status ?? null,
            authentication: error instanceof window.OpenAIBundle.OpenAI.AuthenticationError,
            code: error.code ?? null,
          }),
        );
        return { finish, models: models.data.map((model) => model.id), failure };
      },
      { base: ui.url, key: KEY },
    );
    expect(tokens).toEqual(ANSWER_TOKENS);
    expect(firstTokenWhileUpstreamStreaming).toBe(true);
    expect(result.finish).toBe('stop');
    expect(result.models).toContain('solo');
    // Not a "Failed to fetch" connection error: the 401 body reached the client.
    expect(result.failure).toEqual({ status: 401, authentication: true, code: 'invalid_api_key' });
  });
});

describe('the default server (no --cors, no key) against pages elsewhere', () => {
  it('calls no model for a no-cors text/plain fetch, a JSON fetch or a form post from another origin', async () => {
    await page.goto(`${pageOrigin}/`);
    const body = JSON.stringify({ model: 'solo', messages: [{ role: 'user', content: 'spend the keys' }] });
    const attempts = await page.evaluate(
      async ({ base, body }) => {
        // A "simple" request: no preflight; the page cannot read the answer but the server would run it.
        const noCors = await fetch(`${base}/v1/chat/completions`, { method: 'POST', mode: 'no-cors', headers: { 'Content-Type': 'text/plain' }, body }).then(
          (response) => response.type,
          (error: Error) => `rejected: ${error.message}`,
        );
        const json = await fetch(`${base}/api/runs`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body }).then(
          (response) => `status ${response.status}`,
          (error: Error) => `rejected: ${error.message}`,
        );
        return { noCors, json };
      },
      { base: plain.url, body },
    );
    expect(attempts.noCors).toBe('opaque'); // the request was sent...
    expect(attempts.json).toMatch(/^rejected/); // ...this one stopped at its preflight
    // A form whose text/plain body is JSON: {"model":...,"pad":"="}
    const formResponse = page.waitForResponse((response) => response.url().startsWith(plain.url));
    await page.evaluate(
      ({ action, body }) => {
        const form = document.createElement('form');
        form.method = 'POST';
        form.enctype = 'text/plain';
        form.action = action;
        const input = document.createElement('input');
        input.name = `${body.slice(0, -1)},"pad":"`;
        input.value = '"}';
        form.append(input);
        document.body.append(form);
        form.submit();
      },
      { action: `${plain.url}/v1/chat/completions`, body },
    );
    const response = await formResponse;
    expect([403, 415]).toContain(response.status());
    expect(fake.log).toEqual([]);
  });

  it('refuses a page whose DNS name points at this machine (DNS rebinding): 403, no model called, no answer read', async () => {
    const port = new URL(plain.url).port;
    const navigation = await page.goto(`http://rebind.localhost:${port}/`);
    expect(navigation?.status()).toBe(403);
    const attempt = await page.evaluate(async () => {
      // Same origin as far as the browser knows: it may read whatever comes back.
      const response = await fetch('/v1/chat/completions', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ model: 'solo', messages: [{ role: 'user', content: 'read my answers' }] }),
      });
      return { status: response.status, body: await response.text() };
    });
    expect(attempt.status).toBe(403);
    expect(JSON.parse(attempt.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
    expect(attempt.body).not.toContain(ANSWER.split(' ')[0]!);
    expect(fake.log).toEqual([]);
  });

  it('still serves its own page (same origin) at http://localhost:PORT/', async () => {
    const port = new URL(plain.url).port;
    const navigation = await page.goto(`http://localhost:${port}/`);
    expect(navigation?.status()).toBe(200);
    const status = await page.evaluate(async () => {
      const response = await fetch('/api/runs', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
        body: JSON.stringify({ model: 'solo', messages: [{ role: 'user', content: 'hello' }] }),
      });
      await response.text();
      return response.status;
    });
    expect(status).toBe(200);
    expect(fake.log.filter((entry) => entry.model === 'aggregator')).toHaveLength(1);
  });
});
