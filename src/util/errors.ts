/**
 * The error model: one base error with a stable `code`, a `cause`, and a
 * plain-JSON view (`ErrorInfo`) that travels in events, traces and API bodies.
 * This file has no `node:` imports: the web page shares the ErrorInfo shape.
 */
import { redactSecrets } from './redact.js';

export interface ErrorInfo {
  name: string;
  code: string;
  message: string;
  provider?: string;
  model?: string;
  status?: number;
  requestId?: string;
  retryable?: boolean;
  path?: string;
}

export class MoAError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(redactSecrets(message), options);
    this.name = 'MoAError';
    this.code = code;
  }
  toInfo(): ErrorInfo {
    return { name: this.name, code: this.code, message: this.message };
  }
}

/** Invalid configuration or usage: the CLI exits 2 on these. */
export class ConfigError extends MoAError {
  readonly path: string | undefined;
  constructor(message: string, options?: { path?: string; cause?: unknown; code?: string }) {
    super(options?.code ?? 'config_invalid', message, options);
    this.name = 'ConfigError';
    this.path = options?.path;
  }
  override toInfo(): ErrorInfo {
    return { ...super.toInfo(), ...(this.path ? { path: this.path } : {}) };
  }
}

/** A failed call to an LLM provider (HTTP status, network, timeout, bad response). */
export class ProviderError extends MoAError {
  readonly provider: string;
  readonly model: string;
  readonly status: number | undefined;
  readonly requestId: string | undefined;
  readonly isRetryable: boolean;
  /** How long the provider asked us to wait: a Retry-After / retry-after-ms header, or Google's RetryInfo `retryDelay` in the error body. */
  readonly retryAfterMs: number | undefined;
  /** For a 429: whether the limit is the model's (the default) or the whole account's (every model of the provider waits). */
  readonly rateLimitScope: 'model' | 'account' | undefined;
  constructor(
    message: string,
    options: {
      provider: string;
      model: string;
      status?: number;
      requestId?: string;
      isRetryable: boolean;
      retryAfterMs?: number;
      rateLimitScope?: 'model' | 'account';
      code?: string;
      cause?: unknown;
    },
  ) {
    super(options.code ?? 'provider_error', message, { cause: options.cause });
    this.name = 'ProviderError';
    this.provider = options.provider;
    this.model = options.model;
    this.status = options.status;
    this.requestId = options.requestId;
    this.isRetryable = options.isRetryable;
    this.retryAfterMs = options.retryAfterMs;
    this.rateLimitScope = options.rateLimitScope;
  }
  override toInfo(): ErrorInfo {
    return {
      ...super.toInfo(),
      provider: this.provider,
      model: this.model,
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.requestId ? { requestId: this.requestId } : {}),
      retryable: this.isRetryable,
    };
  }
}

/** The run (or one agent of it) was cancelled by its caller. */
export class AbortedError extends MoAError {
  constructor(message = 'The run was cancelled', options?: { cause?: unknown }) {
    super('aborted', message, options);
    this.name = 'AbortedError';
  }
}

/** A run that could not produce an answer: a layer below its minimum, or every aggregator failed. */
export class RunFailedError extends MoAError {
  readonly errors: ErrorInfo[];
  constructor(code: string, message: string, errors: ErrorInfo[]) {
    super(code, message);
    this.name = 'RunFailedError';
    this.errors = errors;
  }
}

export function toErrorInfo(error: unknown): ErrorInfo {
  if (error instanceof MoAError) return error.toInfo();
  if (error instanceof Error) {
    return { name: error.name, code: 'internal_error', message: redactSecrets(error.message) };
  }
  return { name: 'Error', code: 'internal_error', message: redactSecrets(String(error)) };
}
