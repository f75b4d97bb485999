// Streamed replies send their headers and a keep-alive comment at once, and another whenever the
// stream has been quiet for the heartbeat interval, so a client or proxy with an idle timeout
// waits for a slow MoA run instead of dropping it. The interval is shortened for the test: 100 ms
// against a proxy that drops connections idle for 600 ms, and proposers that take 700 ms per layer.
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startIdleTimeoutProxy, type IdleTimeoutProxy } from '../support/idle-timeout-proxy.js';
import { KEEP_ALIVE, sseEvents, useServerSuite } from './server-suite.js';

const HEARTBEAT_MS = 100;
const IDLE_TIMEOUT_MS = 600;
const SLOW_MS = 700;

const threeLayers = { layers: 3, proposers: ['fake:proposer-a', 'fake:proposer-b'], aggregator: 'fake:aggregator' };
const suite = useServerSuite({ heartbeatMs: HEARTBEAT_MS, presets: { deep: threeLayers } });
const quiet = useServerSuite({ heartbeatMs: 0, presets: { deep: threeLayers } });

let proxy: IdleTimeoutProxy;
let quietProxy: IdleTimeoutProxy;
beforeAll(async () => {
  proxy = await startIdleTimeoutProxy(suite.url, IDLE_TIMEOUT_MS);
  quietProxy = await startIdleTimeoutProxy(quiet.url, IDLE_TIMEOUT_MS);
});
afterAll(async () => {
  await proxy?.close();
  await quietProxy?.close();
});

function slowProposers(fake: typeof suite.fake): void {
  fake.setBehavior('proposer-a', { delayMs: SLOW_MS, tokens: 4 });
  fake.setBehavior('proposer-b', { delayMs: SLOW_MS, tokens: 4 });
  fake.setBehavior('aggregator', { text: 'the final answer' });
}

describe('keep-alive comments on streamed replies', () => {
  it('a 3-layer run streams through a proxy with a short idle timeout (the OpenAI client gets the whole answer)', async () => {
    slowProposers(suite.fake);
    const client = new OpenAI({ baseURL: `${proxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const stream = await client.chat.completions.create({ model: 'deep', stream: true, messages: [{ role: 'user', content: 'Think hard' }] });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('the final answer');
  });

  it('without heartbeats the same proxy drops the same request (the test can fail)', async () => {
    slowProposers(quiet.fake);
    const client = new OpenAI({ baseURL: `${quietProxy.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const error = await (async () => {
      const stream = await client.chat.completions.create({ model: 'deep', stream: true, messages: [{ role: 'user', content: 'Think hard' }] });
      for await (const chunk of stream) void chunk;
    })().catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(Error);
    expect(quietProxy.dropped).toBeGreaterThanOrEqual(1);
  });

  it('sends the headers and a comment at once, comments while quiet, none once tokens flow densely', async () => {
    slowProposers(suite.fake);
    const response = await fetch(`${suite.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'deep', stream: true, messages: [{ role: 'user', content: 'Think hard' }] }),
    });
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toBe(`${KEEP_ALIVE}\n\n`); // before any model has answered
    expect(suite.fake.log.every((entry) => entry.outcome === 'pending')).toBe(true);
    let rest = '';
    for (let read = await reader.read(); !read.done; read = await reader.read()) rest += new TextDecoder().decode(read.value);
    const frames = rest.split('\n\n').filter(Boolean);
    const firstData = frames.findIndex((frame) => frame.startsWith('data: '));
    // Two slow layers of 700 ms at a 100 ms interval: several comments before the answer starts…
    expect(frames.slice(0, firstData).every((frame) => frame === KEEP_ALIVE)).toBe(true);
    expect(firstData).toBeGreaterThanOrEqual(4);
    // …and the answer itself (streamed in one go by the fake) carries none.
    expect(frames.slice(firstData).every((frame) => frame.startsWith('data: '))).toBe(true);
  });

  it('keeps Responses and Messages streams alive the same way, their first events right after the comment', async () => {
    for (const [path, body, firstEvent, lastEvent] of [
      ['/v1/responses', { model: 'deep', stream: true, input: 'Think hard' }, 'response.created', 'response.completed'],
      ['/v1/messages', { model: 'deep', stream: true, max_tokens: 50, messages: [{ role: 'user', content: 'Think hard' }] }, 'message_start', 'message_stop'],
    ] as const) {
      slowProposers(suite.fake);
      const response = await fetch(`${proxy.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await response.text();
      expect(text.startsWith(`${KEEP_ALIVE}\n\nevent: ${firstEvent}\n`)).toBe(true);
      expect(text.split('\n\n').filter((frame) => frame === KEEP_ALIVE).length).toBeGreaterThanOrEqual(4);
      // The whole stream came through the proxy.
      expect(sseEvents(text).at(-1)?.event).toBe(lastEvent);
    }
  });
});
