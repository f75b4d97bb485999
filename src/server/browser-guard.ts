/**
 * What a browser page may make this server do. Every request passes here first:
 *
 * - `Host` must name this server (allowed-hosts.ts), else 403: DNS rebinding.
 * - `Origin`, when a browser sends one, must be the server's own (the live page) or one
 *   of `corsOrigins`, else 403 before anything runs: a page elsewhere could otherwise spend
 *   the provider keys with a form post or a no-cors fetch, even without reading the answer.
 * - For `corsOrigins`, every `/v1` response (JSON, SSE streams, errors) carries the CORS
 *   headers, and preflights are answered here, before auth (a preflight carries no key),
 *   echoing the request headers asked for (the SDKs send x-stainless-*, OpenAI-Organization, …).
 *
 * Not Hono's cors(): it adds `Vary` after the handler, which a stream written straight to
 * the socket never gets, and it lets a request from any other origin through.
 */
import type { Context, MiddlewareHandler } from 'hono';
import type { HostPolicy } from './allowed-hosts.js';
import { RUN_ID_HEADER } from './run-outcome.js';
import { HttpError } from './openai-errors.js';

export interface BrowserGuardOptions {
  hosts: HostPolicy;
  /** Exact origins (`https://chat.example.com`) or `*`; empty: same-origin only. */
  corsOrigins: readonly string[];
}

const ALLOWED_METHODS = 'GET, POST, OPTIONS';
const EXPOSED_HEADERS = RUN_ID_HEADER;
const PREFLIGHT_MAX_AGE_SECONDS = '600';
/** An HTTP header name (RFC 9110 token). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i;

function isApiPath(path: string): boolean {
  return path === '/v1' || path.startsWith('/v1/');
}

/** The live page's own requests: same scheme-less host:port, or `null` from a same-origin page under `Referrer-Policy: no-referrer`. */
function isSameOrigin(origin: string, url: URL, fetchSite: string | undefined): boolean {
  if (origin === 'null') return fetchSite === 'same-origin';
  try {
    // Scheme aside: behind a TLS proxy the page is https:// while this server speaks http.
    return new URL(origin).host === url.host;
  } catch {
    return false;
  }
}

function requestedHeaders(context: Context): string | undefined {
  const names = (context.req.header('access-control-request-headers') ?? '')
    .split(',')
    .map((name) => name.trim().toLowerCase())
    .filter((name) => HEADER_NAME.test(name));
  return names.length > 0 ? names.join(', ') : undefined;
}

export function browserGuard(options: BrowserGuardOptions): MiddlewareHandler {
  const anyOrigin = options.corsOrigins.includes('*');
  const origins = new Set(options.corsOrigins.map((origin) => origin.toLowerCase().replace(/\/$/, '')));
  const corsOn = options.corsOrigins.length > 0;
  return async (context, next) => {
    const url = new URL(context.req.url);
    const origin = context.req.header('origin');
    const listed = origin !== undefined && (anyOrigin || origins.has(origin.toLowerCase()));
    const cors = corsOn && isApiPath(url.pathname);
    if (cors) {
      // On the context before anything runs, so errors and streams written to the socket carry them too.
      // (context.header, not context.res: a Response made now would break a stream's RESPONSE_ALREADY_SENT.)
      if (!anyOrigin) context.header('Vary', 'Origin', { append: true });
      if (listed) {
        context.header('Access-Control-Allow-Origin', anyOrigin ? '*' : origin);
        context.header('Access-Control-Expose-Headers', EXPOSED_HEADERS);
      }
    }
    if (!options.hosts.allows(url.hostname)) {
      throw new HttpError(
        403,
        `This server does not answer to the name "${url.hostname}" (the request's Host header), so that a web page whose DNS name was pointed at this machine (DNS rebinding) cannot use it. If you reach the server by that name, start it with --allowed-hosts ${url.hostname}.`,
        { code: 'host_not_allowed' },
      );
    }
    if (origin !== undefined && !listed && !isSameOrigin(origin, url, context.req.header('sec-fetch-site'))) {
      throw new HttpError(
        403,
        `Requests from web pages at ${origin} are refused: only this server's own page and the origins given to --cors may call it (e.g. --cors ${origin}).`,
        { code: 'origin_not_allowed' },
      );
    }
    if (cors && listed && context.req.method === 'OPTIONS' && context.req.header('access-control-request-method') !== undefined) {
      context.header('Access-Control-Allow-Methods', ALLOWED_METHODS);
      const asked = requestedHeaders(context);
      if (asked) context.header('Access-Control-Allow-Headers', asked);
      context.header('Vary', 'Access-Control-Request-Headers', { append: true });
      context.header('Access-Control-Max-Age', PREFLIGHT_MAX_AGE_SECONDS);
      return context.body(null, 204);
    }
    await next();
  };
}
