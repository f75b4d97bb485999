// The web page in real headless Chromium against the real server (startServer)
// and the fake LLM server: a question fills every agent card and the answer,
// Markdown is rendered and sanitized, a follow-up continues the conversation,
// a trace replays, Stop cancels, errors show, and an API key is asked for.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MoAEvent } from '../../src/core/events.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { startFakeLLMServer, type FakeLLMServer, type FakeLogEntry } from '../support/fake-llm-server.js';
import { LAPTOP, launchChromium, PHONE, screenshot, watchProblems, type PageProblems } from './browser-support.js';
import { HOSTILE_MARKDOWN } from './hostile-markdown.js';

const WAIT = { timeout: 30_000, interval: 50 };
const FAKE_KEY = 'sk-fake-web-0123456789';

const TEXTS: Record<string, string> = {
  alpha: 'Alpha thinks the sky is **blue** because of Rayleigh scattering of sunlight.',
  beta: 'Beta agrees: <script>window.__pwned = "beta"</script> shorter wavelengths scatter more. <img src=x onerror="window.__pwned=\'beta-img\'">',
  judge: [
    '## Why the sky is blue',
    '',
    'Sunlight is scattered by the air, and **blue light scatters most** (Rayleigh).',
    '',
    '- short wavelengths scatter more',
    '- our eyes favour blue over violet',
    '',
    '<img src=x onerror="window.__pwned=\'judge\'"> <script>window.__pwned = "judge-script"</script> <a href="javascript:window.__pwned=1">click</a>',
  ].join('\n'),
};

const preset = (aggregator: string, extra: Record<string, unknown> = {}) => ({
  layers: 3,
  proposers: ['fake:alpha', 'fake:beta'],
  aggregator,
  ...extra,
});

function serverConfig(fakeUrl: string) {
  return {
    providers: { fake: { type: 'openai-compatible' as const, baseURL: fakeUrl, apiKeyEnv: 'FAKE_KEY' } },
    presets: {
      lite: { layers: 2, proposers: ['fake:alpha'], aggregator: 'fake:judge' },
      web: preset('fake:judge'),
      broken: { layers: 1, aggregator: 'fake:broken', maxRetries: 0 },
      slow: { layers: 2, proposers: ['fake:stuck', 'fake:alpha'], aggregator: 'fake:judge' },
    },
    defaultPreset: 'lite',
  };
}

let fake: FakeLLMServer;
let browser: Browser;
let workDir: string;

