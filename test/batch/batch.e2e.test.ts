// End-to-end tests of `moa batch`: the built CLI as a child process against the fake
// OpenAI-compatible server (in this process). Crash safety (kill -9 and resume), rate limits
// with Retry-After and hung calls, the response cache, the budget, and bad input lines.
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertCliBuilt, cliEnv, contentText, describeRun, makeWorkspace, runCli, type Workspace } from '../e2e/run-cli.js';
import { startFakeLLMServer, type FakeLLMServer, type FakeLogEntry } from '../support/fake-llm-server.js';

let server: FakeLLMServer;
let workspace: Workspace;

const PRICE = { input: 1, output: 2 }; // USD per million tokens

beforeAll(async () => {
  assertCliBuilt();
  server = await startFakeLLMServer();
  workspace = makeWorkspace({
    providers: {
      fake: { type: 'openai-compatible', baseURL: server.url, apiKeyEnv: 'FAKE_KEY', maxConcurrency: 8 },
      flaky: { type: 'openai-compatible', baseURL: server.url, apiKeyEnv: 'FAKE_KEY', maxConcurrency: 8, attemptTimeoutMs: 400, maxRetries: 20 },
    },
    presets: {
      two: { layers: 2, proposers: ['fake:p1', 'fake:p2'], aggregator: 'fake:agg', maxTokens: 50 },
      flaky: { layers: 2, proposers: ['flaky:p1', 'flaky:p2'], aggregator: 'flaky:agg' },
    },
    prices: { 'fake:p1': PRICE, 'fake:p2': PRICE, 'fake:agg': PRICE },
    defaultPreset: 'two',
  });
});
afterAll(async () => {
  await server?.close();
  workspace?.remove();
});
beforeEach(() => server.reset());

const env = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: workspace.path('cache') });

function writeInput(name: string, count: number, extra: string[] = []): string {
  const lines = Array.from({ length: count }, (_, index) => JSON.stringify({ id: `q${index + 1}`, prompt: `question number ${index + 1}` }));
  return workspace.write(name, [...lines, ...extra].join('\n') + '\n');
}

/** The output's lines; every one must be a complete JSON object (a torn line fails the test). */
function results(name: string): Array<{ id: string; text?: string; error?: unknown; costUsd?: number; usage?: unknown }> {
  if (!existsSync(workspace.path(name))) return [];
  return readFileSync(workspace.path(name), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as { id: string });
}

/** Lines that parse (a killed run may leave a torn last line). */
function completeIds(name: string): string[] {
  if (!existsSync(workspace.path(name))) return [];
  return readFileSync(workspace.path(name), 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [(JSON.parse(line) as { id: string }).id];
      } catch {
        return [];
      }
    });
}

/** Which item a request belongs to: its user prompt ends with the item number. */
function itemOf(entry: FakeLogEntry): string | undefined {
  const user = entry.messages
    .filter((message) => message.role === 'user')
    .map((message) => contentText(message.content))
    .join(' ');
  const match = /question number (\d+)/.exec(user);
  return match ? `q${match[1]}` : undefined;
}

