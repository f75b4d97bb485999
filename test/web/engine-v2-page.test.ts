// The web page with engine v2 runs, in real headless Chromium against the real server
// (startServer) and the fake LLM server: the draft toggle and the labelled draft that gives way to
// the answer, skipped layers with their reason, a rank layer's reviews and aggregate, step counts,
// agents not needed, the time to first token, what an answer was made without — and the same
// page again when the run's trace is replayed, including traces of the previous release.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContext, BrowserContextOptions, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { MoAEvent } from '../../src/core/events.js';
import type { MoAResult } from '../../src/core/reducer.js';
import { startServer, type RunningServer } from '../../src/server/start-server.js';
import { formatDuration } from '../../src/util/format.js';
import { startFakeLLMServer, type FakeLLMServer, type FakeRequest } from '../support/fake-llm-server.js';
import { LAPTOP, launchChromium, PHONE, screenshot, watchProblems, type PageProblems } from './browser-support.js';

const WAIT = { timeout: 30_000, interval: 50 };
const FAKE_KEY = 'sk-fake-web-v2-0123456789';

const TEXTS = {
  alpha: 'Alpha thinks the sky is **blue** because of Rayleigh scattering of sunlight.',
  beta: 'Beta adds that shorter wavelengths scatter more, so blue wins over red.',
  gamma: 'Gamma notes that violet scatters even more, but our eyes favour blue.',
  judge: '## Why the sky is blue\n\nAir scatters **short wavelengths** most (Rayleigh), and our eyes favour blue over violet.',
  same: 'The sky is blue because the air scatters blue sunlight the most.',
  writer: Array.from({ length: 60 }, (_, index) => `word${index + 1}`).join(' '),
};
/** The texts as the page shows them once rendered as Markdown (the judge's heading and emphasis). */
const JUDGE_SHOWN = 'Why the sky is blue Air scatters short wavelengths most (Rayleigh), and our eyes favour blue over violet.';
const ALPHA_SHOWN = 'Alpha thinks the sky is blue because of Rayleigh scattering of sunlight.';

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  return Array.isArray(content) ? content.map((part) => (part as { text?: string }).text ?? '').join('') : '';
}

/** A reviewer of a rank layer: reads which response letter holds whose answer, ranks them in `order`. */
function reviewer(order: Array<'Alpha' | 'Beta' | 'Gamma'>) {
  return (request: FakeRequest): string => {
    const sheet = textOf(request.messages[request.messages.length - 1]?.content);
    const letters = new Map<string, string>();
    for (const match of sheet.matchAll(/Response ([A-Z]):\n(\w+)/g)) letters.set(match[2]!, match[1]!);
    const ranked = order.map((name) => letters.get(name)).filter((letter) => letter !== undefined);
    return `${order[0]} answered best.\n\nFINAL RANKING: ${ranked.join(', ')}`;
  };
}

/** An aggregator that continues its answer: the rest of `full` after the text it was given as its own, at most `max_tokens` words. */
function continuing(full: string) {
  return (request: FakeRequest): string => {
    const last = request.messages[request.messages.length - 1];
    const written = last?.role === 'assistant' ? textOf(last.content).trim() : '';
    const rest = (full.startsWith(written) ? full.slice(written.length) : full).trim();
    const words = rest.split(/\s+/).filter(Boolean);
    const part = (request.max_tokens !== undefined ? words.slice(0, request.max_tokens) : words).join(' ');
    return written && part ? ` ${part}` : part;
  };
}

function setFakeBehaviors(fake: FakeLLMServer): void {
  fake.reset();
  fake.setBehavior('alpha', { text: TEXTS.alpha, tokenDelayMs: 20 });
  // Slow to start: the draft (alpha) shows for a while before the answer can.
  fake.setBehavior('beta', { text: TEXTS.beta, delayMs: 700, tokenDelayMs: 20 });
  fake.setBehavior('gamma', { text: TEXTS.gamma, tokenDelayMs: 20 });
  fake.setBehavior('judge', { text: TEXTS.judge, delayMs: 300, tokenDelayMs: 20 });
  fake.setBehavior('same-a', { text: TEXTS.same, tokenDelayMs: 10 });
  fake.setBehavior('same-b', { text: TEXTS.same, tokenDelayMs: 10 });
  fake.setBehavior('critic-a', { text: reviewer(['Beta', 'Alpha', 'Gamma']), tokenDelayMs: 10 });
  fake.setBehavior('critic-b', { text: reviewer(['Beta', 'Gamma', 'Alpha']), tokenDelayMs: 10 });
  fake.setBehavior('writer', { text: continuing(TEXTS.writer), tokenDelayMs: 10 });
  fake.setBehavior('broken', { alwaysFail: { status: 500, message: 'the broken model is down' } });
  fake.setBehavior('down', { alwaysFail: { status: 503, message: 'down for maintenance' } });
  fake.setBehavior('stuck', { hang: true });
  fake.setBehavior('laggard', { hang: true });
}