beforeAll(async () => {
  fake = await startFakeLLMServer();
  browser = await launchChromium();
  workDir = mkdtempSync(join(tmpdir(), 'moa-web-'));
});
afterAll(async () => {
  await browser?.close();
  await fake?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

function setFakeBehaviors(): void {
  fake.reset();
  for (const [model, text] of Object.entries(TEXTS)) fake.setBehavior(model, { text, tokenDelayMs: 25 });
  fake.setBehavior('broken', { alwaysFail: { status: 500, message: 'the broken model is down' } });
  fake.setBehavior('stuck', { hang: true });
}

interface Session {
  server: RunningServer;
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
}

async function openPage(
  options: { apiKey?: string; device?: typeof LAPTOP; colorScheme?: 'light' | 'dark'; config?: ReturnType<typeof serverConfig> } = {},
): Promise<Session> {
  const server = await startServer({
    host: '127.0.0.1',
    port: 0,
    config: options.config ?? serverConfig(fake.url),
    env: { FAKE_KEY },
    apiKey: options.apiKey ?? null,
    drainTimeoutMs: 500,
  });
  const context = await browser.newContext({ ...(options.device ?? LAPTOP), colorScheme: options.colorScheme ?? 'light', acceptDownloads: true });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(server.url);
  return { server, context, page, problems };
}

async function closeSession(session: Session | undefined): Promise<void> {
  await session?.context.close();
  await session?.server.close();
}

const cardCount = (page: Page, status?: string) => page.locator(status ? `#layers .agent-card[data-status="${status}"]` : '#layers .agent-card').count();

async function ask(page: Page, question: string): Promise<void> {
  await page.locator('#prompt').fill(question);
  await page.locator('#ask').click();
}

async function waitForRunStatus(page: Page, status: string): Promise<void> {
  await expect.poll(() => page.locator('#run-status').getAttribute('data-status'), WAIT).toBe(status);
}

/**
 * Ask, then wait until THIS run reached `status`: the status badge still shows the previous run's
 * 'done' until the new run starts, so first wait for the new run's id to replace the previous one.
 */
async function askAndWait(page: Page, question: string, status: string): Promise<void> {
  const previous = await page.locator('#current-turn').getAttribute('data-run-id');
  await ask(page, question);
  await expect
    .poll(async () => {
      const current = await page.locator('#current-turn').getAttribute('data-run-id');
      return current !== null && current !== previous;
    }, WAIT)
    .toBe(true);
  await waitForRunStatus(page, status);
}

/** Every card of the 3-layer `web` preset: layers 1 and 2 alpha + beta, layer 3 the judge. */
async function expectWebCardsDone(page: Page): Promise<void> {
  await expect.poll(() => cardCount(page, 'done'), WAIT).toBe(5);
  expect(await cardCount(page)).toBe(5);
  const cards = await page.locator('#layers .agent-card').evaluateAll((elements) =>
    elements.map((card) => ({
      layer: card.getAttribute('data-layer'),
      model: card.querySelector('.agent-model')?.textContent,
      text: card.querySelector('.agent-text')?.textContent,
      meta: card.querySelector('.agent-meta')?.textContent ?? '',
    })),
  );
  expect(cards.map((card) => [card.layer, card.model, card.text])).toEqual([
    ['0', 'fake:alpha', TEXTS.alpha],
    ['0', 'fake:beta', TEXTS.beta],
    ['1', 'fake:alpha', TEXTS.alpha],
    ['1', 'fake:beta', TEXTS.beta],
    ['2', 'fake:judge', TEXTS.judge],
  ]);
  // Latency and tokens on every card ("… ms | N in · M out tokens").
  for (const card of cards) expect(card.meta).toMatch(/\d+(\.\d+)? (ms|s) \| \d+ in · \d+ out tokens/);
}

async function expectSanitizedAnswer(page: Page): Promise<void> {
  const answer = page.locator('#answer');
  await expect.poll(() => answer.locator('h2').textContent(), WAIT).toBe('Why the sky is blue');
  expect(await answer.locator('strong').first().textContent()).toBe('blue light scatters most');
  expect(await answer.locator('li').allTextContents()).toEqual(['short wavelengths scatter more', 'our eyes favour blue over violet']);
  expect(await answer.locator('script, img').count()).toBe(0);
  expect(await page.locator('#answer [onerror], #answer a[href^="javascript:"]').count()).toBe(0);
  // The model's raw HTML reads as text: the browser never parsed it (not even to drop the handler).
  expect(await answer.textContent()).toContain(`<img src=x onerror="window.__pwned='judge'"> <script>window.__pwned = "judge-script"</script>`);
  // The proposers' raw text is shown as text, never as HTML.
  expect(await page.locator('#layers script, #layers img').count()).toBe(0);
  expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
}

/**
 * The selected option's label against the room a picker gives it: the label's width as the page's
 * font draws it, and the control's content box (its width less borders and padding). The pickers
 * draw no native arrow (appearance: none; theirs sits in the padding), so that box is the label's.
 */
function measurePicker(page: Page, selector: string) {
  return page.locator(selector).evaluate((select: HTMLSelectElement) => {
    const style = getComputedStyle(select);
    const canvas = document.createElement('canvas').getContext('2d')!;
    canvas.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const label = select.selectedOptions[0]?.textContent ?? '';
    const sides = ['borderLeftWidth', 'borderRightWidth', 'paddingLeft', 'paddingRight'] as const;
    const content = select.getBoundingClientRect().width - sides.reduce((sum, side) => sum + parseFloat(style[side]), 0);
    return { label, labelWidth: canvas.measureText(label).width, contentWidth: content, appearance: style.appearance };
  });
}

function conversationOf(entry: FakeLogEntry): Array<{ role: string; content: unknown }> {
  return entry.messages.filter((message) => message.role !== 'system');
}

describe('the web page', () => {
  let session: Session | undefined;
  beforeEach(setFakeBehaviors);
  afterEach(async () => {
    await closeSession(session);
    session = undefined;
  });

  it('streams every agent of every layer, renders the sanitized answer, continues the conversation and replays the trace', async () => {
    session = await openPage();
    const { page, server } = session;

    // The preset picker lists the server's presets, the default first and selected.
    await expect.poll(() => page.locator('#preset option').allTextContents(), WAIT).toEqual(['lite (default) · 1 → 1', 'web · 2 → 2 → 1', 'broken · 1', 'slow · 2 → 1']);
    expect(await page.locator('#preset').inputValue()).toBe('lite');
    await page.locator('#preset').selectOption('web');
    await screenshot(page, 'laptop-empty');

    await ask(page, 'Why is the sky blue?');
    // Cards stream their text while the run is going, and the answer streams before the run ends.
    await page.waitForSelector('#layers .agent-card[data-status="streaming"]', WAIT);
    await page.waitForFunction(
      () => document.querySelector('#run-status')?.getAttribute('data-status') === 'running' && (document.querySelector('#answer')?.textContent ?? '') !== '',
      null,
      WAIT,
    );
    expect(await page.locator('#stop').isVisible()).toBe(true);

    await waitForRunStatus(page, 'done');
    await expectWebCardsDone(page);
    await expectSanitizedAnswer(page);
    expect(await page.locator('#question').textContent()).toBe('Why is the sky blue?');
    expect(await page.locator('#run-preset').textContent()).toBe('web');
    expect(await page.locator('#run-tokens').textContent()).toMatch(/^\d[\d,]* \(\d[\d,]* in · \d[\d,]* out\)$/);
    expect(await page.locator('#run-time').textContent()).toMatch(/\d (ms|s)$/);
    expect(await page.locator('#answer').getAttribute('aria-live')).toBe('polite');
    expect(await page.locator('#ask').isVisible()).toBe(true);
    const firstRunId = await page.locator('#current-turn').getAttribute('data-run-id');
    expect(firstRunId).toBeTruthy();
    await screenshot(page, 'laptop-answered');

    // "Save trace" downloads exactly the events the server recorded for the run.
    const [download] = await Promise.all([page.waitForEvent('download'), page.locator('#save-trace').click()]);
    const downloaded = readFileSync(await download.path(), 'utf8');
    const serverTrace = await (await fetch(`${server.url}/api/runs/${firstRunId}`)).text();
    const parse = (text: string) =>
      text
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as MoAEvent);
    expect(parse(downloaded)).toEqual(parse(serverTrace));

    // A follow-up continues the conversation: every agent of the second run sees the first turn.
    const firstRunRequests = fake.log.length;
    expect(firstRunRequests).toBe(5);
    await askAndWait(page, 'And at sunset?', 'done');
    await expectWebCardsDone(page);
    const secondRun = fake.log.slice(firstRunRequests);
    expect(secondRun).toHaveLength(5);
    for (const entry of secondRun) {
      expect(conversationOf(entry)).toEqual([
        { role: 'user', content: 'Why is the sky blue?' },
        { role: 'assistant', content: TEXTS.judge },
        { role: 'user', content: 'And at sunset?' },
      ]);
    }
    // The first turn moved up into the conversation, rendered (and sanitized) too.
    expect(await page.locator('#conversation .user-turn').allTextContents()).toEqual(['YouWhy is the sky blue?']);
    expect(await page.locator('#conversation .answer strong').first().textContent()).toBe('blue light scatters most');
    expect(await page.locator('#conversation script, #conversation [onerror]').count()).toBe(0);
    expect(await page.locator('#question').textContent()).toBe('And at sunset?');
    await screenshot(page, 'laptop-second-turn');

    // New chat forgets the conversation; replaying the first run's trace shows it again.
    await page.locator('#new-chat').click();
    expect(await page.locator('#current-turn').isHidden()).toBe(true);
    expect(await cardCount(page)).toBe(0);
    const tracePath = join(workDir, 'first-run.jsonl');
    writeFileSync(tracePath, serverTrace);
    await page.locator('#trace-file').setInputFiles(tracePath);
    await expect.poll(() => page.locator('#run-status').textContent(), WAIT).toBe('done (replay)');
    await expectWebCardsDone(page);
    await expectSanitizedAnswer(page);
    expect(await page.locator('#question').textContent()).toBe('Why is the sky blue?');
    expect(await page.locator('#current-turn').getAttribute('data-run-id')).toBe(firstRunId);
    await screenshot(page, 'laptop-replay');

    // The replayed conversation can be continued.
    const beforeContinue = fake.log.length;
    await page.locator('#preset').selectOption('lite');
    await askAndWait(page, 'Shorter please', 'done');
    const continued = fake.log.slice(beforeContinue);
    expect(continued.length).toBe(2);
    expect(conversationOf(continued[0]!)).toEqual([
      { role: 'user', content: 'Why is the sky blue?' },
      { role: 'assistant', content: TEXTS.judge },
      { role: 'user', content: 'Shorter please' },
    ]);
    expect(session.problems.errors).toEqual([]);
  });

  it('shows the raw HTML of an answer as text, while it streams and when done, and the console stays clean', async () => {
    fake.setBehavior('judge', { text: HOSTILE_MARKDOWN.join('\n\n'), tokenDelayMs: 3 });
    session = await openPage();
    const { page } = session;
    await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(4);
    await askAndWait(page, 'Show me some HTML', 'done');
    const answer = page.locator('#answer');
    await expect.poll(() => answer.textContent(), WAIT).toContain('<img src=x onerror="window.__pwned=1">');
    // Only the attributes marked and the link hook write: no handler, no style, nothing else of the model's.
    const attributes = await answer.evaluate((root) =>
      [...root.querySelectorAll('*')].flatMap((element) => [...element.attributes].map((attribute) => `${element.tagName.toLowerCase()} ${attribute.name}`)),
    );
    expect([...new Set(attributes)].sort()).toEqual(['a href', 'a rel', 'a target', 'a title', 'code class']);
    expect(await answer.locator('script, style, iframe, svg, img, div, span, a[href^="javascript:"]').count()).toBe(0);
    // The bare formatting tags stay markup; a link from Markdown opens in a new tab.
    expect(await answer.locator('kbd').allTextContents()).toEqual(['k']);
    expect(await answer.locator('a[href="https://tracker.example/p.png"]').textContent()).toBe('pixel');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: unknown }).__pwned)).toBeUndefined();
    await screenshot(page, 'laptop-raw-html-answer');
    expect(session.problems.errors).toEqual([]);
  });

  it('replays a trace animated in time, and one with a torn last line with a warning', async () => {
    session = await openPage();
    const { page } = session;
    await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(4);
    await page.locator('#preset').selectOption('web');
    await askAndWait(page, 'Why is the sky blue?', 'done');
    const runId = await page.locator('#current-turn').getAttribute('data-run-id');
    const trace = await (await fetch(`${session.server.url}/api/runs/${runId}`)).text();
    await page.locator('#new-chat').click();

    // Real time: the replay goes through the streaming states before it is done.
    const tracePath = join(workDir, 'animated.jsonl');
    writeFileSync(tracePath, trace);
    await page.locator('#replay-speed').selectOption('1');
    await page.locator('#trace-file').setInputFiles(tracePath);
    await page.waitForSelector('#layers .agent-card[data-status="streaming"]', WAIT);
    expect(await page.locator('#run-status').textContent()).toBe('replaying');
    await expect.poll(() => page.locator('#run-status').textContent(), WAIT).toBe('done (replay)');
    await expectWebCardsDone(page);

    // A torn last line: the events before it replay, and a warning says what happened.
    const lines = trace.trimEnd().split('\n');
    const tornPath = join(workDir, 'torn.jsonl');
    const keep = lines.findIndex((line) => line.includes('"type":"layer-end"')) + 1;
    writeFileSync(tornPath, `${lines.slice(0, keep).join('\n')}\n${lines[keep]!.slice(0, 25)}`);
    await page.locator('#replay-speed').selectOption('0');
    await page.locator('#trace-file').setInputFiles(tornPath);
    await expect
      .poll(() => page.locator('.notice.warning').allTextContents(), WAIT)
      .toEqual([
        'torn.jsonl:' + String(keep + 1) + ': the last line is incomplete (the run was interrupted?); ignored×',
        'torn.jsonl: the run did not finish (no run-end or run-error); showing what was recorded×',
      ]);
    expect(await page.locator('#run-status').textContent()).toBe('replaying');
    expect(await cardCount(page, 'done')).toBe(2);
    expect(await cardCount(page, 'waiting')).toBe(3);

    // Not a trace at all: an error, and the page keeps working.
    const badPath = join(workDir, 'bad.jsonl');
    writeFileSync(badPath, 'hello\nworld\n');
    await page.locator('#trace-file').setInputFiles(badPath);
    await expect.poll(() => page.locator('.notice.error').textContent(), WAIT).toBe('Cannot replay bad.jsonl: bad.jsonl:1: not a JSON event line×');
    expect(session.problems.errors).toEqual([]);
  });

  it('shows a failed run with the provider error, and Stop cancels a run upstream', async () => {
    session = await openPage();
    const { page } = session;
    await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(4);

    await page.locator('#preset').selectOption('broken');
    await askAndWait(page, 'Will this work?', 'failed');
    expect(await page.locator('#run-error').textContent()).toContain('the broken model is down');
    expect(await page.locator('#layers .agent-card[data-status="failed"] .agent-error').textContent()).toContain('the broken model is down');
    // The failed question is back in the prompt box, and the conversation did not keep it.
    expect(await page.locator('#prompt').inputValue()).toBe('Will this work?');
    await screenshot(page, 'laptop-failed');

    fake.reset();
    setFakeBehaviors();
    await page.locator('#preset').selectOption('slow');
    await ask(page, 'Wait for it');
    await expect.poll(() => fake.log.filter((entry) => entry.model === 'stuck' && entry.outcome === 'pending').length, WAIT).toBe(1);
    await page.locator('#stop').click();
    await waitForRunStatus(page, 'stopped');
    expect(await page.locator('.notice.info').textContent()).toContain('Stopped');
    expect(await page.locator('#ask').isVisible()).toBe(true);
    expect(await page.locator('#prompt').inputValue()).toBe('Wait for it');
    // Closing the stream cancels the run on the server, which cancels the hanging upstream call.
    await expect.poll(() => fake.log.find((entry) => entry.model === 'stuck')?.outcome, WAIT).toBe('aborted');

    // The next question starts a fresh conversation: neither the failed nor the stopped turn is sent.
    await page.locator('#preset').selectOption('lite');
    const before = fake.log.length;
    await askAndWait(page, 'Fresh question', 'done');
    expect(conversationOf(fake.log[before]!)).toEqual([{ role: 'user', content: 'Fresh question' }]);
    expect(session.problems.errors).toEqual([]);
  });

  it('brings the answer into view on a phone when the run ends, but leaves a reader who scrolled up during it', async () => {
    session = await openPage({ device: PHONE });
    const { page } = session;
    await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(4);
    await page.locator('#preset').selectOption('web');
    /** The answer's first line is on screen: below the top of the viewport, above the sticky composer. */
    const answerStartInView = () =>
      page.evaluate(() => {
        const top = document.querySelector('#answer')!.getBoundingClientRect().top;
        return top >= 0 && top + 20 <= document.querySelector('.composer')!.getBoundingClientRect().top;
      });
    await askAndWait(page, 'Why is the sky blue?', 'done');
    // Below the first screen, where the question was asked (the page's top):
    const answerOffset = await page.evaluate(() => document.querySelector('#answer')!.getBoundingClientRect().top + window.scrollY);
    expect(answerOffset).toBeGreaterThan(PHONE.viewport!.height);
    await expect.poll(answerStartInView, WAIT).toBe(true);
    expect(await page.locator('#answer h2').isVisible()).toBe(true);
    // The smooth scroll may still be going: shoot once it stopped.
    let previousScrollY: number | undefined;
    await expect
      .poll(async () => {
        const scrollY = await page.evaluate(() => window.scrollY);
        const settled = scrollY === previousScrollY;
        previousScrollY = scrollY;
        return settled;
      }, WAIT)
      .toBe(true);
    expect(await answerStartInView()).toBe(true);
    await screenshot(page, 'phone-answer-in-view', { viewport: true });

    // The reader scrolls up while the next answer streams: the end of the run leaves them there.
    // (Reduced motion: a yank would be instant, so it would show by the time "Save trace" does.)
    await page.emulateMedia({ reducedMotion: 'reduce' });
    fake.setBehavior('judge', { text: TEXTS.judge, tokenDelayMs: 60 });
    await ask(page, 'And at sunset?');
    await page.waitForSelector('#layers .agent-card[data-layer="2"][data-status="streaming"]', WAIT);
    await page.mouse.move(4, 300); // the page's margin, not a card (whose text scrolls on its own)
    await page.mouse.wheel(0, -20_000);
    await expect.poll(() => page.evaluate(() => window.scrollY), WAIT).toBe(0);
    expect(await page.locator('#run-status').getAttribute('data-status')).toBe('running');
    await waitForRunStatus(page, 'done');
    await page.waitForSelector('#save-trace:not([hidden])', WAIT);
    expect(await page.evaluate(() => window.scrollY)).toBe(0);
    expect(await answerStartInView()).toBe(false);

    // The next run, with no scrolling, brings its answer into view again (at once, motion reduced).
    await askAndWait(page, 'And at night?', 'done');
    await page.waitForSelector('#save-trace:not([hidden])', WAIT);
    expect(await answerStartInView()).toBe(true);
    expect(session.problems.errors).toEqual([]);
  });

  it('shows every label of the preset and replay pickers whole, on a laptop and on a phone', async () => {
    // A preset label as long as the built-in ones get ("moa-gpt4o (default) · 6 → 6 → 6 → 1").
    const config = serverConfig(fake.url);
    const six = ['fake:a', 'fake:b', 'fake:c', 'fake:d', 'fake:e', 'fake:f'];
    const wide = { ...config, presets: { 'moa-gpt4o': { layers: 4, proposers: six, aggregator: 'fake:judge' }, ...config.presets }, defaultPreset: 'moa-gpt4o' };
    for (const [device, options] of [
      ['laptop', LAPTOP],
      ['phone', PHONE],
    ] as const) {
      session = await openPage({ device: options, config: wide });
      const { page } = session;
      await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(5);
      for (const selector of ['#preset', '#replay-speed']) {
        const values = await page.locator(`${selector} option`).evaluateAll((list) => list.map((option) => (option as HTMLOptionElement).value));
        for (const value of values) {
          await page.locator(selector).selectOption(value);
          const picker = await measurePicker(page, selector);
          expect(picker.appearance, `${device} ${selector}`).toBe('none');
          expect(picker.label, `${device} ${selector}`).not.toBe('');
          // Half a pixel for layout rounding.
          expect(picker.labelWidth, `${device} ${selector} "${picker.label}"`).toBeLessThanOrEqual(picker.contentWidth + 0.5);
        }
      }
      await page.locator('#preset').selectOption('moa-gpt4o');
      await page.locator('#replay-speed').selectOption('1');
      expect(await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
      await screenshot(page, `${device}-pickers`, { viewport: true });
      expect(session.problems.errors).toEqual([]);
      await closeSession(session);
      session = undefined;
    }
  });

  it('looks right on a phone, in dark mode too', async () => {
    for (const colorScheme of ['light', 'dark'] as const) {
      session = await openPage({ device: PHONE, colorScheme });
      const { page } = session;
      await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(4);
      await page.locator('#preset').selectOption('web');
      await askAndWait(page, 'Why is the sky blue?', 'done');
      await expectWebCardsDone(page);
      // One column: every card as wide as the others, nothing wider than the screen.
      const widths = await page.locator('#layers .agent-card').evaluateAll((cards) => cards.map((card) => Math.round(card.getBoundingClientRect().width)));
      expect(new Set(widths).size).toBe(1);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow).toBeLessThanOrEqual(0);
      await screenshot(page, `phone-${colorScheme}`);
      expect(session.problems.errors).toEqual([]);
      await closeSession(session);
      session = undefined;
    }
  });
});

