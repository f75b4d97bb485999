// `moa report` end to end: real-shaped results made by the built CLI against the fake LLM server
// (AlpacaEval outputs, annotations and a comparison; MT-Bench answers and FastChat judgments;
// FLASK answers and reviews; progress files with prices; traces with retries, failures, cuts and
// streamed answers), plus AlpacaEval's official validation annotations, rendered into one HTML file
// and opened in Debian's headless Chromium: offline, every plot drawn, light and dark, laptop and
// phone. Screenshots go to test-artifacts/eval/.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Browser, BrowserContextOptions } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LAPTOP, launchChromium, PHONE } from '../web/browser-support.js';
import { cliEnv, contentText, describeRun, runCli, useCliSuite, type CliResult } from '../e2e/run-cli.js';
import type { FakeRequest } from '../support/fake-llm-server.js';
import { benchFile, haveBenchFiles } from './bench-data.js';

const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/eval/', import.meta.url));
const validationFile = benchFile('alpaca_eval', 'validation', 'gpt-3.5-turbo-1106_annotations.json');
const haveData = haveBenchFiles(
  validationFile,
  benchFile('alpaca_eval', 'alpaca_eval_gpt4_baseline.json'),
  benchFile('alpaca_eval', 'leaderboard', 'weighted_alpaca_eval_gpt4_turbo_leaderboard.csv'),
  benchFile('alpaca_eval', 'lc', 'df_gamed.csv'),
  benchFile('mt_bench', 'question.jsonl'),
  benchFile('flask', 'flask_evaluation.jsonl'),
);

const PRICE = { input: 1.5, output: 6 };
const suite = useCliSuite({
  presets: {
    'moa-staircase': { layers: 2, proposers: ['fake:p1', 'fake:p2'], aggregator: 'fake:agg', maxTokens: 120 },
    'moa-single': { layers: 1, aggregator: 'fake:solo', maxTokens: 120 },
    'flaky-retry': { layers: 2, proposers: ['fake:p1', 'fake:broken'], aggregator: 'fake:agg', minSuccessful: 1, maxRetries: 1 },
    'flaky-cut': { layers: 2, proposers: ['fake:p1', 'fake:stuck'], aggregator: 'fake:agg', quorum: 1, graceMs: 0 },
  },
  prices: { 'fake:p1': PRICE, 'fake:p2': PRICE, 'fake:agg': PRICE, 'fake:solo': { input: 0.5, output: 2 } },
});
const env = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: suite.workspace.path('cache'), MOA_BENCH_DATA: process.env.MOA_BENCH_DATA ?? benchFile() });

function userText(request: Pick<FakeRequest, 'messages'>): string {
  return request.messages
    .filter((message) => message.role === 'user')
    .map((message) => contentText(message.content))
    .join('\n');
}

function lines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** One judge for every benchmark's prompt, preferring the staircase preset's answers ("agg says …"). */
function judge(request: FakeRequest): string {
  const user = userText(request);
  if (user.includes('"model_identifier": "m"')) {
    // AlpacaEval: the output shown as "m" is the first; the staircase's answer wins wherever it is.
    const split = user.indexOf('"model_identifier": "M"');
    if (user.slice(0, split).includes('agg says')) return 'm';
    if (user.slice(split).includes('agg says')) return 'M';
    return user.length % 3 === 0 ? 'M' : 'm';
  }
  if (user.includes('[Ground truth Answer]')) {
    // FLASK: every skill of the prompt, 4 for the staircase, 3 otherwise (one skill N/A for variety).
    const skills = [
      ...user.matchAll(
        /\n(Logical Robustness|Logical Correctness|Logical Efficiency|Factuality|Commonsense Understanding|Comprehension|Insightfulness|Completeness|Metacognition|Readability|Conciseness|Harmlessness): /g,
      ),
    ].map((match) => match[1] as string);
    const score = user.includes('agg says') ? 4 : 3;
    return `Feedback for each skill.\n\n{${[...new Set(skills)].map((skill, index) => `'${skill}': ${index === 2 && user.length % 2 === 0 ? "'N/A'" : score + (index % 2)}`).join(', ')}}`;
  }
  if (user.includes('[The Start of Assistant A')) {
    // MT-Bench pairwise (not used here).
    return '[[C]]';
  }
  return 'unexpected prompt';
}

