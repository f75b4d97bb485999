// The page's routes without a browser: what is served, with which headers, and
// that the page's whole module graph (from /web/main.js) is served and uses no node: import.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY, webRoutes } from '../../src/server/web-routes.js';
import { IMPORT_MAP } from '../../src/web/page-html.js';

const routes = webRoutes();
const get = (path: string, headers: Record<string, string> = {}) => routes.request(path, { headers });

beforeAll(() => {
  const main = fileURLToPath(new URL('../../dist/web/main.js', import.meta.url));
  if (!existsSync(main)) throw new Error(`${main} is missing: run "npm run build" first`);
});

describe('web routes', () => {
  it('serves the page with a strict CSP that allows exactly its import map', async () => {
    const response = await get('/');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(response.headers.get('x-content-type-options')).toBe('nosniff');
    expect(response.headers.get('cache-control')).toBe('no-cache');
    const policy = response.headers.get('content-security-policy') ?? '';
    expect(policy).toBe(CONTENT_SECURITY_POLICY);
    expect(policy).toContain("default-src 'none'");
    expect(policy).not.toContain('unsafe-inline');
    expect(policy).not.toContain('unsafe-eval');
    const html = await response.text();
    const inlineScripts = [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].filter((match) => (match[2] ?? '').trim() !== '');
    expect(inlineScripts).toHaveLength(1);
    expect(inlineScripts[0]?.[1]).toContain('type="importmap"');
    const hash = createHash('sha256')
      .update(inlineScripts[0]?.[2] ?? '')
      .digest('base64');
    expect(inlineScripts[0]?.[2]).toBe(IMPORT_MAP);
    expect(policy).toContain(`'sha256-${hash}'`);
    expect(html).not.toMatch(/\sstyle=|\son[a-z]+=/i);
  });

  it("serves the page's whole module graph as JavaScript, none of it importing node: modules", async () => {
    const importMap = JSON.parse(IMPORT_MAP) as { imports: Record<string, string> };
    const pending = ['/web/main.js'];
    const seen = new Set<string>();
    while (pending.length > 0) {
      const path = pending.pop()!;
      if (seen.has(path)) continue;
      seen.add(path);
      const response = await get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toBe('text/javascript; charset=utf-8');
      const source = await response.text();
      const specifiers = [...source.matchAll(/(?:^|[;\s}])(?:import|export)\s*(?:[\w*{}\s,$]+from\s*)?['"]([^'"]+)['"]/g)].map((match) => match[1]!);
      for (const specifier of specifiers) {
        expect(specifier.startsWith('node:'), `${path} imports ${specifier}`).toBe(false);
        if (specifier.startsWith('.')) pending.push(new URL(specifier, `http://page${path}`).pathname);
        else {
          expect(importMap.imports[specifier], `${path} imports ${specifier}, missing from the import map`).toBeDefined();
          pending.push(importMap.imports[specifier]!);
        }
      }
    }
    expect([...seen].sort()).toEqual(
      expect.arrayContaining([
        '/core/events.js',
        '/core/reducer.js',
        '/vendor/dompurify.js',
        '/vendor/marked.js',
        '/web/main.js',
        '/web/run-view.js',
        '/web/sse-decoder.js',
      ]),
    );
  });

  it('serves the stylesheet and icon, and answers 304 to a matching ETag', async () => {
    const css = await get('/styles.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(await css.text()).toContain('prefers-color-scheme: dark');
    const etag = css.headers.get('etag')!;
    expect(etag).toMatch(/^"[^"]+"$/);
    const again = await get('/styles.css', { 'If-None-Match': etag });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await get('/favicon.svg')).headers.get('content-type')).toBe('image/svg+xml');
  });

  it('serves nothing outside its list: no other compiled file, no path traversal', async () => {
    for (const path of [
      '/core/trace-file.js',
      '/core/stream-moa.js',
      '/web/page-html.js',
      '/web/main.js.map',
      '/web/..%2f..%2fpackage.json',
      '/web/%2e%2e/%2e%2e/package.json',
      '/vendor/..%2fmarked%2fpackage.json',
      '/core/..%2f..%2f.env',
    ]) {
      const response = await get(path);
      expect(response.status, path).toBe(404);
    }
  });
});
