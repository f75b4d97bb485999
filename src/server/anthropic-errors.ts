/**
 * Errors on `/v1/messages` in Anthropic's shape, `{ type: "error", error: { type, message } }`,
 * which the Anthropic SDKs (and Claude Code) read; the same HttpError as everywhere else, so the
 * status, the redaction and `x-should-retry` stay the same.
 */
import type { HttpError } from './openai-errors.js';

export interface AnthropicErrorBody {
  type: 'error';
  error: { type: string; message: string };
}

function anthropicType(status: number): string {
  switch (status) {
    case 400:
    case 415:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
      return 'overloaded_error';
    case 504:
      return 'timeout_error';
    default:
      return 'api_error';
  }
}

export function anthropicErrorBody(error: HttpError): AnthropicErrorBody {
  const { message } = error.toBody().error;
  return { type: 'error', error: { type: anthropicType(error.status), message } };
}

/** True for the routes that answer in Anthropic's shapes. */
export function isAnthropicPath(path: string): boolean {
  return path === '/v1/messages' || path.startsWith('/v1/messages/');
}