describe('the web page with MOA_API_KEY', () => {
  let session: Session | undefined;
  beforeEach(setFakeBehaviors);
  afterEach(async () => {
    await closeSession(session);
    session = undefined;
  });

  it('asks for the key, keeps it, and then works', async () => {
    session = await openPage({ apiKey: 'moa-web-secret' });
    const { page } = session;
    await page.waitForSelector('#api-key-form:not([hidden])', WAIT);
    expect(await page.locator('#api-key-form label').textContent()).toContain('This server needs an API key');
    expect(await page.locator('.notice').count()).toBe(0);
    expect(await page.locator('#preset').isDisabled()).toBe(true);
    await screenshot(page, 'laptop-api-key');

    // A wrong key is refused and asked for again.
    await page.locator('#api-key').fill('wrong-key');
    await page.locator('#api-key-form button[type="submit"]').click();
    await expect.poll(() => page.locator('.notice.error').textContent(), WAIT).toContain('refused');
    expect(await page.locator('#api-key-form').isVisible()).toBe(true);

    await page.locator('#api-key').fill('moa-web-secret');
    await page.locator('#api-key-form button[type="submit"]').click();
    await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(4);
    expect(await page.locator('#api-key-form').isHidden()).toBe(true);
    await page.locator('#preset').selectOption('web');
    await askAndWait(page, 'Why is the sky blue?', 'done');
    await expectWebCardsDone(page);

    // The key is remembered: a reload needs no prompt.
    await page.reload();
    await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(4);
    expect(await page.locator('#api-key-form').isHidden()).toBe(true);
    expect(await page.evaluate(() => localStorage.getItem('moa.apiKey'))).toBe('moa-web-secret');
    expect(session.problems.errors.filter((error) => !/401/.test(error))).toEqual([]);
  });
});
