// Engine v2 through the built CLI against the fake server streaming at configured speeds:
// staircase puts the first answer token on stdout before the slowest proposer has finished; early
// continues when a late reference arrives and repeats nothing at the join; a rank layer's reviewers
// never see their own answer; stopWhen skips a layer when answers agree and not when they differ.
import { beforeEach, describe, expect, it } from 'vitest';
import type { FakeRequest } from '../support/fake-llm-server.js';
import { contentText, describeRun, runCli, systemText, useCliSuite } from './run-cli.js';

const suite = useCliSuite({
  presets: {
    pair: { layers: 2, proposers: ['fake:quick', 'fake:slow'], aggregator: 'fake:agg', maxRetries: 0 },
    council: { layers: [{ proposers: ['fake:r1', 'fake:r2', 'fake:r3'] }, { kind: 'rank' }], aggregator: 'fake:agg' },
    deep: { layers: 3, proposers: ['fake:p1', 'fake:p2'], aggregator: 'fake:agg', stopWhen: { agreement: 0.9 } },
  },
  defaultPreset: 'pair',
});

const words = (prefix: string, count: number): string => Array.from({ length: count }, (_, index) => `${prefix}${index + 1}`).join(' ');
const lastRole = (request: FakeRequest): string => request.messages[request.messages.length - 1]?.role ?? '';

beforeEach(() => suite.server.reset());

