import { APICallError } from '@ai-sdk/provider';
import { describe, it, expect } from 'vitest';
import { apiError } from '../../test/support/engine-mocks.js';
import { ProviderError } from '../util/errors.js';
import { parseRetryAfter, readStreamErrorBody, toProviderError } from './provider-errors.js';

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
    expect(error).toMatchObject({
      code: 'rate_limited',
      status: 429,
      isRetryable: true,
      retryAfterMs: 2000,
      requestId: 'req_123',
      provider: 'acme',
      model: 'acme:model-1',
    });
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

describe('errors inside a stream', () => {
  it("reads OpenRouter's { code: 502, message } (no type): the message, the status, and a retry", () => {
    const error = toProviderError({ code: 502, message: 'Upstream provider returned 502' }, where);
    expect(error.message).toBe('acme:model-1: Upstream provider returned 502 (HTTP 502 in the stream)');
    expect(error).toMatchObject({ status: 502, isRetryable: true, code: 'provider_error' });
  });

  it("reads Anthropic's { type, message } and OpenAI's { message, type, code }", () => {
    expect(toProviderError({ type: 'overloaded_error', message: 'Overloaded' }, where)).toMatchObject({
      message: 'acme:model-1: Overloaded (overloaded_error, HTTP 529 in the stream)',
      status: 529,
      isRetryable: true,
    });
    expect(toProviderError({ message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' }, where)).toMatchObject({
      status: 429,
      isRetryable: true,
      code: 'rate_limited',
    });
    expect(toProviderError({ message: 'bad request', type: 'invalid_request_error', code: null }, where)).toMatchObject({ status: 400, isRetryable: false });
  });

  it('reads a nested { error: { message, code } } and a { status, message } shape', () => {
    expect(readStreamErrorBody({ error: { message: 'gateway timeout', code: '504' } })).toEqual({ message: 'gateway timeout', status: 504 });
    expect(readStreamErrorBody({ status: 503, message: 'unavailable' })).toEqual({ message: 'unavailable', status: 503 });
    expect(readStreamErrorBody({ detail: 'no message here' })).toBeUndefined();
    expect(readStreamErrorBody(new Error('an Error is not a body'))).toBeUndefined();
  });

  it("retries an error with no status at all (most likely the server's), never printing [object Object]", () => {
    const error = toProviderError({ message: 'stream broke' }, where);
    expect(error).toMatchObject({ isRetryable: true, message: 'acme:model-1: stream broke (in the stream)' });
    expect(toProviderError({ code: 'weird' }, where).message).not.toContain('[object Object]');
  });
});