function serverConfig(fakeUrl: string) {
  return {
    providers: { fake: { type: 'openai-compatible' as const, baseURL: fakeUrl, apiKeyEnv: 'FAKE_KEY' } },
    presets: {
      draft: { layers: 2, proposers: ['fake:alpha', 'fake:beta'], aggregator: 'fake:judge' },
      agree: { layers: 3, proposers: ['fake:same-a', 'fake:same-b'], aggregator: 'fake:judge', stopWhen: { agreement: 0.9 } },
      rank: {
        layers: [
          { kind: 'propose' as const, proposers: ['fake:alpha', 'fake:beta', 'fake:gamma'] },
          { kind: 'rank' as const, proposers: ['fake:critic-a', 'fake:critic-b'] },
        ],
        aggregator: 'fake:judge',
      },
      stairs: { layers: 2, proposers: ['fake:alpha', 'fake:gamma'], aggregator: 'fake:writer', aggregation: { mode: 'staircase' as const, chunkTokens: 4, growth: 2 } },
      early: { layers: 2, proposers: ['fake:alpha', 'fake:laggard'], aggregator: 'fake:judge', aggregation: { mode: 'early' as const, after: 1, maxRestarts: 0 } },
      degraded: {
        layers: 2,
        proposers: ['fake:alpha', 'fake:broken', { model: 'fake:down', fallbacks: ['fake:gamma'] }, 'fake:stuck'],
        aggregator: 'fake:judge',
        maxRetries: 0,
        quorum: 2,
        graceMs: 200,
      },
    },
    defaultPreset: 'draft',
  };
}

let fake: FakeLLMServer;
let browser: Browser;
let workDir: string;

