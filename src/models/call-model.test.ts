import { APICallError } from '@ai-sdk/provider';
import { describe, it, expect } from 'vitest';
import { apiError, mockModel } from '../../test/support/engine-mocks.js';
import { ConfigError, MoAError, ProviderError, toErrorInfo } from '../util/errors.js';
import { redactSecrets } from '../util/redact.js';
import { callModel, parseRetryAfter, toProviderError } from './call-model.js';
import { createModelRegistry } from './registry.js';

const where = { provider: 'acme', label: 'acme:model-1' };

describe('parseRetryAfter', () => {
  const now = Date.UTC(2026, 0, 1, 12, 0, 0);

  it('reads Retry-After in seconds', () => {
    expect(parseRetryAfter({ 'retry-after': '3' }, now)).toBe(3000);
    expect(parseRetryAfter({ 'retry-after': '0' }, now)).toBe(0);
    expect(parseRetryAfter({ 'Retry-After': '1.5' }, now)).toBe(1500);
  });

  it('reads Retry-After as an HTTP date', () => {
    expect(parseRetryAfter({ 'retry-after': new Date(now + 7000).toUTCString() }, now)).toBe(7000);
    expect(parseRetryAfter({ 'retry-after': new Date(now - 7000).toUTCString() }, now)).toBe(0);
  });

  it('prefers retry-after-ms', () => {
    expect(parseRetryAfter({ 'retry-after-ms': '250', 'retry-after': '9' }, now)).toBe(250);
    expect(parseRetryAfter({ 'Retry-After-Ms': '40' }, now)).toBe(40);
  });

  it('ignores absent or unreadable values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter({}, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after': 'soon' }, now)).toBeUndefined();
    expect(parseRetryAfter({ 'retry-after-ms': 'x', 'retry-after': '2' }, now)).toBe(2000);
  });
});

describe('toProviderError', () => {
  it('maps a 429 to a retryable rate_limited error with its Retry-After', () => {
    const error = toProviderError(apiError(429, 'Rate limit reached for requests', { 'retry-after': '2', 'x-request-id': 'req_123' }), where);
    expect(error).toBeInstanceOf(ProviderError);
    expect(error).toMatchObject({ code: 'rate_limited', status: 429, isRetryable: true, retryAfterMs: 2000, requestId: 'req_123', provider: 'acme', model: 'acme:model-1' });
    expect(error.message).toBe('acme:model-1: HTTP 429: Rate limit reached for requests');
    expect(error.toInfo()).toMatchObject({ code: 'rate_limited', status: 429, retryable: true, requestId: 'req_123', provider: 'acme' });
  });

  it('does not retry a 400, and uses the message from the error body', () => {
    const error = toProviderError(apiError(400, "Invalid value for 'temperature'"), where);
    expect(error).toMatchObject({ code: 'provider_error', status: 400, isRetryable: false });
    expect(error.message).toContain("Invalid value for 'temperature'");
    expect(error.message).not.toContain('Bad response');
  });

  it('retries 408, 409 and 5xx', () => {
    for (const status of [408, 409, 500, 502, 503, 529]) expect(toProviderError(apiError(status), where).isRetryable).toBe(true);
    for (const status of [401, 403, 404, 422]) expect(toProviderError(apiError(status), where).isRetryable).toBe(false);
  });

  it('reads other error-body shapes, and falls back to the SDK message', () => {
    const body = (responseBody: string) =>
      new APICallError({ message: 'SDK says no', url: 'u', requestBodyValues: {}, statusCode: 503, responseBody, isRetryable: true });
    expect(toProviderError(body('{"error":"model is loading"}'), where).message).toContain('model is loading');
    expect(toProviderError(body('{"message":"overloaded_error"}'), where).message).toContain('overloaded_error');
    expect(toProviderError(body('<html>502 Bad Gateway</html>'), where).message).toBe('acme:model-1: HTTP 503: SDK says no');
  });

  it('treats a network failure (TypeError, or a cause with an errno code) as retryable', () => {
    const fetchFailed = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }) });
    expect(toProviderError(fetchFailed, where)).toMatchObject({ code: 'network_error', isRetryable: true });
    expect(toProviderError(fetchFailed, where).message).toBe('acme:model-1: fetch failed (ECONNREFUSED)');
    const reset = new Error('socket hang up', { cause: { code: 'ECONNRESET' } });
    expect(toProviderError(reset, where).isRetryable).toBe(true);
  });

  it('does not retry other errors', () => {
    expect(toProviderError(new Error('could not parse the response'), where)).toMatchObject({ code: 'provider_error', isRetryable: false });
    expect(toProviderError('weird', where).message).toBe('acme:model-1: weird');
  });

  it('passes a ProviderError through unchanged', () => {
    const original = new ProviderError('x', { provider: 'p', model: 'p:m', isRetryable: true, code: 'timeout' });
    expect(toProviderError(original, where)).toBe(original);
  });
});

describe('callModel', () => {
  const resolved = (model: ReturnType<typeof mockModel>) => ({ label: 'mock:m', provider: 'mock', modelId: 'm', model, queue: undefined as never });
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
  const resolved = (model: ReturnType<typeof mockModel>) => ({ label: 'mock:m', provider: 'mock', modelId: 'm', model, queue: undefined as never });
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

  it('needs no key for Ollama and resolves labels, providers and shared queues', () => {
    const registry = createModelRegistry({ env: { OPENAI_API_KEY: 'sk-test-shared-queue-000' } });
    expect(registry.resolve('ollama:llama3.2')).toMatchObject({ label: 'ollama:llama3.2', provider: 'ollama', modelId: 'llama3.2' });
    const a = registry.resolve('openai:gpt-4o');
    const b = registry.resolve('openai:gpt-4o-mini');
    expect(a.queue).toBe(b.queue);
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