describe('moa ask --aggregation staircase', () => {
  it('prints the first answer token before the slowest proposer has finished, and the whole answer', async () => {
    suite.server.setBehavior('quick', { text: words('q', 60), tokenDelayMs: 2 });
    suite.server.setBehavior('slow', { text: words('s', 60), tokenDelayMs: 15 });
    // Each part of the answer says which part it is; the last one (no max_tokens) ends the answer.
    suite.server.setBehavior('agg', {
      text: (request) => (request.max_tokens === undefined ? 'Last part.' : lastRole(request) === 'assistant' ? 'Next part.' : 'First part.'),
    });
    const run = await runCli(['ask', '--aggregation', 'staircase:8', '-q', 'Explain it'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    const slow = suite.server.log.find((entry) => entry.model === 'slow')!;
    expect(run.firstStdoutAt).toBeDefined();
    expect(run.firstStdoutAt!).toBeLessThan(slow.endedAt!);
    expect(run.stdout.startsWith('First part.')).toBe(true);
    expect(run.stdout.trim().endsWith('Last part.')).toBe(true);
    const aggregatorCalls = suite.server.log.filter((entry) => entry.model === 'agg');
    expect(aggregatorCalls.length).toBeGreaterThanOrEqual(2);
    expect(systemText(aggregatorCalls[0]!)).toContain('(still being written)');
    expect(systemText(aggregatorCalls[aggregatorCalls.length - 1]!)).toContain(words('s', 60));
  });
});

describe('moa ask --aggregation early', () => {
  it('starts from the quick answer, continues when the slow one arrives, and repeats nothing at the join', async () => {
    suite.server.setBehavior('quick', { text: 'The quick answer.' });
    suite.server.setBehavior('slow', { text: 'The slow answer adds a detail.', delayMs: 400 });
    suite.server.setBehavior('agg', {
      tokenDelayMs: 1,
      // A chat model asked to continue often repeats the end of what it wrote; the engine must drop that.
      text: (request) =>
        lastRole(request) === 'assistant' ? 'from the quick answer. Then the detail from the slow answer.' : 'Here is the answer built from the quick answer.',
    });
    const run = await runCli(['ask', '--aggregation', 'early:1', '--json', 'Explain it'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    const result = JSON.parse(run.stdout) as { text: string; ttftMs?: number; degraded: unknown[] };
    expect(result.text).toBe('Here is the answer built from the quick answer. Then the detail from the slow answer.');
    expect(result.text.match(/from the quick answer/g)).toHaveLength(1);
    expect(result.ttftMs).toBeGreaterThan(0);
    expect(result.degraded).toEqual([]);
    const aggregatorCalls = suite.server.log.filter((entry) => entry.model === 'agg');
    expect(aggregatorCalls).toHaveLength(2);
    expect(systemText(aggregatorCalls[0]!)).not.toContain('slow answer');
    expect(contentText(aggregatorCalls[1]!.messages[aggregatorCalls[1]!.messages.length - 1]!.content)).toBe('Here is the answer built from the quick answer.');
  });
});

describe('a rank layer', () => {
  it('reviewers never see their own answer; the aggregator gets the answers in ranked order', async () => {
    for (const name of ['r1', 'r2', 'r3']) {
      suite.server.setBehavior(name, {
        text: (request) => {
          const text = request.messages.map((message) => contentText(message.content)).join('\n');
          if (!text.includes('FINAL RANKING')) return `answer of ${name}`;
          // Rank by a fixed preference: r3's answer, then r1's, then r2's.
          const shown = [...text.matchAll(/Response ([A-Z]):\nanswer of (r\d)/g)].map((match) => ({ letter: match[1]!, author: match[2]! }));
          const order = ['r3', 'r1', 'r2'].flatMap((author) => shown.filter((entry) => entry.author === author).map((entry) => entry.letter));
          return `Thoughts.\nFINAL RANKING: ${order.join(', ')}`;
        },
      });
    }
    suite.server.setBehavior('agg', { text: 'final' });
    const run = await runCli(['ask', '--preset', 'council', '--json', 'Q'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    for (const name of ['r1', 'r2', 'r3']) {
      const review = suite.server.log.filter((entry) => entry.model === name)[1]!;
      const text = review.messages.map((message) => contentText(message.content)).join('\n');
      expect(text).not.toContain(`answer of ${name}`);
    }
    const result = JSON.parse(run.stdout) as { layers: Array<{ kind: string; ranking?: { ranking: Array<{ agent: number }> } }> };
    expect(result.layers[1]!.kind).toBe('rank');
    expect(result.layers[1]!.ranking!.ranking.map((entry) => entry.agent)).toEqual([2, 0, 1]);
    const aggregator = suite.server.log.find((entry) => entry.model === 'agg')!;
    expect(systemText(aggregator)).toMatch(/\[1\]\nanswer of r3\n\n\[2\]\nanswer of r1\n\n\[3\]\nanswer of r2/);
  });
});

describe('stopWhen: agreement', () => {
  it('skips layer 2 when the proposers agree, and says so', async () => {
    const same = 'Canberra is the capital of Australia.';
    suite.server.setBehavior('p1', { text: same });
    suite.server.setBehavior('p2', { text: same });
    suite.server.setBehavior('agg', { text: 'Canberra.' });
    const run = await runCli(['ask', '--preset', 'deep', 'Capital of Australia?'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    expect(suite.server.log.filter((entry) => entry.model === 'p1')).toHaveLength(1);
    expect(run.stderr).toMatch(/L2 skipped/);
  });

  it('runs every layer when they differ', async () => {
    suite.server.setBehavior('p1', { text: 'Sydney has the opera house and the harbour bridge.' });
    suite.server.setBehavior('p2', { text: 'Canberra was a compromise between Melbourne and Sydney.' });
    suite.server.setBehavior('agg', { text: 'Canberra.' });
    const run = await runCli(['ask', '--preset', 'deep', 'Capital of Australia?'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    expect(suite.server.log.filter((entry) => entry.model === 'p1')).toHaveLength(2);
  });
});

describe('moa replay of a trace written by the previous release', () => {
  it('prints the result that release returned', async () => {
    const fixture = (name: string) => new URL(`../fixtures/traces/${name}`, import.meta.url).pathname;
    const run = await runCli(['replay', '--json', fixture('v0.1-failures.jsonl')], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    const { readFileSync } = await import('node:fs');
    expect(JSON.parse(run.stdout)).toMatchObject(JSON.parse(readFileSync(fixture('v0.1-failures.result.json'), 'utf8')) as object);
  });
});
