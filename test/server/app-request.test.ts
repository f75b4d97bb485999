// The app outside @hono/node-server (app.request, as another runtime would call it): SSE bodies are
// standard ReadableStreams there, and the run's trace is kept for GET /api/runs/:id.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type MoAApp } from '../../src/server/app.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { TEST_PRESETS, UPSTREAM_SECRET } from './server-suite.js';

let fake: FakeLLMServer;
let moa: MoAApp;

beforeAll(async () => {
  fake = await startFakeLLMServer();
  fake.setDefaultBehavior({ tokens: 5 });
  moa = createApp({
    config: {
      presets: TEST_PRESETS,
      providers: { fake: { type: 'openai-compatible', baseURL: fake.url, apiKeyEnv: 'FAKE_KEY' } },
      defaultPreset: 'duo',
    },
    env: { FAKE_KEY: UPSTREAM_SECRET },
    apiKey: null,
  });
});

afterAll(async () => {
  await moa?.close();
  await fake?.close();
});

describe('the app without the Node adapter', () => {
  it('streams a chat completion as a ReadableStream body and keeps the run trace', async () => {
    const response = await moa.app.request('/v1/chat/completions', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'duo', stream: true, messages: [{ role: 'user', content: 'Hello there' }] }),
    });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const text = await response.text();
    expect(text.startsWith(': keep-alive\n\n')).toBe(true); // headers and a comment before any token
    const payloads = text
      .split('\n\n')
      .filter((frame) => frame !== '' && !frame.startsWith(':'))
      .map((line) => line.replace(/^data: /, ''));
    expect(payloads[payloads.length - 1]).toBe('[DONE]');
    const chunks = payloads.slice(0, -1).map((payload) => JSON.parse(payload) as { choices: Array<{ delta: { content?: string }; finish_reason: string | null }> });
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    const aggregatorCall = fake.log.find((entry) => entry.model === 'aggregator');
    expect(aggregatorCall?.stream).toBe(true);
    expect(content.split(/\s+/).filter(Boolean)).toHaveLength(5);
    expect(chunks[chunks.length - 1]?.choices[0]?.finish_reason).toBe('stop');

    const runId = response.headers.get('x-moa-run-id')!;
    const trace = await moa.app.request(`/api/runs/${runId}`);
    expect(trace.status).toBe(200);
    const events = (await trace.text())
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; seq: number; runId: string });
    expect(events[0]?.type).toBe('run-start');
    expect(events[events.length - 1]?.type).toBe('run-end');
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
    expect(events.every((event) => event.runId === runId)).toBe(true);
    expect(events.filter((event) => event.type === 'agent-delta').length).toBeGreaterThan(0);
  });
});
