/**
 * The server's one error mapper: anything thrown while handling a request (or a
 * failed run) becomes an HTTP status and an OpenAI-shaped error body
 * `{ error: { message, type, param, code } }`. Messages pass through
 * redactSecrets, so a key an upstream echoed never reaches a client.
 */
import type { MoAResult } from '../core/reducer.js';
import { ConfigError, MoAError, type ErrorInfo } from '../util/errors.js';
import { redactSecrets } from '../util/redact.js';

export interface OpenAIErrorBody {
  error: { message: string; type: string; param: string | null; code: string | null };
}

/** Statuses the official SDKs retry on their own (unless told otherwise by `x-should-retry`). */
function retriedByClients(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

/** An error that already knows its HTTP status and OpenAI fields. */
export class HttpError extends Error {
  readonly status: number;
  readonly type: string;
  readonly param: string | null;
  readonly code: string | null;
  /**
   * Whether sending the same request again could succeed. False for a bad request, a wrong key,
   * a preset the server cannot run (no provider key) or upstream failures no retry fixes: such a
   * response carries `x-should-retry: false`, so the official SDKs do not rerun a whole MoA run.
   */
  readonly retryable: boolean;
  constructor(status: number, message: string, options: { type?: string; param?: string | null; code?: string | null; retryable?: boolean } = {}) {
    super(message);
    this.name = 'HttpError';
    this.status = status;
    this.type = options.type ?? defaultType(status);
    this.param = options.param ?? null;
    this.code = options.code ?? null;
    this.retryable = options.retryable ?? retriedByClients(status);
  }
  toBody(): OpenAIErrorBody {
    return { error: { message: redactSecrets(this.message), type: this.type, param: this.param, code: this.code } };
  }
}

function defaultType(status: number): string {
  if (status === 401) return 'invalid_request_error';
  if (status === 413 || (status >= 400 && status < 500)) return 'invalid_request_error';
  if (status === 502 || status === 504) return 'upstream_error';
  return 'server_error';
}

/** ConfigError codes that describe the request (the client can fix them) rather than the server's setup. */
// The request is what is wrong: a 400 naming the field (`path`).
const REQUEST_ERROR_CODES = new Set(['invalid_input', 'unsupported_parameter']);

/** Map anything thrown while handling a request to an HttpError. */
export function toHttpError(error: unknown): HttpError {
  if (error instanceof HttpError) return error;
  if (error instanceof ConfigError) {
    if (error.code === 'unknown_preset') {
      return new HttpError(404, error.message, { code: 'model_not_found', param: 'model' });
    }
    if (error.code === 'tools_unsupported') {
      // The request's tools, refused before any call: the preset's aggregator (or a fallback) cannot call tools.
      return new HttpError(400, `'tools' cannot be used with this preset: ${error.message}`, { code: 'tools_unsupported', param: 'tools' });
    }
    if (REQUEST_ERROR_CODES.has(error.code)) {
      const param = error.path ?? null;
      const message = param !== null && !error.message.includes(param) ? `Invalid value for '${param}': ${error.message}` : error.message;
      return new HttpError(400, message, { code: error.code, param });
    }
    // A preset whose provider has no key, an unknown provider, an unreadable synthesis prompt:
    // the server's configuration, not the request, is wrong, and stays wrong on a retry.
    if (error.code === 'missing_api_key') {
      return new HttpError(
        500,
        `The server cannot run this preset: its provider has no API key on the server. ${error.message.replace(/ in the environment/, ' in the environment of moa serve')}`,
        { code: error.code, param: null, retryable: false },
      );
    }
    return new HttpError(500, `The server cannot run this preset: ${error.message}`, { code: error.code, param: null, retryable: false });
  }
  if (error instanceof MoAError) return new HttpError(500, error.message, { code: error.code });
  const message = error instanceof Error ? error.message : String(error);
  return new HttpError(500, `Internal server error: ${message}`, { code: 'internal_error' });
}

/**
 * A failed run: the providers' own messages, 504 when every agent that failed
 * in the failing layer timed out, 502 otherwise; 503 when the server cancelled
 * it (shutdown).
 */
export function runFailureError(result: MoAResult, cancelledByServer: boolean): HttpError {
  const error: ErrorInfo = result.error ?? { name: 'Error', code: 'run_failed', message: 'The MoA run failed' };
  if (error.code === 'aborted') {
    return cancelledByServer
      ? new HttpError(503, 'The server is shutting down and cancelled this run; retry the request', { code: 'server_shutting_down' })
      : new HttpError(499, 'The run was cancelled', { code: 'cancelled', type: 'invalid_request_error' });
  }
  const failingLayer = [...result.layers].reverse().find((layer) => layer.status !== 'waiting');
  const failures = (failingLayer?.agents ?? []).filter((agent) => agent.status === 'failed' && agent.error);
  const timedOut = failures.length > 0 && failures.every((agent) => agent.error!.code === 'timeout');
  const status = timedOut ? 504 : 502;
  // Every attempt of every failed agent refused for good (a 400, a wrong upstream key): the same request fails again.
  const attempts = failures.flatMap((agent) => (agent.errors.length > 0 ? agent.errors : [agent.error!]));
  const hopeless = attempts.length > 0 && attempts.every((attempt) => attempt.retryable === false);
  const refusedKey = hopeless && attempts.every((attempt) => attempt.status === 401 || attempt.status === 403);
  if (refusedKey) {
    return new HttpError(status, `The provider refused the server's API key: ${error.message}`, { code: 'provider_auth_failed', retryable: false });
  }
  return new HttpError(status, error.message, { code: timedOut ? 'upstream_timeout' : error.code, retryable: !hopeless });
}