beforeAll(async () => {
  fake = await startFakeLLMServer();
  browser = await launchChromium();
  workDir = mkdtempSync(join(tmpdir(), 'moa-web-v2-'));
});
afterAll(async () => {
  await browser?.close();
  await fake?.close();
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

interface Session {
  server: RunningServer;
  context: BrowserContext;
  page: Page;
  problems: PageProblems;
}

async function openPage(options: { device?: BrowserContextOptions; colorScheme?: 'light' | 'dark' } = {}): Promise<Session> {
  const server = await startServer({ host: '127.0.0.1', port: 0, config: serverConfig(fake.url), env: { FAKE_KEY }, apiKey: null, drainTimeoutMs: 500 });
  const context = await browser.newContext({ ...(options.device ?? LAPTOP), colorScheme: options.colorScheme ?? 'light' });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await page.goto(server.url);
  await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(6);
  return { server, context, page, problems };
}

async function closeSession(session: Session | undefined): Promise<void> {
  await session?.context.close();
  await session?.server.close();
}

/** Ask with `preset` and wait until this run (a new run id) reached `status`; returns the request body the page sent. */
async function askAndWait(page: Page, preset: string, question: string, status = 'done'): Promise<Record<string, unknown>> {
  await page.locator('#preset').selectOption(preset);
  const previous = await page.locator('#current-turn').getAttribute('data-run-id');
  await page.locator('#prompt').fill(question);
  const [request] = await Promise.all([
    page.waitForRequest((candidate) => candidate.url().endsWith('/api/runs') && candidate.method() === 'POST'),
    page.locator('#ask').click(),
  ]);
  await expect
    .poll(async () => {
      const current = await page.locator('#current-turn').getAttribute('data-run-id');
      return current !== null && current !== previous;
    }, WAIT)
    .toBe(true);
  await expect.poll(() => page.locator('#run-status').getAttribute('data-status'), WAIT).toBe(status);
  await page.waitForSelector('#save-trace:not([hidden])', WAIT);
  return request.postDataJSON() as Record<string, unknown>;
}

interface AnswerFrame {
  draftVisible: boolean;
  draftLabel: string;
  draftText: string;
  answerVisible: boolean;
  answerText: string;
}

/** Record the answer area at every change (a MutationObserver in the page), from now on. */
async function recordAnswerArea(page: Page): Promise<void> {
  await page.evaluate(() => {
    const win = window as unknown as { __answerFrames: AnswerFrame[]; __answerObserver?: MutationObserver };
    win.__answerObserver?.disconnect();
    win.__answerFrames = [];
    const turn = document.querySelector('#answer-turn')!;
    const squash = (text: string | null | undefined) => (text ?? '').replace(/\s+/g, ' ').trim();
    const frame = (): AnswerFrame => ({
      draftVisible: !document.querySelector<HTMLElement>('#draft')!.hidden,
      draftLabel: document.querySelector('#draft-label')!.textContent ?? '',
      draftText: squash(document.querySelector('#draft-text')!.textContent),
      answerVisible: !document.querySelector<HTMLElement>('#answer')!.hidden,
      answerText: squash(document.querySelector('#answer')!.textContent),
    });
    win.__answerObserver = new MutationObserver(() => win.__answerFrames.push(frame()));
    win.__answerObserver.observe(turn, { subtree: true, childList: true, characterData: true, attributes: true });
  });
}

const answerShown = async (page: Page) => ((await page.locator('#answer').textContent()) ?? '').replace(/\s+/g, ' ').trim();
const answerFrames = (page: Page) => page.evaluate(() => (window as unknown as { __answerFrames: AnswerFrame[] }).__answerFrames);

/** Everything the page shows of a run, but for the status badge's "(replay)": live and replay must agree. */
function pageSnapshot(page: Page) {
  return page.evaluate(() => {
    const text = (element: Element | null | undefined) => (element && !(element as HTMLElement).hidden ? (element.textContent ?? '') : null);
    /** Rendered Markdown, its whitespace as a reader sees it. */
    const shown = (element: Element | null) => text(element)?.replace(/\s+/g, ' ').trim() ?? null;
    return {
      layers: [...document.querySelectorAll<HTMLElement>('#layers .layer')].map((layer) => ({
        status: layer.dataset.status,
        kind: text(layer.querySelector('.layer-kind')),
        note: text(layer.querySelector('.layer-note')),
        ranking: [...layer.querySelectorAll('.layer-ranking li')].map((item) => item.textContent),
        cards: [...layer.querySelectorAll<HTMLElement>('.agent-card')].map((card) => ({
          status: card.dataset.status,
          badge: text(card.querySelector('.agent-status')),
          model: text(card.querySelector('.agent-model')),
          text: text(card.querySelector('.agent-text')),
          ranking: text(card.querySelector('.agent-ranking')),
          note: text(card.querySelector('.agent-error')),
          tone: card.querySelector<HTMLElement>('.agent-error')?.dataset.tone,
          meta: text(card.querySelector('.agent-meta')),
        })),
      })),
      answer: shown(document.querySelector('#answer')),
      draft: shown(document.querySelector('#draft')),
      degraded: [...document.querySelectorAll<HTMLElement>('#run-degraded:not([hidden]) li')].map((item) => ({ reason: item.dataset.reason, text: item.textContent })),
      degradedTitle: text(document.querySelector('#run-degraded .degraded-title')),
      ttft: text(document.querySelector('#run-ttft-item')) === null ? null : document.querySelector('#run-ttft')!.textContent,
      time: document.querySelector('#run-time')!.textContent,
      tokens: document.querySelector('#run-tokens')!.textContent,
      warnings: [...document.querySelectorAll('#run-warnings li')].map((item) => item.textContent),
    };
  });
}

type Snapshot = Awaited<ReturnType<typeof pageSnapshot>>;

async function traceOf(session: Session): Promise<{ text: string; events: MoAEvent[] }> {
  const runId = await session.page.locator('#current-turn').getAttribute('data-run-id');
  const text = await (await fetch(`${session.server.url}/api/runs/${runId}`)).text();
  return {
    text,
    events: text
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as MoAEvent),
  };
}

/** Replay `traceText` (instantly, or in real time) from a file, and wait until it is done. */
async function replay(page: Page, name: string, traceText: string, speed: '0' | '1' = '0'): Promise<void> {
  const path = join(workDir, `${name}.jsonl`);
  writeFileSync(path, traceText);
  await page.locator('#replay-speed').selectOption(speed);
  await page.locator('#trace-file').setInputFiles(path);
  await expect.poll(() => page.locator('#run-status').textContent(), WAIT).toMatch(/ \(replay\)$/);
}

/** The page after a live run, then after replaying its trace: the same. */
async function expectReplayShowsTheSame(session: Session, live: Snapshot, name: string): Promise<void> {
  const { text } = await traceOf(session);
  await session.page.locator('#new-chat').click();
  await replay(session.page, name, text);
  expect(await pageSnapshot(session.page)).toEqual(live);
}

const card = (snapshot: Snapshot, layer: number, agent: number) => snapshot.layers[layer]!.cards[agent]!;

describe('the web page with engine v2 runs', () => {
  let session: Session | undefined;
  beforeEach(() => setFakeBehaviors(fake));
  afterEach(async () => {
    await closeSession(session);
    session = undefined;
  });

  it('shows the fastest proposer as a labelled draft when asked (remembered), the answer replacing it at its first token', async () => {
    session = await openPage();
    const { page } = session;
    const toggle = page.locator('#draft-toggle');
    expect(await toggle.isChecked()).toBe(false);
    expect(await page.locator('label.toggle').textContent()).toContain('Show a draft while MoA works');
    await toggle.check();
    expect(await page.evaluate(() => localStorage.getItem('moa.draft'))).toBe('true');
    await page.reload();
    await expect.poll(() => page.locator('#preset option').count(), WAIT).toBe(6);
    expect(await page.locator('#draft-toggle').isChecked()).toBe(true);

    await recordAnswerArea(page);
    await page.locator('#preset').selectOption('draft');
    await page.locator('#prompt').fill('Why is the sky blue?');
    const [request] = await Promise.all([page.waitForRequest((candidate) => candidate.url().endsWith('/api/runs')), page.locator('#ask').click()]);
    expect(request.postDataJSON()).toMatchObject({ model: 'draft', moa: { draft: true } });
    // While the slow proposer and the aggregator work, alpha's answer stands in, labelled.
    await page.waitForSelector('#draft:not([hidden])', WAIT);
    expect(await page.locator('#draft-label').textContent()).toBe('Draft from fake:alpha · the MoA answer replaces it as soon as it starts');
    expect(await page.locator('#answer').isHidden()).toBe(true);
    await screenshot(page, 'laptop-draft');
    await expect.poll(() => page.locator('#run-status').getAttribute('data-status'), WAIT).toBe('done');

    const frames = await answerFrames(page);
    const drafts = frames.filter((frame) => frame.draftVisible);
    expect(drafts.length).toBeGreaterThan(0);
    for (const frame of drafts) {
      expect(frame.draftLabel).toMatch(/^Draft from fake:alpha · /);
      expect(ALPHA_SHOWN.startsWith(frame.draftText)).toBe(true);
      expect(frame.answerVisible).toBe(false);
    }
    expect(drafts.some((frame) => frame.draftText.length > 20)).toBe(true);
    // The answer never shows draft text, and once it started the draft is gone for good.
    for (const frame of frames) expect(frame.answerText).not.toContain('Alpha');
    const firstAnswer = frames.findIndex((frame) => frame.answerVisible && frame.answerText !== '');
    expect(firstAnswer).toBeGreaterThan(frames.indexOf(drafts[0]!));
    expect(frames.slice(firstAnswer).every((frame) => !frame.draftVisible && frame.answerVisible && frame.answerText !== '')).toBe(true);
    expect(await answerShown(page)).toBe(JUDGE_SHOWN);
    expect(await page.locator('#draft').isHidden()).toBe(true);
    // The draft is no part of the conversation: the next question carries the answer only.
    const liveTrace = await traceOf(session);

    // Without the toggle: no moa extension, no draft.
    await page.locator('#draft-toggle').uncheck();
    expect(await page.evaluate(() => localStorage.getItem('moa.draft'))).toBeNull();
    await recordAnswerArea(page);
    const body = await askAndWait(page, 'draft', 'And at sunset?');
    expect(body.moa).toBeUndefined();
    expect((body.messages as Array<{ role: string; content: string }>)[1]).toEqual({ role: 'assistant', content: TEXTS.judge });
    expect((await answerFrames(page)).some((frame) => frame.draftVisible)).toBe(false);

    // Replaying the draft run with the toggle on shows the draft again, then the answer.
    await page.locator('#draft-toggle').check();
    await page.locator('#new-chat').click();
    await recordAnswerArea(page);
    await replay(page, 'draft-live', liveTrace.text, '1');
    const replayed = await answerFrames(page);
    expect(replayed.some((frame) => frame.draftVisible && frame.draftLabel.startsWith('Draft from fake:alpha'))).toBe(true);
    expect(replayed.every((frame) => !frame.answerText.includes('Alpha'))).toBe(true);
    expect(await answerShown(page)).toBe(JUDGE_SHOWN);
    expect(session.problems.errors).toEqual([]);
  });

  it('accepts moa.draft as a boolean only, and keeps drafts out of OpenAI answers (their trace names the draft, which replays)', async () => {
    session = await openPage();
    const { page, server } = session;
    const refused = await fetch(`${server.url}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'draft', messages: [{ role: 'user', content: 'Hi' }], moa: { draft: 'yes' } }),
    });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { error: { param: string; message: string } }).error).toMatchObject({
      param: 'moa.draft',
      message: "Invalid value for 'moa.draft': expected true or false.",
    });

    // Chat Completions with moa.draft: the content is the answer alone…
    const completion = await fetch(`${server.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'draft', stream: true, messages: [{ role: 'user', content: 'Why is the sky blue?' }], moa: { draft: true } }),
    });
    expect(completion.status).toBe(200);
    const chunks = (await completion.text())
      .split('\n\n')
      .filter((line) => line.startsWith('data: {'))
      .map((line) => JSON.parse(line.slice(6)) as { choices: Array<{ delta: { content?: string } }> });
    expect(chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('')).toBe(TEXTS.judge);
    // …while the run drafted (the engine names its draft when it streams the final layer only).
    const runId = completion.headers.get('x-moa-run-id')!;
    const traceText = await (await fetch(`${server.url}/api/runs/${runId}`)).text();
    const events = traceText
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as MoAEvent);
    expect(events.filter((event) => event.type === 'draft-start')).toEqual([expect.objectContaining({ layer: 0, agent: 0, model: 'fake:alpha' })]);

    // Its replay shows the named draft even with the toggle off.
    expect(await page.locator('#draft-toggle').isChecked()).toBe(false);
    await recordAnswerArea(page);
    await replay(page, 'draft-named', traceText, '1');
    const frames = await answerFrames(page);
    expect(frames.some((frame) => frame.draftVisible && frame.draftLabel.startsWith('Draft from fake:alpha'))).toBe(true);
    expect(frames.every((frame) => !frame.answerText.includes('Alpha'))).toBe(true);
    expect(await answerShown(page)).toBe(JUDGE_SHOWN);
    expect(session.problems.errors).toEqual([]);
  });

  it('shows a layer skipped because the answers agree, with the reason, and the same in replay', async () => {
    session = await openPage();
    const { page } = session;
    await askAndWait(page, 'agree', 'Why is the sky blue?');
    const live = await pageSnapshot(page);
    expect(live.layers.map((layer) => layer.status)).toEqual(['done', 'skipped', 'done']);
    expect(live.layers[1]!.note).toMatch(/^Layer 2 skipped: the answers of layer 1 agree \(lexical similarity 1\.00 ≥ 0\.9\)$/);
    expect(live.layers[1]!.cards.map((entry) => [entry.status, entry.badge, entry.meta])).toEqual([
      ['skipped', 'skipped', ''],
      ['skipped', 'skipped', ''],
    ]);
    // Nothing is left waiting once the run is done.
    expect(live.layers.flatMap((layer) => layer.cards).filter((entry) => entry.status === 'waiting')).toEqual([]);
    expect(await page.locator('#layers .layer[data-layer="1"]').getAttribute('data-skip-reason')).toBe('agreement');
    expect(live.answer).toBe(JUDGE_SHOWN);
    // Every planned agent that was meant to run contributed: nothing to say.
    expect(live.degraded).toEqual([]);
    expect(live.ttft).toMatch(/^\d+(\.\d+)? (ms|s)$/);
    await screenshot(page, 'laptop-skipped-layer');
    await expectReplayShowsTheSame(session, live, 'agree');
    expect(session.problems.errors).toEqual([]);
  });

  it("shows a rank layer's reviews on its cards and the aggregate, and the same in replay", async () => {
    session = await openPage();
    const { page } = session;
    await askAndWait(page, 'rank', 'Why is the sky blue?');
    const live = await pageSnapshot(page);
    expect(live.layers[1]!.kind).toBe('reviewers (2): rank the answers');
    expect(live.layers[1]!.cards.map((entry) => [entry.model, entry.ranking])).toEqual([
      ['fake:critic-a', 'Ranking: 1. fake:beta › 2. fake:alpha › 3. fake:gamma'],
      ['fake:critic-b', 'Ranking: 1. fake:beta › 2. fake:gamma › 3. fake:alpha'],
    ]);
    expect(live.layers[1]!.ranking).toEqual([
      'fake:beta: mean position 1 from 2 reviews',
      'fake:alpha: mean position 2.5 from 2 reviews',
      'fake:gamma: mean position 2.5 from 2 reviews',
    ]);
    // Only the rank layer shows rankings.
    expect(live.layers[0]!.ranking).toEqual([]);
    expect(live.layers[0]!.cards.every((entry) => entry.ranking === null)).toBe(true);
    await screenshot(page, 'laptop-rank-layer');
    await expectReplayShowsTheSame(session, live, 'rank');
    expect(session.problems.errors).toEqual([]);
  });

  it("shows a staircase aggregator's steps, its answer only growing, and the same in replay", async () => {
    session = await openPage();
    const { page } = session;
    await recordAnswerArea(page);
    await askAndWait(page, 'stairs', 'Count to sixty');
    const live = await pageSnapshot(page);
    expect(live.layers[1]!.kind).toBe('aggregator · staircase: writes as the answers grow (4-token chunks)');
    const writer = card(live, 1, 0);
    const steps = Number(/(\d+) steps/.exec(writer.meta ?? '')?.[1]);
    expect(steps).toBeGreaterThanOrEqual(2);
    const { events } = await traceOf(session);
    expect(events.filter((event) => event.type === 'agent-step' && event.layer === 1)).toHaveLength(steps);
    expect(live.answer).toBe(TEXTS.writer);
    // The answer streamed and never took text back (each frame extends the last).
    const shown = (await answerFrames(page)).map((frame) => frame.answerText).filter((text, index, all) => index === 0 || text !== all[index - 1]);
    expect(shown.length).toBeGreaterThan(steps);
    for (let index = 1; index < shown.length; index++) expect(shown[index]!.startsWith(shown[index - 1]!), `frame ${index}: "${shown[index]}"`).toBe(true);
    await expectReplayShowsTheSame(session, live, 'stairs');
    expect(session.problems.errors).toEqual([]);
  });

  it('says plainly what an answer was made without (failed, fallback, cut, left out), marks agents not needed apart from failures, and shows the time to first token', async () => {
    session = await openPage();
    const { page } = session;
    await askAndWait(page, 'degraded', 'Why is the sky blue?');
    const degraded = await pageSnapshot(page);
    expect(degraded.layers[0]!.cards.map((entry) => [entry.model, entry.status, entry.tone])).toEqual([
      ['fake:alpha', 'done', 'error'],
      ['fake:broken', 'failed', 'error'],
      ['fake:gamma', 'done', 'error'],
      ['fake:stuck', 'cut', 'note'],
    ]);
    expect(card(degraded, 0, 2).meta).toMatch(/ \| instead of fake:down \| /);
    expect(degraded.degradedTitle).toBe('This answer was made with less than planned:');
    expect(degraded.degraded).toEqual([
      { reason: 'failed', text: expect.stringMatching(/^Layer 1 · fake:broken failed: .*the broken model is down/) },
      { reason: 'fallback', text: expect.stringMatching(/^Layer 1 · fake:down replaced by a fallback model: .*down for maintenance.*fake:gamma answered instead/) },
      { reason: 'cut', text: expect.stringMatching(/^Layer 1 · fake:stuck cut by the straggler policy: fake:stuck: /) },
    ]);
    // The time to first token is the engine's ttftMs.
    const { events } = await traceOf(session);
    const end = events.at(-1)!;
    expect(end.type).toBe('run-end');
    const ttftMs = (end as Extract<MoAEvent, { type: 'run-end' }>).ttftMs;
    expect(ttftMs).toBeGreaterThan(0);
    expect(degraded.ttft).toBe(formatDuration(ttftMs));
    await screenshot(page, 'laptop-degraded');
    await expectReplayShowsTheSame(session, degraded, 'degraded');

    // An early aggregator answers from alpha; the laggard is left out, then stopped: not needed, not failed.
    await askAndWait(page, 'early', 'Why is the sky blue?');
    const early = await pageSnapshot(page);
    expect(early.layers[1]!.kind).toBe('aggregator · early: starts from 1 answer');
    expect(card(early, 0, 1)).toMatchObject({
      model: 'fake:laggard',
      status: 'not-needed',
      badge: 'not needed',
      note: 'Not needed: fake:laggard: stopped, the final answer was written without it',
      tone: 'note',
    });
    expect(early.degraded).toEqual([{ reason: 'left-out', text: 'Layer 1 · fake:laggard left out: fake:laggard: stopped, the final answer was written without it' }]);
    await expect.poll(() => fake.log.find((entry) => entry.model === 'laggard')?.outcome, WAIT).toBe('aborted');
    expect(early.answer).toBe(JUDGE_SHOWN);
    await screenshot(page, 'laptop-not-needed');
    await expectReplayShowsTheSame(session, early, 'early');
    expect(session.problems.errors).toEqual([]);
  });

  it("replays the previous release's traces", async () => {
    session = await openPage();
    const { page } = session;
    for (const name of ['v0.1-streamed', 'v0.1-failures']) {
      const fixture = (file: string) => fileURLToPath(new URL(`../fixtures/traces/${file}`, import.meta.url));
      const expected = JSON.parse(readFileSync(fixture(`${name}.result.json`), 'utf8')) as MoAResult;
      await replay(page, name, readFileSync(fixture(`${name}.jsonl`), 'utf8'));
      expect(await page.locator('#run-status').textContent()).toBe(`${expected.status} (replay)`);
      const shown = await pageSnapshot(page);
      expect(shown.layers.map((layer) => layer.cards.map((entry) => [entry.model, entry.status]))).toEqual(
        expected.layers.map((layer) => layer.agents.map((agent) => [agent.model, agent.status])),
      );
      expect(shown.layers.map((layer) => layer.kind)).toEqual(expected.layers.map((layer) => (layer.aggregator ? 'aggregator' : 'proposers')));
      expect(shown.answer).toBe(expected.text.replace(/\s+/g, ' ').trim());
      expect(shown.draft).toBeNull();
      // Failed agents of an old trace are said too.
      const failed = expected.layers.flatMap((layer, index) => layer.agents.filter((agent) => agent.status === 'failed').map((agent) => [index, agent.model]));
      expect(shown.degraded.map((entry) => entry.reason)).toEqual(failed.map(() => 'failed'));
      await screenshot(page, `laptop-replay-${name}`);
    }
    expect(session.problems.errors).toEqual([]);
  });

  it('looks right on a phone (light and dark) and on a laptop in dark mode', async () => {
    for (const [device, options, colorScheme] of [
      ['phone', PHONE, 'light'],
      ['phone', PHONE, 'dark'],
      ['laptop', LAPTOP, 'dark'],
    ] as const) {
      session = await openPage({ device: options, colorScheme });
      const { page } = session;
      await page.locator('#draft-toggle').check();
      await askAndWait(page, 'rank', 'Why is the sky blue?');
      await askAndWait(page, 'degraded', 'And at sunset?');
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      expect(overflow, `${device} ${colorScheme}`).toBeLessThanOrEqual(0);
      expect(await page.locator('#run-degraded').isVisible()).toBe(true);
      if (device === 'phone') {
        // One column: every card as wide as the others.
        const widths = await page.locator('#layers .agent-card').evaluateAll((cards) => cards.map((entry) => Math.round(entry.getBoundingClientRect().width)));
        expect(new Set(widths).size).toBe(1);
      }
      await screenshot(page, `${device}-${colorScheme}-engine-v2`);
      expect(session.problems.errors).toEqual([]);
      await closeSession(session);
      session = undefined;
    }
  });
});
