/**
 * The live web page at `/` and the browser modules it loads. Only a fixed list
 * of files is served (no path from the request ever reaches the file system):
 * the page, its stylesheet, the compiled page modules (`dist/web/*.js`), the
 * shared event types and reducer (`dist/core/events.js`, `dist/core/reducer.js`),
 * and the vendored `marked`, `dompurify` and `eventsource-parser` ES builds from node_modules.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Hono, type Context } from 'hono';
import { FAVICON_SVG, IMPORT_MAP, PAGE_HTML } from '../web/page-html.js';
import { PAGE_CSS } from '../web/page-styles.js';

/** The compiled page modules under `/web/`: every file `dist/web/main.js` imports, directly or not. */
export const WEB_MODULES = [
  'main.js',
  'api-client.js',
  'conversation.js',
  'markdown.js',
  'markdown-html.js',
  'page-run.js',
  'reader-scroll.js',
  'run-view.js',
  'sse-decoder.js',
  'trace-text.js',
] as const;

/** The shared core modules under `/core/` (no `node:` imports). */
export const CORE_MODULES = ['events.js', 'reducer.js', 'trace-parse.js'] as const;

/** The shared utilities under `/util/` (no `node:` imports). */
export const UTIL_MODULES = ['format.js'] as const;

const JAVASCRIPT = 'text/javascript; charset=utf-8';

function sha256Base64(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('base64');
}

/** Scripts only from this origin plus the inline import map (by its hash); nothing from elsewhere. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src 'self' 'sha256-${sha256Base64(IMPORT_MAP)}'`,
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
  "object-src 'none'",
].join('; ');

interface Asset {
  body: string;
  contentType: string;
  etag: string;
}

function textAsset(body: string, contentType: string): Asset {
  return { body, contentType, etag: `"${sha256Base64(body).slice(0, 27)}"` };
}

/** Where the compiled `web/` and `core/` folders are: next to this file once built, else the package's dist/ (tests run the sources). */
function compiledRoot(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const besideThis = join(here, '..');
  if (existsSync(join(besideThis, 'web', 'main.js'))) return besideThis;
  return join(here, '..', '..', 'dist');
}

function vendorPaths(): { marked: string; dompurify: string; eventsourceParser: string } {
  const require = createRequire(import.meta.url);
  // `marked` resolves to its ES build for every condition; dompurify's ES build sits beside its CommonJS one;
  // eventsource-parser's require entry is dist/index.cjs, its self-contained ES build dist/index.js beside it.
  const marked = require.resolve('marked');
  const dompurify = join(dirname(require.resolve('dompurify')), 'purify.es.mjs');
  const eventsourceParser = join(dirname(require.resolve('eventsource-parser')), 'index.js');
  return { marked, dompurify, eventsourceParser };
}

export function webRoutes(): Hono {
  const routes = new Hono();
  const root = compiledRoot();
  const vendor = vendorPaths();
  /** URL path → file on disk, read on first request and kept. */
  const files = new Map<string, string>([
    ...WEB_MODULES.map((name) => [`/web/${name}`, join(root, 'web', name)] as const),
    ...CORE_MODULES.map((name) => [`/core/${name}`, join(root, 'core', name)] as const),
    ...UTIL_MODULES.map((name) => [`/util/${name}`, join(root, 'util', name)] as const),
    ['/vendor/marked.js', vendor.marked],
    ['/vendor/dompurify.js', vendor.dompurify],
    ['/vendor/eventsource-parser.js', vendor.eventsourceParser],
  ]);
  const cache = new Map<string, Asset>([
    ['/', textAsset(PAGE_HTML, 'text/html; charset=utf-8')],
    ['/styles.css', textAsset(PAGE_CSS, 'text/css; charset=utf-8')],
    ['/favicon.svg', textAsset(FAVICON_SVG, 'image/svg+xml')],
  ]);

  function load(path: string): Asset | undefined {
    const cached = cache.get(path);
    if (cached) return cached;
    const file = files.get(path);
    if (file === undefined) return undefined;
    let body: string;
    try {
      body = readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
    const asset = textAsset(body, JAVASCRIPT);
    cache.set(path, asset);
    return asset;
  }

  function serve(context: Context, path: string): Response {
    const asset = load(path);
    if (!asset) {
      const missing = files.has(path);
      return context.text(missing ? `${path} is missing from the package: run "npm run build" first` : 'Not found', missing ? 500 : 404, {
        'X-Content-Type-Options': 'nosniff',
      });
    }
    const headers: Record<string, string> = {
      'Content-Type': asset.contentType,
      'Cache-Control': 'no-cache',
      ETag: asset.etag,
      'X-Content-Type-Options': 'nosniff',
      'Referrer-Policy': 'no-referrer',
    };
    if (path === '/') {
      headers['Content-Security-Policy'] = CONTENT_SECURITY_POLICY;
      headers['X-Frame-Options'] = 'DENY';
    }
    if (context.req.header('If-None-Match') === asset.etag) return context.body(null, 304, headers);
    return context.body(asset.body, 200, headers);
  }

  routes.get('/', (context) => serve(context, '/'));
  routes.get('/index.html', (context) => serve(context, '/'));
  routes.get('/styles.css', (context) => serve(context, '/styles.css'));
  routes.get('/favicon.svg', (context) => serve(context, '/favicon.svg'));
  routes.get('/web/:file', (context) => serve(context, `/web/${context.req.param('file')}`));
  routes.get('/core/:file', (context) => serve(context, `/core/${context.req.param('file')}`));
  routes.get('/util/:file', (context) => serve(context, `/util/${context.req.param('file')}`));
  routes.get('/vendor/:file', (context) => serve(context, `/vendor/${context.req.param('file')}`));
  return routes;
}
