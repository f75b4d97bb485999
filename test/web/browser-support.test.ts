// The page tests' "no problems" assertion checked against the Chromium that runs them: on a page
// under the web page's own Content-Security-Policy, watchProblems sees each kind of problem a
// reader would see in DevTools, and nothing on a clean page. If a Chromium release stopped
// reporting one of them, the page tests' `problems.errors toEqual []` would pass vacuously;
// this test fails instead. No version checks: each probe is one every Chromium reports.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CONTENT_SECURITY_POLICY } from '../../src/server/web-routes.js';
import { launchChromium, watchProblems, type PageProblems } from './browser-support.js';

const WAIT = { timeout: 15_000, interval: 50 };

/** What each probe page's script does (a module, so it may await); each ends with console.log('probe done'). */
const PROBES: Record<string, string> = {
  clean: `console.log('all fine'); console.warn('a warning is no error'); document.body.textContent = 'hello';`,
  'console-error': `console.error('probe: console.error');`,
  'inline-handler': `
    const button = document.createElement('button');
    button.setAttribute('onclick', 'window.__ran = true');
    document.body.append(button);
    button.click();`,
  uncaught: `setTimeout(() => { throw new Error('probe: uncaught'); }, 0);`,
  rejection: `void Promise.reject(new Error('probe: rejected'));`,
  'missing-resource': `await new Promise((resolve) => { const image = new Image(); image.onload = image.onerror = resolve; image.src = '/missing.png'; document.body.append(image); });`,
  dialog: `alert('probe: alert');`,
};

let server: Server;
let origin: string;
let browser: Browser;

beforeAll(async () => {
  server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://probe');
    const probe = url.searchParams.get('probe') ?? url.pathname.replace(/^\/probes\/|\.js$/g, '');
    if (url.pathname === '/') {
      response.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Content-Security-Policy': CONTENT_SECURITY_POLICY });
      response.end(`<!doctype html><title>probe</title><link rel="icon" href="data:,"><script type="module" src="/probes/${encodeURIComponent(probe)}.js"></script>`);
    } else if (url.pathname.startsWith('/probes/') && PROBES[probe] !== undefined) {
      response.writeHead(200, { 'Content-Type': 'text/javascript; charset=utf-8' });
      response.end(`${PROBES[probe]}\nconsole.log('probe done');\n`);
    } else {
      response.writeHead(404, { 'Content-Type': 'text/plain' });
      response.end('Not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => server?.close(resolve));
});

let page: Page | undefined;
afterEach(async () => {
  await page?.context().close();
  page = undefined;
});

async function runProbe(probe: string): Promise<PageProblems> {
  const context = await browser.newContext();
  page = await context.newPage();
  const problems = watchProblems(page);
  const done = page.waitForEvent('console', { predicate: (message) => message.text() === 'probe done', timeout: WAIT.timeout });
  await page.goto(`${origin}/?probe=${probe}`);
  await done;
  return problems;
}

describe('watchProblems in this Chromium', () => {
  it('reports nothing on a clean page under the CSP (logs and warnings are no problems)', async () => {
    expect((await runProbe('clean')).errors).toEqual([]);
  });

  it('reports a console.error', async () => {
    const problems = await runProbe('console-error');
    await expect.poll(() => problems.errors, WAIT).toEqual(['console: probe: console.error']);
  });

  it('reports an inline event handler the CSP blocks, and the handler did not run', async () => {
    const problems = await runProbe('inline-handler');
    await expect.poll(() => problems.errors.length, WAIT).toBeGreaterThan(0);
    for (const error of problems.errors) expect(error).toMatch(/^console: .*inline event handler.*Content Security Policy/i);
    expect(await page!.evaluate(() => (window as unknown as { __ran?: boolean }).__ran)).toBeUndefined();
  });

  it('reports an uncaught error and an unhandled rejection', async () => {
    const uncaught = await runProbe('uncaught');
    await expect.poll(() => uncaught.errors, WAIT).toEqual(['pageerror: probe: uncaught']);
    await page!.context().close();
    const rejection = await runProbe('rejection');
    await expect.poll(() => rejection.errors, WAIT).toEqual(['pageerror: probe: rejected']);
  });

  it('reports a failed request (a 404)', async () => {
    const problems = await runProbe('missing-resource');
    await expect.poll(() => problems.errors.length, WAIT).toBe(1);
    expect(problems.errors[0]).toMatch(/^console: Failed to load resource: .*404/);
  });

  it('reports a dialog and dismisses it', async () => {
    const problems = await runProbe('dialog');
    await expect.poll(() => problems.errors, WAIT).toEqual(['dialog opened: probe: alert']);
  });
});
