/**
 * Provider failures → `ProviderError`: the HTTP status, the provider's own message, the request id,
 * how long it asked us to wait (Retry-After, retry-after-ms, Google's RetryInfo), and whether a retry
 * can help (408, 409, 429, 5xx, network errors). Errors that arrive inside a stream that had already
 * begun come as the plain object the server sent, in each vendor's shape:
 * - Anthropic: `{ type: 'overloaded_error', message }` (an error type, no status)
 * - OpenAI-compatible servers: `{ message, type?, code?, param? }`, e.g. OpenRouter's
 *   `{ code: 502, message }` with the HTTP status as a number in `code`
 * - some proxies: `{ error: { message, code } }` or `{ status, message }`
 */
import { APICallError } from '@ai-sdk/provider';
import { ProviderError } from '../util/errors.js';
import type { ResolvedModel } from './registry.js';

const RETRYABLE_STATUS = new Set([408, 409, 429]);

export function isRetryableStatus(status: number): boolean {
  return RETRYABLE_STATUS.has(status) || status >= 500;
}

/** Retry-After in seconds or as an HTTP date; retry-after-ms in milliseconds. */
export function parseRetryAfter(headers: Record<string, string> | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const lower: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers)) lower[key.toLowerCase()] = value;
  const milliseconds = Number(lower['retry-after-ms']);
  if (lower['retry-after-ms'] !== undefined && Number.isFinite(milliseconds) && milliseconds >= 0) return milliseconds;
  const value = lower['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/**
 * google.rpc.RetryInfo in a Google error body (`{error:{details:[{'@type': '…RetryInfo', retryDelay: '37s'}]}}`):
 * the Gemini API says when to retry a 429 there, not in a Retry-After header.
 */
export function parseRetryInfo(responseBody: string | undefined): number | undefined {
  if (!responseBody) return undefined;
  try {
    const details = (JSON.parse(responseBody) as { error?: { details?: unknown } } | null)?.error?.details;
    if (!Array.isArray(details)) return undefined;
    for (const detail of details as Array<{ '@type'?: unknown; retryDelay?: unknown } | null>) {
      if (typeof detail?.['@type'] !== 'string' || !detail['@type'].endsWith('google.rpc.RetryInfo')) continue;
      const match = typeof detail.retryDelay === 'string' ? /^(\d+(?:\.\d+)?)s$/.exec(detail.retryDelay) : null;
      if (match) return Math.round(Number(match[1]) * 1000);
    }
  } catch {
    // not JSON: no retry information
  }
  return undefined;
}

/** Error types (Anthropic's, and OpenAI's `type`s) and the HTTP status each stands for. */
const ERROR_TYPE_STATUS: Record<string, number> = {
  invalid_request_error: 400,
  authentication_error: 401,
  permission_error: 403,
  not_found_error: 404,
  request_too_large: 413,
  rate_limit_error: 429,
  api_error: 500,
  timeout_error: 504,
  overloaded_error: 529,
  rate_limit_exceeded: 429,
  insufficient_quota: 429,
  server_error: 500,
  service_unavailable: 503,
};

interface StreamErrorBody {
  message: string;
  /** The HTTP status the error stands for, when the body says (a numeric code or status, or a known type). */
  status?: number;
  /** The vendor's error type or string code, e.g. `overloaded_error`. */
  kind?: string;
}

function httpStatus(value: unknown): number | undefined {
  const number = typeof value === 'string' && /^\d{3}$/.test(value) ? Number(value) : value;
  return typeof number === 'number' && Number.isInteger(number) && number >= 100 && number <= 599 ? number : undefined;
}

/** A plain error object from inside a stream, in any of the shapes above; undefined when it is not one. */
export function readStreamErrorBody(error: unknown): StreamErrorBody | undefined {
  if (typeof error !== 'object' || error === null || error instanceof Error) return undefined;
  const outer = error as Record<string, unknown>;
  const body = typeof outer.error === 'object' && outer.error !== null ? (outer.error as Record<string, unknown>) : outer;
  const message = typeof body.message === 'string' ? body.message : typeof outer.message === 'string' ? outer.message : undefined;
  if (message === undefined) return undefined;
  const kinds = [body.type, body.code, outer.type].filter((value): value is string => typeof value === 'string' && !/^\d+$/.test(value));
  // The first kind whose status is known names the error best (`{ type: 'requests', code: 'rate_limit_exceeded' }`).
  const kind = kinds.find((candidate) => ERROR_TYPE_STATUS[candidate] !== undefined) ?? kinds[0];
  const status =
    httpStatus(body.status) ??
    httpStatus(body.status_code) ??
    httpStatus(body.code) ??
    httpStatus(outer.status) ??
    httpStatus(outer.code) ??
    (kind !== undefined ? ERROR_TYPE_STATUS[kind] : undefined);
  return { message, ...(status !== undefined ? { status } : {}), ...(kind !== undefined ? { kind } : {}) };
}

function safeJson(value: object): string {
  try {
    return JSON.stringify(value).slice(0, 500);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

function upstreamMessage(error: APICallError): string {
  // Prefer the provider's own words from an OpenAI-style error body.
  if (error.responseBody) {
    try {
      const body = JSON.parse(error.responseBody) as { error?: { message?: unknown } | string; message?: unknown };
      const message = typeof body.error === 'string' ? body.error : typeof body.error?.message === 'string' ? body.error.message : body.message;
      if (typeof message === 'string' && message) return message;
    } catch {
      // not JSON: fall through to the SDK's message
    }
  }
  return error.message;
}

/**
 * Whose limit a 429 is: the model's (most rate limits are per model: "Rate limit reached for gpt-4o
 * in organization … on requests per min") or the whole account's (an exhausted quota or credit
 * balance, or a limit the provider says spans every model), when every model of the provider must wait.
 */
export function rateLimitScope(message: string, responseBody: string | undefined): 'model' | 'account' {
  const text = `${message} ${responseBody ?? ''}`;
  return /insufficient_quota|exceeded your (current )?quota|credit balance|billing|(account|organi[sz]ation)[- ]wide|all models/i.test(text) ? 'account' : 'model';
}

export function toProviderError(error: unknown, resolved: Pick<ResolvedModel, 'provider' | 'label'>): ProviderError {
  if (error instanceof ProviderError) return error;
  const base = { provider: resolved.provider, model: resolved.label, cause: error };
  if (APICallError.isInstance(error)) {
    const status = error.statusCode;
    const headers = error.responseHeaders;
    const requestId = headers?.['x-request-id'] ?? headers?.['request-id'];
    const retryAfterMs = parseRetryAfter(headers) ?? parseRetryInfo(error.responseBody);
    // No status: the request never got an answer (connection refused, reset, DNS).
    const causeCode = status === undefined ? (error.cause as { cause?: { code?: string }; code?: string } | undefined) : undefined;
    const networkCode = causeCode?.code ?? causeCode?.cause?.code;
    const message = upstreamMessage(error);
    return new ProviderError(`${resolved.label}: ${status ? `HTTP ${status}: ` : ''}${message}${networkCode ? ` (${networkCode})` : ''}`, {
      ...base,
      ...(status !== undefined ? { status } : {}),
      ...(status === 429 ? { rateLimitScope: rateLimitScope(message, error.responseBody) } : {}),
      ...(requestId ? { requestId } : {}),
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      isRetryable: status !== undefined ? isRetryableStatus(status) : error.isRetryable,
      code: status === 429 ? 'rate_limited' : status === undefined ? 'network_error' : 'provider_error',
    });
  }
  const streamError = readStreamErrorBody(error);
  if (streamError) {
    const { status, kind } = streamError;
    const what = [kind, status !== undefined ? `HTTP ${status}` : undefined].filter(Boolean).join(', ');
    return new ProviderError(`${resolved.label}: ${streamError.message} (${what ? `${what} ` : ''}in the stream)`, {
      ...base,
      ...(status !== undefined ? { status } : {}),
      // A status says whether a retry can help; an error with none mid-stream is most likely the server's.
      isRetryable: status === undefined || isRetryableStatus(status),
      code: status === 429 ? 'rate_limited' : 'provider_error',
    });
  }
  // A plain object the server sent that is not an error body we know: show it, never "[object Object]".
  const message = error instanceof Error ? error.message : typeof error === 'object' && error !== null ? safeJson(error) : String(error);
  const cause = error instanceof Error ? (error.cause as { code?: string } | undefined) : undefined;
  const network = (error instanceof TypeError && /fetch failed|network|socket/i.test(message)) || Boolean(cause?.code && /^(E[A-Z]+|UND_ERR)/.test(cause.code));
  return new ProviderError(`${resolved.label}: ${message}${cause?.code ? ` (${cause.code})` : ''}`, {
    ...base,
    isRetryable: network,
    code: network ? 'network_error' : 'provider_error',
  });
}
