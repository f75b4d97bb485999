import { APICallError } from '@ai-sdk/provider';
import { describe, it, expect } from 'vitest';
import { apiError, mockModel } from '../../test/support/engine-mocks.js';
import { ConfigError, MoAError, toErrorInfo } from '../util/errors.js';
import { redactSecrets } from '../util/redact.js';
import { callModel } from './call-model.js';
import { providerCapabilities } from './provider-capabilities.js';
import { toProviderError } from './provider-errors.js';
import { createModelRegistry } from './registry.js';

const where = { provider: 'acme', label: 'acme:model-1' };

describe('callModel', () => {
  const resolved = (model: ReturnType<typeof mockModel>) => ({
    label: 'mock:m',
    provider: 'mock',
    modelId: 'm',
    model,
    lane: undefined as never,
    capabilities: providerCapabilities('object', 'mock'),
  });
  const prompt = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }];

  it('generates without onDelta and streams with it, passing temperature and maxTokens', async () => {
    const model = mockModel('mock:m', { text: 'one two three', inputTokens: 4, outputTokens: 3 });
    const signal = new AbortController().signal;
    const plain = await callModel(resolved(model), { prompt, signal, temperature: 0.3, maxTokens: 50 });
    expect(plain).toEqual({ text: 'one two three', usage: { inputTokens: 4, outputTokens: 3 }, finishReason: 'stop' });
    expect(model.calls[0]).toMatchObject({ mode: 'generate', options: { temperature: 0.3, maxOutputTokens: 50, abortSignal: signal } });

    const deltas: string[] = [];
    const streamed = await callModel(resolved(model), { prompt, signal, onDelta: (delta) => deltas.push(delta) });
    expect(streamed).toEqual(plain);
    expect(deltas).toEqual(['one ', 'two ', 'three']);
    expect(model.calls[1]!.mode).toBe('stream');
  });

  it('turns a provider error into a ProviderError naming the model', async () => {
    const model = mockModel('mock:m', () => {
      throw apiError(503, 'try later');
    });
    const error = await callModel(resolved(model), { prompt, signal: new AbortController().signal }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'ProviderError', status: 503, isRetryable: true, message: 'mock:m: HTTP 503: try later' });
  });
});

describe('an empty answer', () => {
  const resolved = (model: ReturnType<typeof mockModel>) => ({
    label: 'mock:m',
    provider: 'mock',
    modelId: 'm',
    model,
    lane: undefined as never,
    capabilities: providerCapabilities('object', 'mock'),
  });
  const prompt = [{ role: 'user' as const, content: [{ type: 'text' as const, text: 'hi' }] }];

  it('fails the call as a retryable empty_answer, generated or streamed', async () => {
    const model = mockModel('mock:m', { text: '  ' });
    const signal = new AbortController().signal;
    for (const onDelta of [undefined, () => undefined]) {
      const error = await callModel(resolved(model), { prompt, signal, ...(onDelta ? { onDelta } : {}) }).catch((caught: unknown) => caught);
      expect(error).toMatchObject({ name: 'ProviderError', code: 'empty_answer', isRetryable: true });
      expect((error as Error).message).toContain('mock:m: returned an empty answer');
    }
  });
});

describe('createModelRegistry', () => {
  it('rejects an unknown provider, naming it and the path', () => {
    const registry = createModelRegistry({ env: {} });
    let error: unknown;
    try {
      registry.resolve('nowhere:model', 'presets.quick.aggregator');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'unknown_provider', path: 'presets.quick.aggregator' });
    expect((error as Error).message).toContain('"nowhere"');
    expect((error as Error).message).toContain('openai');
  });

  it('asks for the missing key, naming the environment variable', () => {
    const registry = createModelRegistry({ env: {}, providers: { local: { type: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', apiKeyEnv: 'LOCAL_LLM_KEY' } } });
    expect(() => registry.resolve('openai:gpt-4o')).toThrow(expect.objectContaining({ code: 'missing_api_key', message: expect.stringContaining('OPENAI_API_KEY') }));
    expect(() => registry.resolve('google:gemini-2.5-pro')).toThrow(expect.objectContaining({ message: expect.stringContaining('GEMINI_API_KEY') }));
    expect(() => registry.resolve('local:m', 'presets.x.proposers[0]')).toThrow(
      expect.objectContaining({ code: 'missing_api_key', path: 'presets.x.proposers[0]', message: expect.stringContaining('LOCAL_LLM_KEY') }),
    );
  });

  it('needs no key for Ollama and resolves labels, providers and shared lanes', () => {
    const registry = createModelRegistry({ env: { OPENAI_API_KEY: 'sk-test-shared-queue-000' } });
    expect(registry.resolve('ollama:llama3.2')).toMatchObject({ label: 'ollama:llama3.2', provider: 'ollama', modelId: 'llama3.2' });
    const a = registry.resolve('openai:gpt-4o');
    const b = registry.resolve('openai:gpt-4o-mini');
    expect(a.lane).toBe(b.lane);
    // Another registry on the same connection shares the lane: its limits hold for both together.
    expect(createModelRegistry({ env: { OPENAI_API_KEY: 'sk-test-shared-queue-000' } }).resolve('openai:gpt-4o').lane).toBe(a.lane);
    expect(createModelRegistry({ env: { OPENAI_API_KEY: 'sk-test-other-key-111' } }).resolve('openai:gpt-4o').lane).not.toBe(a.lane);
    expect(b.model.modelId).toBe('gpt-4o-mini');
    expect(registry.resolve('openai:ft:gpt-4o:org:custom').modelId).toBe('ft:gpt-4o:org:custom');
  });

  it('never lets a key it read appear in an error message', () => {
    const key = 'sk-proj-Zq81mXv0TopSecret4417';
    const registry = createModelRegistry({
      env: { ACME_KEY: key },
      providers: { acme: { type: 'openai-compatible', baseURL: 'http://127.0.0.1:9/v1', apiKeyEnv: 'ACME_KEY' } },
    });
    registry.resolve('acme:model-1');

    const echoed = new APICallError({
      message: 'Unauthorized',
      url: 'http://127.0.0.1:9/v1/chat/completions',
      requestBodyValues: {},
      statusCode: 401,
      responseBody: JSON.stringify({ error: { message: `Incorrect API key provided: ${key}` } }),
    });
    const providerError = toProviderError(echoed, where);
    expect(providerError.message).toContain('Incorrect API key provided: [redacted]');
    expect(providerError.message).not.toContain(key);
    expect(JSON.stringify(providerError.toInfo())).not.toContain(key);
    expect(new MoAError('x', `boom ${key}`).message).not.toContain(key);
    expect(toErrorInfo(new Error(`plain ${key}`)).message).not.toContain(key);
    expect(redactSecrets(`a ${key} b ${key}`)).toBe('a [redacted] b [redacted]');
    expect(redactSecrets('Authorization: Bearer abcdefgh12345678')).toBe('Authorization: Bearer [redacted]');
  });
});
