// Log-probabilities through the real AI SDK providers against the fake OpenAI-style server:
// the `openai` type (@ai-sdk/openai, providerMetadata.openai.logprobs) and the
// `openai-compatible` type (@ai-sdk/openai-compatible, request passthrough + raw response body).
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { mockModel } from '../../test/support/engine-mocks.js';
import { startFakeLLMServer, type FakeLLMServer, type FakeTopLogprobs } from '../../test/support/fake-llm-server.js';
import { callModel } from './call-model.js';
import { createModelRegistry, type ModelRegistry } from './registry.js';

const prompt = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'Which output is better, m or M?' }] }];

/** Six candidates, so a request for five shows the cut. */
const candidates: FakeTopLogprobs = [
  { token: 'm', logprob: Math.log(0.7) },
  { token: 'M', logprob: Math.log(0.25) },
  { token: 'Output', logprob: Math.log(0.02) },
  { token: ' m', logprob: Math.log(0.01) },
  { token: '"', logprob: Math.log(0.005) },
  { token: 'The', logprob: Math.log(0.001) },
];

let server: FakeLLMServer;
let registry: ModelRegistry;

beforeAll(async () => {
  server = await startFakeLLMServer();
  registry = createModelRegistry({
    env: { OA_KEY: 'sk-test-logprobs-000', COMPAT_KEY: 'compat-test-key-000' },
    providers: {
      oa: { type: 'openai', baseURL: server.url, apiKeyEnv: 'OA_KEY' },
      compat: { type: 'openai-compatible', baseURL: server.url, apiKeyEnv: 'COMPAT_KEY' },
    },
  });
});
afterAll(async () => {
  await registry?.close();
  await server?.close();
});
beforeEach(() => server.reset());

describe('log-probability support by provider type', () => {
  it('tells the openai chat model, the openai-compatible chat model, and the rest apart', () => {
    expect(registry.resolve('oa:judge').capabilities.logprobs).toEqual({ kind: 'openai' });
    expect(registry.resolve('compat:judge').capabilities.logprobs).toEqual({ kind: 'openai-compatible', optionsName: 'compat' });
    expect(registry.resolve(mockModel('openai:gpt-4o')).capabilities.logprobs).toEqual({ kind: 'none' });
  });
});

describe.each(['oa', 'compat'])('callModel with topLogprobs on the %s provider', (provider) => {
  it("asks for them and returns the first token's top log-probabilities (generate)", async () => {
    server.setBehavior('judge', { text: 'm', logprobs: candidates });
    const result = await callModel(registry.resolve(`${provider}:judge`), { prompt, signal: new AbortController().signal, maxTokens: 1, temperature: 1, topLogprobs: 5 });
    expect(result.text).toBe('m');
    expect(result.topLogprobs).toEqual(candidates.slice(0, 5));
    expect(server.log).toHaveLength(1);
    expect(server.log[0]).toMatchObject({ logprobs: true, topLogprobs: 5, maxTokens: 1, temperature: 1, stream: false });
  });

  it('returns them from a streamed call too', async () => {
    server.setBehavior('judge', { text: 'M is better', logprobs: candidates });
    const deltas: string[] = [];
    const result = await callModel(registry.resolve(`${provider}:judge`), {
      prompt,
      signal: new AbortController().signal,
      topLogprobs: 3,
      onDelta: (delta) => deltas.push(delta),
    });
    expect(deltas.join('')).toBe('M is better');
    expect(result.text).toBe('M is better');
    expect(result.topLogprobs).toEqual(candidates.slice(0, 3));
    expect(server.log[0]).toMatchObject({ logprobs: true, topLogprobs: 3, stream: true });
  });

  it('sends no logprobs parameters and returns none when not asked', async () => {
    server.setBehavior('judge', { text: 'm', logprobs: candidates });
    const result = await callModel(registry.resolve(`${provider}:judge`), { prompt, signal: new AbortController().signal, maxTokens: 1 });
    expect(result.text).toBe('m');
    expect(result.topLogprobs).toBeUndefined();
    expect(server.log[0]?.logprobs).toBeUndefined();
    expect(server.log[0]?.topLogprobs).toBeUndefined();
  });

  it('returns none when the server ignores the parameters', async () => {
    server.setBehavior('judge', { text: 'M' });
    const result = await callModel(registry.resolve(`${provider}:judge`), { prompt, signal: new AbortController().signal, maxTokens: 1, topLogprobs: 5 });
    expect(result.text).toBe('M');
    expect(result.topLogprobs).toBeUndefined();
    expect(server.log[0]).toMatchObject({ logprobs: true, topLogprobs: 5 });
  });

  it('asks once more without them when the server refuses the parameters', async () => {
    server.setBehavior('judge', { text: 'M', rejectLogprobs: true, logprobs: candidates });
    const result = await callModel(registry.resolve(`${provider}:judge`), { prompt, signal: new AbortController().signal, maxTokens: 1, topLogprobs: 5 });
    expect(result.text).toBe('M');
    expect(result.topLogprobs).toBeUndefined();
    expect(server.log.map((entry) => [entry.status, entry.logprobs])).toEqual([
      [400, true],
      [200, undefined],
    ]);
  });

  it('does not repeat a 400 that is not about logprobs', async () => {
    server.setBehavior('judge', { failures: [{ status: 400, message: 'context length exceeded' }] });
    await expect(callModel(registry.resolve(`${provider}:judge`), { prompt, signal: new AbortController().signal, maxTokens: 1, topLogprobs: 5 })).rejects.toMatchObject({
      status: 400,
      message: expect.stringContaining('context length exceeded'),
    });
    expect(server.log).toHaveLength(1);
  });
});

describe('callModel with topLogprobs on a provider without logprobs', () => {
  it('sends the call unchanged and returns no log-probabilities', async () => {
    const model = mockModel('anthropic:claude', 'M');
    const result = await callModel(registry.resolve(model), { prompt, signal: new AbortController().signal, maxTokens: 1, topLogprobs: 5 });
    expect(result).toEqual({ text: 'M', usage: { inputTokens: 10, outputTokens: 1 }, finishReason: 'stop' });
    expect(model.calls[0]?.options.providerOptions).toBeUndefined();
  });
});
