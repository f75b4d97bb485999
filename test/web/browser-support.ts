// Helpers for the web page tests: Debian's Chromium driven by playwright-core
// (never a downloaded browser), the real server on a free port, screenshots.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContextOptions, type Page } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const ARTIFACTS_DIR = fileURLToPath(new URL('../../test-artifacts/web/', import.meta.url));

export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM_PATH,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const LAPTOP: BrowserContextOptions = { viewport: { width: 1366, height: 900 } };
export const PHONE: BrowserContextOptions = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

/**
 * Everything that went wrong inside the page, as a reader with DevTools open would see it: uncaught
 * errors and rejections, every console error (CSP violations and failed requests are console errors
 * too), and dialogs. Nothing is filtered: a test that expects an error (a refused 401) filters it.
 */
export interface PageProblems {
  errors: string[];
}

export function watchProblems(page: Page): PageProblems {
  const problems: PageProblems = { errors: [] };
  page.on('pageerror', (error) => problems.errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error') problems.errors.push(`console: ${message.text()}`);
  });
  page.on('dialog', (dialog) => {
    problems.errors.push(`dialog opened: ${dialog.message()}`);
    void dialog.dismiss();
  });
  return problems;
}

/** A full-page shot, or with `{ viewport: true }` just what the screen shows now. */
export async function screenshot(page: Page, name: string, options: { viewport?: boolean } = {}): Promise<string> {
  mkdirSync(ARTIFACTS_DIR, { recursive: true });
  const path = join(ARTIFACTS_DIR, `${name}.png`);
  if (options.viewport) {
    await page.screenshot({ path });
    return path;
  }
  // A full-page shot: the composer (sticky at the viewport's bottom) is drawn where the page ends,
  // the top bar (sticky at its top) where it begins. (Through the CSSOM: the page's CSP rightly
  // blocks an injected stylesheet.)
  const setComposerPosition = (position: string) =>
    page.evaluate((value) => {
      for (const bar of document.querySelectorAll<HTMLElement>('.composer, .top-bar')) bar.style.setProperty('position', value);
    }, position);
  await setComposerPosition('static');
  await page.screenshot({ path, fullPage: true });
  await setComposerPosition('');
  return path;
}