describe('moa batch', () => {
  it('kill -9 in the middle of a 300-item batch, then resume: exactly 300 unique ids, no duplicate, nothing redone', async () => {
    server.setDefaultBehavior({ delayMs: 15, tokens: 8 });
    writeInput('kill-in.jsonl', 300);
    let linesAtKill = 0;
    const killed = await runCli(['batch', '-i', 'kill-in.jsonl', '-o', 'kill-out.jsonl', '--no-cache', '--concurrency', '16'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
      onSpawn: (child) => {
        const poll = setInterval(() => {
          linesAtKill = completeIds('kill-out.jsonl').length;
          if (linesAtKill >= 60) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 5);
        child.once('exit', () => clearInterval(poll));
      },
    });
    expect(killed.signal, describeRun(killed)).toBe('SIGKILL');
    const doneAtKill = new Set(completeIds('kill-out.jsonl'));
    expect(doneAtKill.size).toBeGreaterThanOrEqual(60);
    expect(doneAtKill.size).toBeLessThan(300);
    // A write torn by the kill, made certain: the resume must cut it off.
    appendFileSync(workspace.path('kill-out.jsonl'), '{"id":"q1","text":"half a li');

    const requestsBefore = server.log.length;
    const resumed = await runCli(['batch', '-i', 'kill-in.jsonl', '-o', 'kill-out.jsonl', '--no-cache', '--concurrency', '16'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
    });
    expect(resumed.code, describeRun(resumed)).toBe(0);
    expect(resumed.stderr).toMatch(/torn last line/);
    const lines = results('kill-out.jsonl');
    const ids = lines.map((line) => line.id);
    expect(ids).toHaveLength(300);
    expect(new Set(ids).size).toBe(300);
    expect(new Set(ids)).toEqual(new Set(Array.from({ length: 300 }, (_, index) => `q${index + 1}`)));
    expect(lines.every((line) => typeof line.text === 'string' && line.text.length > 0 && line.error === undefined)).toBe(true);
    // The resumed run asked nothing about items that were already in the file.
    const redone = server.log
      .slice(requestsBefore)
      .map(itemOf)
      .filter((id) => id !== undefined && doneAtKill.has(id));
    expect(redone).toEqual([]);
  });

  it('finishes every item under 30% 429s with Retry-After and some hung calls', async () => {
    server.setDefaultBehavior({
      delayMs: 5,
      tokens: 5,
      randomFailures: { rate: 0.3, failure: { status: 429, retryAfter: 0.05, message: 'rate limited, slow down' } },
      randomHangRate: 0.03,
      seed: 7,
    });
    writeInput('flaky-in.jsonl', 60);
    const run = await runCli(['batch', '-i', 'flaky-in.jsonl', '-o', 'flaky-out.jsonl', '--preset', 'flaky', '--no-cache', '--json'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 90_000,
    });
    expect(run.code, describeRun(run)).toBe(0);
    const lines = results('flaky-out.jsonl');
    expect(lines.map((line) => line.id).sort(), describeRun(run)).toEqual(Array.from({ length: 60 }, (_, index) => `q${index + 1}`).sort());
    expect(lines.every((line) => line.error === undefined && typeof line.text === 'string')).toBe(true);
    // The storm really happened: many 429s, and hung calls that the timeout cut.
    const limited = server.log.filter((entry) => entry.status === 429).length;
    const hung = server.log.filter((entry) => entry.outcome === 'aborted').length;
    expect(limited).toBeGreaterThan(0.15 * server.log.length);
    expect(hung).toBeGreaterThan(0);
    const summary = JSON.parse(run.stdout) as { succeeded: number; failed: number };
    expect(summary).toMatchObject({ succeeded: 60, failed: 0 });
  });

  it('a rerun answered by the cache makes zero upstream calls and counts the hits', async () => {
    server.setDefaultBehavior({ delayMs: 1, tokens: 6 });
    writeInput('cache-in.jsonl', 20);
    const args = ['batch', '-i', 'cache-in.jsonl', '-o', 'cache-out.jsonl', '--cache', 'my-cache.sqlite', '--json'];
    const first = await runCli(args, { cwd: workspace.dir, env: env() });
    expect(first.code, describeRun(first)).toBe(0);
    expect(server.log).toHaveLength(60);
    const firstLines = results('cache-out.jsonl');
    expect(existsSync(workspace.path('my-cache.sqlite'))).toBe(true);

    writeFileSync(workspace.path('cache-out.jsonl'), ''); // start over: every item runs again
    const second = await runCli(args, { cwd: workspace.dir, env: env() });
    expect(second.code, describeRun(second)).toBe(0);
    expect(server.log).toHaveLength(60); // not one more request
    const summary = JSON.parse(second.stdout) as { cacheHits: number; calls: number; succeeded: number; costUsd: number };
    expect(summary).toMatchObject({ cacheHits: 60, calls: 0, succeeded: 20, costUsd: 0 });
    const byId = new Map(firstLines.map((line) => [line.id, line.text]));
    for (const line of results('cache-out.jsonl')) expect(line.text).toBe(byId.get(line.id));
    expect(second.stderr).toMatch(/60 cache hits/);
  });

  it('--budget-usd stops starting items once spent; a rerun continues where it stopped', async () => {
    server.setDefaultBehavior({ delayMs: 1, tokens: 10 });
    writeInput('budget-in.jsonl', 10);
    const stopped = await runCli(
      ['batch', '-i', 'budget-in.jsonl', '-o', 'budget-out.jsonl', '--no-cache', '--concurrency', '1', '--budget-usd', '0.00000001', '--json'],
      { cwd: workspace.dir, env: env() },
    );
    expect(stopped.code, describeRun(stopped)).toBe(1);
    const summary = JSON.parse(stopped.stdout) as { stoppedBy: string; succeeded: number; notStarted: number; costUsd: number };
    expect(summary).toMatchObject({ stoppedBy: 'budget', succeeded: 1, notStarted: 9 });
    expect(summary.costUsd).toBeGreaterThan(0);
    expect(stopped.stderr).toMatch(/budget reached/);
    const first = results('budget-out.jsonl');
    expect(first).toHaveLength(1);
    expect(first[0]!.costUsd).toBeGreaterThan(0);

    const resumed = await runCli(['batch', '-i', 'budget-in.jsonl', '-o', 'budget-out.jsonl', '--no-cache'], { cwd: workspace.dir, env: env() });
    expect(resumed.code, describeRun(resumed)).toBe(0);
    const ids = results('budget-out.jsonl').map((line) => line.id);
    expect(ids).toHaveLength(10);
    expect(new Set(ids).size).toBe(10);
  });

  it('--budget-usd without a price for every model is a usage error naming the model', async () => {
    writeInput('noprice-in.jsonl', 2);
    const run = await runCli(['batch', '-i', 'noprice-in.jsonl', '-o', 'noprice-out.jsonl', '--preset', 'flaky', '--budget-usd', '1'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toMatch(/--budget-usd needs a price for every model of the preset; missing: flaky:agg, flaky:p1, flaky:p2/);
    expect(server.log).toHaveLength(0);
  });

  it('reports malformed lines with their line numbers and runs the rest; --strict stops before any call', async () => {
    server.setDefaultBehavior({ delayMs: 1, tokens: 4 });
    const lines = [
      '{"id":"a","prompt":"question number 1"}',
      '{"id":"b","prompt":"question number 2"',
      '{"prompt":"question number 3"}',
      '{"id":"a","prompt":"question number 4"}',
      '{"id":"e","messages":[{"role":"user","content":"question number 5"}]}',
      '{"id":"f","messages":[{"role":"wizard","content":"question number 6"}]}',
    ];
    workspace.write('bad-in.jsonl', lines.join('\n') + '\n');
    const run = await runCli(['batch', '-i', 'bad-in.jsonl', '-o', 'bad-out.jsonl', '--no-cache'], { cwd: workspace.dir, env: env() });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stderr).toMatch(/input line 2: not valid JSON/);
    expect(run.stderr).toMatch(/input line 4: duplicate id "a" \(first used on line 1\)/);
    expect(run.stderr).toMatch(/input line 6: messages\[0\]\.role must be/);
    expect(
      results('bad-out.jsonl')
        .map((line) => line.id)
        .sort(),
    ).toEqual(['3', 'a', 'e']);

    server.reset();
    const strict = await runCli(['batch', '-i', 'bad-in.jsonl', '-o', 'strict-out.jsonl', '--no-cache', '--strict'], { cwd: workspace.dir, env: env() });
    expect(strict.code, describeRun(strict)).toBe(2);
    expect(strict.stderr).toMatch(/3 bad line\(s\) in the input \(--strict; nothing was run\)/);
    expect(strict.stderr).toMatch(/bad-in\.jsonl:2: not valid JSON/);
    expect(strict.stderr).toMatch(/bad-in\.jsonl:6: messages\[0\]\.role/);
    expect(server.log).toHaveLength(0);
    expect(results('strict-out.jsonl')).toHaveLength(0);
  });

  it('Ctrl-C stops starting items, keeps every finished one, exits 130; the rerun completes', async () => {
    server.setDefaultBehavior({ delayMs: 20, tokens: 4 });
    writeInput('int-in.jsonl', 200);
    const interrupted = await runCli(['batch', '-i', 'int-in.jsonl', '-o', 'int-out.jsonl', '--no-cache', '--concurrency', '4'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (completeIds('int-out.jsonl').length >= 10) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 5);
        child.once('exit', () => clearInterval(poll));
      },
    });
    expect(interrupted.code, describeRun(interrupted)).toBe(130);
    expect(interrupted.stderr).toMatch(/interrupted: run the same command again to continue/);
    const kept = results('int-out.jsonl');
    expect(kept.length).toBeLessThan(200);
    expect(kept.every((line) => line.error === undefined)).toBe(true);
    const resumed = await runCli(['batch', '-i', 'int-in.jsonl', '-o', 'int-out.jsonl', '--no-cache', '--concurrency', '16'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
    });
    expect(resumed.code, describeRun(resumed)).toBe(0);
    const ids = results('int-out.jsonl').map((line) => line.id);
    expect(ids).toHaveLength(200);
    expect(new Set(ids).size).toBe(200);
  });
});
