/**
 * API-key authentication for the API routes (`/v1/*`, `/api/*`, `/mcp`): when the server has
 * a key (MOA_API_KEY), requests must send it as `Authorization: Bearer <key>` (OpenAI's
 * clients, MCP clients) or as `x-api-key: <key>` (Anthropic's clients, e.g. Claude Code with
 * ANTHROPIC_API_KEY). The comparison is constant-time (both sides hashed to equal length first).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { HttpError } from './openai-errors.js';

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

export function keysMatch(given: string, expected: string): boolean {
  return timingSafeEqual(digest(given), digest(expected));
}

export function apiKeyAuth(apiKey: string): MiddlewareHandler {
  const expected = digest(apiKey);
  return async (context, next) => {
    const header = context.req.header('authorization');
    const match = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const given = match?.[1] ?? context.req.header('x-api-key')?.trim();
    if (!given) {
      throw new HttpError(401, 'Missing API key: send it as "Authorization: Bearer <key>" or "x-api-key: <key>" (the server requires MOA_API_KEY).', {
        code: 'invalid_api_key',
      });
    }
    if (!timingSafeEqual(digest(given), expected)) {
      throw new HttpError(401, 'Incorrect API key provided.', { code: 'invalid_api_key' });
    }
    await next();
  };
}