/** FastChat's single grading: 8 or 9 for the staircase, 5 or 6 otherwise. */
function mtBenchJudge(request: FakeRequest): string {
  const user = userText(request);
  const staircase = user.includes('agg says');
  const second = user.includes("Assistant A's Conversation with User");
  return `The response is reasonable. Rating: [[${(staircase ? 8 : 5) + (second ? 1 : 0)}]]`;
}

let browser: Browser | undefined;
beforeAll(async () => {
  if (haveData) browser = await launchChromium();
});
afterAll(async () => {
  await browser?.close();
});

async function cli(args: string[], timeoutMs = 60_000): Promise<CliResult> {
  const result = await runCli(args, { cwd: suite.workspace.dir, env: env(), timeoutMs });
  expect(result.code, `moa ${args.join(' ')}\n${describeRun(result)}`).toBe(0);
  return result;
}

describe.skipIf(!haveData)('moa report', () => {
  it('renders every result kind into one offline HTML page that Chromium shows with every plot, light and dark, laptop and phone', async () => {
    const { workspace, server } = suite;
    server.setDefaultBehavior({ text: (request) => `${request.model} says ${userText(request).slice(-40)}` });
    server.setBehavior('agg', { text: (request) => `agg says ${userText(request).slice(-40)}`, tokenDelayMs: 2, tokens: 30 });
    server.setBehavior('judge', { text: judge });
    server.setBehavior('gpt-4', { text: mtBenchJudge });
    server.setBehavior('broken', { alwaysFail: { status: 500, message: 'broken on purpose' } });
    server.setBehavior('stuck', { hang: true });

    // AlpacaEval: the first 10 instructions (in evaluation order, so the LC win rate is defined), two configurations.
    const baseline = (
      JSON.parse(readFileSync(benchFile('alpaca_eval', 'alpaca_eval_gpt4_baseline.json'), 'utf8')) as Array<{
        instruction: string;
        dataset: string;
        output: string;
        generator: string;
      }>
    ).slice(0, 10);
    workspace.write('set-10.json', JSON.stringify(baseline.map(({ instruction, dataset }) => ({ instruction, dataset }))));
    workspace.write('reference-10.json', JSON.stringify(baseline));
    for (const [preset, name] of [
      ['moa-staircase', 'staircase'],
      ['moa-single', 'single'],
    ] as const) {
      await cli(['eval', 'alpaca-eval', '--preset', preset, '--questions', 'set-10.json', '--output', `${name}.json`, '--traces', `traces-${name}`]);
      await cli(['judge', 'alpaca-eval', '--outputs', `${name}.json`, '--reference-outputs', 'reference-10.json', '--judge', 'fake:judge']);
    }
    const comparison = await cli(['eval', 'compare', '--a', 'staircase.json', '--b', 'single.json', '--judge', 'fake:judge', '--json']);
    workspace.write('comparison.json', comparison.stdout);

    // MT-Bench: two questions of every category, FastChat's layout, one judgments file for both models.
    const questions = lines<{ question_id: number; category: string }>(benchFile('mt_bench', 'question.jsonl'));
    const picked = [...new Set(questions.map((question) => question.category))].flatMap((category) =>
      questions.filter((question) => question.category === category).slice(0, 2),
    );
    workspace.write('questions-16.jsonl', picked.map((question) => JSON.stringify(question)).join('\n') + '\n');
    for (const [preset, name] of [
      ['moa-staircase', 'moa-staircase'],
      ['moa-single', 'moa-single'],
    ] as const) {
      await cli(['eval', 'mt-bench', '--preset', preset, '--questions', 'questions-16.jsonl', '--output', `data/mt_bench/model_answer/${name}.jsonl`]);
      await cli(['judge', 'mt-bench', '--answers', `data/mt_bench/model_answer/${name}.jsonl`, '--questions', 'questions-16.jsonl', '--judge', 'fake:gpt-4']);
    }

    // FLASK: eight instances, two configurations, reviewed.
    workspace.write('flask-8.jsonl', readFileSync(benchFile('flask', 'flask_evaluation.jsonl'), 'utf8').split('\n').slice(0, 8).join('\n') + '\n');
    for (const [preset, name] of [
      ['moa-staircase', 'flask-staircase'],
      ['moa-single', 'flask-single'],
    ] as const) {
      await cli(['eval', 'flask', '--preset', preset, '--questions', 'flask-8.jsonl', '--output', `${name}.jsonl`]);
      await cli(['judge', 'flask', '--answers', `${name}.jsonl`, '--questions', 'flask-8.jsonl', '--judge', 'fake:judge']);
    }

    // Traces of streamed runs (the final answer streams: TTFT), with a retried-then-failed proposer and a cut straggler.
    mkdirSync(workspace.path('traces-ask'), { recursive: true });
    for (const [index, preset] of ['flaky-retry', 'flaky-cut', 'moa-staircase'].entries()) {
      await cli(['ask', '--preset', preset, '--trace', `traces-ask/run-${index + 1}.jsonl`, '-q', `question number ${index + 1}`]);
    }

    const output = workspace.path('report.html');
    const report = await cli([
      'report',
      'staircase.annotations.json',
      'single.annotations.json',
      validationFile,
      'comparison.json',
      'data/mt_bench/model_judgment/gpt-4_single.jsonl',
      'flask-staircase_review.jsonl',
      'flask-single_review.jsonl',
      'staircase.json.progress.jsonl',
      'single.json.progress.jsonl',
      'data/mt_bench/moa-progress',
      'flask-staircase.jsonl.progress.jsonl',
      'flask-single.jsonl.progress.jsonl',
      'traces-staircase',
      'traces-ask',
      '-o',
      output,
      '--json',
    ]);
    expect(report.stderr).toMatch(/moa report: wrote .*report\.html/);
    // The judges' own progress files inside the folder are skipped, and said so.
    expect(report.stderr).toMatch(/skipped \d+ other file/);
    const model = JSON.parse(report.stdout) as {
      alpacaEval: Array<{ name: string; reference: boolean; lengthControlled: number | null; winRate: number }>;
      mtBench: { models: Array<{ name: string; overall: number; turn1: number; turn2: number }>; categories: string[] };
      flask: Array<{ name: string; skills: Array<{ skill: string; average: number | null }> }>;
      configurations: Array<{ name: string; benchmark: string; costPerItemUsd: number | null; quality: { value: number } | null }>;
      reliability: Array<{ model: string; retries: number; failures: number; cuts: number }>;
      traceGroups: Array<{ name: string; ttftsMs: number[] }>;
      comparisons: unknown[];
    };

    // The numbers behind the plots.
    const leaderboard = readFileSync(benchFile('alpaca_eval', 'leaderboard', 'weighted_alpaca_eval_gpt4_turbo_leaderboard.csv'), 'utf8').split('\n');
    const officialLc = (name: string): number => Number(leaderboard.find((line) => line.startsWith(`${name},`))?.split(',')[10]);
    const validation = model.alpacaEval.find((row) => row.name === 'gpt-3.5-turbo-1106');
    expect(Math.abs((validation?.lengthControlled ?? 0) - officialLc('gpt-3.5-turbo-1106'))).toBeLessThan(0.3);
    expect(model.alpacaEval.filter((row) => row.reference).map((row) => row.name)).toEqual(['gpt-4o-2024-05-13', 'Together-MoA']);
    expect(model.alpacaEval.find((row) => row.name === 'Together-MoA')?.lengthControlled).toBeCloseTo(officialLc('Together-MoA'), 6);
    // The generator is the preset's name; the staircase's answers always win (the judge's rule).
    expect(model.alpacaEval.find((row) => row.name === 'moa-staircase')?.winRate).toBe(100);
    expect(model.mtBench.models.map((entry) => [entry.name, entry.turn1, entry.turn2]).sort()).toEqual([
      ['moa-single', 5, 6],
      ['moa-staircase', 8, 9],
    ]);
    expect(model.mtBench.categories).toHaveLength(8);
    expect(model.flask.map((entry) => entry.name).sort()).toEqual(['flask-single', 'flask-staircase']);
    // Every configuration is linked to its score and has a cost (prices are set): the Pareto points.
    const linked = model.configurations
      .filter((entry) => entry.costPerItemUsd !== null && entry.quality !== null)
      .map((entry) => `${entry.benchmark}:${entry.name}`)
      .sort();
    expect(linked).toEqual([
      'alpaca-eval:moa-single',
      'alpaca-eval:moa-staircase',
      'flask:flask-single',
      'flask:flask-staircase',
      'mt-bench:moa-single',
      'mt-bench:moa-staircase',
    ]);
    const byName = new Map(model.reliability.map((entry) => [entry.model, entry]));
    expect(byName.get('fake:broken')).toMatchObject({ retries: 1, failures: 1, cuts: 0 });
    expect(byName.get('fake:stuck')).toMatchObject({ cuts: 1, failures: 0 });
    expect(model.traceGroups.find((group) => group.name === 'traces-ask')?.ttftsMs).toHaveLength(3);
    expect(model.comparisons).toHaveLength(1);

    // Self-contained: no script, no external reference of any kind, a CSP that forbids requests.
    const html = readFileSync(output, 'utf8');
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//i);
    expect(html).toContain(`content="default-src 'none'; style-src 'unsafe-inline'; img-src data:"`);

    const plots = [
      'alpaca-eval-win-rates',
      'comparison-1',
      'mt-bench-categories',
      'mt-bench-turns',
      'flask-skills',
      'pareto-alpaca-eval',
      'pareto-mt-bench',
      'pareto-flask',
      'latency',
      'ttft',
      'model-failures',
    ];
    mkdirSync(ARTIFACTS, { recursive: true });
    const views: Array<[string, BrowserContextOptions, 'light' | 'dark']> = [
      ['laptop-light', LAPTOP, 'light'],
      ['laptop-dark', LAPTOP, 'dark'],
      ['phone-light', PHONE, 'light'],
      ['phone-dark', PHONE, 'dark'],
    ];
    const backgrounds = new Map<string, string>();
    for (const [name, device, colorScheme] of views) {
      const context = await (browser as Browser).newContext({ ...device, colorScheme, offline: true });
      const page = await context.newPage();
      const requests: string[] = [];
      const problems: string[] = [];
      page.on('request', (request) => requests.push(request.url()));
      page.on('console', (message) => {
        if (message.type() === 'error' || message.type() === 'warning') problems.push(message.text());
      });
      page.on('pageerror', (error) => problems.push(error.message));
      await page.goto(`file://${output}`);
      // Exactly one request: the file itself. Nothing else is fetched, even with the network cut.
      expect(requests).toEqual([`file://${output}`]);
      expect(problems).toEqual([]);
      for (const plot of plots) {
        const marks = await page.evaluate((id) => {
          const figure = document.querySelector(`figure[data-plot="${id}"]`);
          if (!figure) return { found: false, visible: 0, marks: 0 };
          const visible = [...figure.querySelectorAll('svg.chart')].filter((svg) => (svg as SVGSVGElement).getBoundingClientRect().width > 0);
          const marks = visible.reduce((count, svg) => count + svg.querySelectorAll('rect.bar, polygon.area, circle.point, rect.box').length, 0);
          return { found: true, visible: visible.length, marks };
        }, plot);
        expect(marks, `${name}: ${plot}`).toEqual({ found: true, visible: 1, marks: expect.any(Number) });
        expect(marks.marks, `${name}: ${plot} has marks`).toBeGreaterThan(0);
      }
      // Readable on a phone: nothing wider than the screen.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      expect(overflow, name).toBeLessThanOrEqual(0);
      backgrounds.set(name, await page.evaluate(() => getComputedStyle(document.body).backgroundColor));
      await page.screenshot({ path: join(ARTIFACTS, `report-${name}.png`), fullPage: true });
      await context.close();
    }
    // The dark theme is really dark.
    expect(backgrounds.get('laptop-dark')).not.toBe(backgrounds.get('laptop-light'));
    expect(backgrounds.get('phone-dark')).toBe(backgrounds.get('laptop-dark'));
  }, 300_000);

  it('without streamed traces or ttftMs it says "no TTFT data" instead of drawing an empty plot', async () => {
    const { workspace } = suite;
    writeFileSync(
      workspace.path('bare.json.progress.jsonl'),
      `${JSON.stringify({ id: 'x', instruction: 'Q', output: 'A', usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 120 })}\n`,
    );
    await cli(['report', 'bare.json.progress.jsonl', '-o', 'bare.html']);
    const html = workspace.read('bare.html');
    expect(html).toContain('data-plot="latency"');
    expect(html).toMatch(/data-plot="ttft" data-empty="true"><p class="empty">No TTFT data/);
  });

  it('a file that is not a result is exit 2, naming it', async () => {
    const { workspace } = suite;
    workspace.write('notes.json', JSON.stringify({ hello: 'world' }));
    const result = await runCli(['report', 'notes.json', '-o', 'x.html'], { cwd: workspace.dir, env: env() });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain(`${workspace.path('notes.json')}: not a result file moa report reads`);
  });
});
