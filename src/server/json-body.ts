/**
 * Request bodies must be JSON, said so with `Content-Type: application/json` (charset, if
 * given, UTF-8); anything else gets 415. Besides refusing what the server would misread,
 * this keeps browsers honest: a page elsewhere can send `text/plain` or a form across
 * sites without a CORS preflight, but never `application/json`.
 */
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './openai-errors.js';

export function isJsonContentType(value: string): boolean {
  const [essence = '', ...parameters] = value.split(';');
  if (essence.trim().toLowerCase() !== 'application/json') return false;
  return parameters.every((parameter) => {
    const [name = '', setting = ''] = parameter.split('=');
    return name.trim().toLowerCase() !== 'charset' || /^"?utf-?8"?$/i.test(setting.trim());
  });
}

export function requireJsonBody(): MiddlewareHandler {
  return async (context, next) => {
    const length = context.req.header('content-length');
    const hasBody = context.req.header('transfer-encoding') !== undefined || (length !== undefined && length.trim() !== '0');
    const type = context.req.header('content-type');
    if (hasBody && (type === undefined || !isJsonContentType(type))) {
      throw new HttpError(
        415,
        type === undefined
          ? 'The request has a body but no Content-Type: send it as JSON with "Content-Type: application/json".'
          : `Content-Type "${type}" is not accepted: send the body as JSON with "Content-Type: application/json" (UTF-8).`,
        { code: 'unsupported_media_type' },
      );
    }
    await next();
  };
}
