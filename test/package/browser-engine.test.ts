// The package root is the engine alone: bundled for the browser it pulls in no `node:` module,
// no server, database or native module, and the bundle runs a real MoA in Chromium.
import { build } from 'esbuild';
import { fileURLToPath } from 'node:url';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../web/browser-support.js';

const ROOT_ENTRY = fileURLToPath(new URL('../../src/index.ts', import.meta.url));

async function bundleRoot(platform: 'browser' | 'neutral') {
  return build({
    entryPoints: [ROOT_ENTRY],
    bundle: true,
    format: 'esm',
    platform,
    // neutral: what an edge runtime's bundler does (Cloudflare's: the workerd, worker and browser conditions, ESM).
    ...(platform === 'neutral' ? { mainFields: ['module', 'main'], conditions: ['workerd', 'worker', 'browser', 'import'] } : {}),
    write: false,
    metafile: true,
    logLevel: 'silent',
  });
}

describe("import … from 'moa-engine' outside Node", () => {
  it('bundles for the browser and for neutral runtimes (edge) with no node: import and no server, database or native module', async () => {
    for (const platform of ['browser', 'neutral'] as const) {
      const result = await bundleRoot(platform);
      expect(result.errors, platform).toEqual([]);
      const inputs = Object.keys(result.metafile.inputs);
      const heavy = inputs.filter((path) => /node_modules\/(hono|@hono|better-sqlite3|node-llama-cpp|@modelcontextprotocol|bullmq|ioredis)\//.test(path));
      expect(heavy, platform).toEqual([]);
      const own = inputs.filter((path) => path.startsWith('src/')).map((path) => path.split('/')[1]);
      expect(new Set(own), platform).toEqual(new Set(['index.ts', 'core', 'models', 'util']));
      const code = result.outputFiles[0]!.text;
      expect(code).not.toMatch(/from\s*["']node:|require\(["']node:/);
    }
  });

  describe('in Chromium', () => {
    let browser: Browser;
    beforeAll(async () => {
      browser = await launchChromium();
    });
    afterAll(async () => {
      await browser?.close();
    });

    it('runs a 2-layer MoA with model objects and streams the answer', async () => {
      const code = (await bundleRoot('browser')).outputFiles[0]!.text;
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.message));
      // A string, so the test runner does not rewrite the page's import().
      await page.evaluate(`import(URL.createObjectURL(new Blob([${JSON.stringify(code)}], { type: 'text/javascript' }))).then((engine) => { window.engine = engine; })`);
      const outcome = await page.evaluate(async () => {
        const engine = (window as unknown as { engine: typeof import('../../src/index.js') }).engine;
        const usage = { inputTokens: { total: 5, noCache: 5 }, outputTokens: { total: 3, text: 3 } };
        const model = (modelId: string, text: string) => ({
          specificationVersion: 'v3',
          provider: 'page',
          modelId,
          supportedUrls: {},
          async doGenerate() {
            return { content: [{ type: 'text', text }], finishReason: { unified: 'stop', raw: 'stop' }, usage, warnings: [] };
          },
          async doStream(options: { prompt: Array<{ role: string; content: unknown }> }) {
            const seen = JSON.stringify(options.prompt);
            const words = `${text} (saw ${['alpha', 'beta'].filter((word) => seen.includes(word)).join('+')})`.split(' ');
            return {
              stream: new ReadableStream({
                start(controller) {
                  controller.enqueue({ type: 'stream-start', warnings: [] });
                  controller.enqueue({ type: 'text-start', id: 't' });
                  words.forEach((word, index) => controller.enqueue({ type: 'text-delta', id: 't', delta: index ? ` ${word}` : word }));
                  controller.enqueue({ type: 'text-end', id: 't' });
                  controller.enqueue({ type: 'finish', finishReason: { unified: 'stop', raw: 'stop' }, usage });
                  controller.close();
                },
              }),
            };
          },
        });
        type Model = Parameters<typeof engine.streamMoA>[0] extends infer P ? (P extends { aggregator?: infer A } ? Extract<A, { doStream: unknown }> : never) : never;
        const as = (value: unknown) => value as Model;
        const run = engine.streamMoA(
          { layers: 2, proposers: [as(model('a', 'alpha')), as(model('b', 'beta'))], aggregator: as(model('agg', 'merged')) },
          'Why is the sky blue?',
        );
        const deltas: string[] = [];
        for await (const event of run) if (event.type === 'agent-delta' && event.layer === 1) deltas.push(event.delta);
        const result = await run.result;
        return { text: result.text, deltas: deltas.length, layers: result.layers.length, hasProcess: typeof (globalThis as { process?: unknown }).process };
      });
      expect(errors).toEqual([]);
      expect(outcome).toEqual({ text: 'merged (saw alpha+beta)', deltas: 3, layers: 2, hasProcess: 'undefined' });
      await page.close();
    });
  });
});
