// `moa batch --queue` + `moa worker` end to end: the built CLI as child processes, a real
// redis-server (Debian's) on a free loopback port, and the project's fake LLM server in this
// process (its request log is what the assertions read). Job locks are shortened
// (MOA_QUEUE_LOCK_MS) so a killed worker's items come back within seconds.
import { existsSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertCliBuilt, cliEnv, contentText, describeRun, makeWorkspace, runCli, type Workspace } from '../e2e/run-cli.js';
import { startFakeLLMServer, type FakeLLMServer, type FakeLogEntry, type FakeRequest } from '../support/fake-llm-server.js';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.js';
import { startWorker, stopAllWorkers, type WorkerProcess } from './worker-process.js';

let redis: TestRedisServer;
let admin: Redis;
let server: FakeLLMServer;
let workspace: Workspace;

const LOCK_MS = '1500';

/** Every model answers from the item's question, so a line can be checked against its id. */
function answer(request: FakeRequest): string {
  const user = request.messages
    .filter((message) => message.role === 'user')
    .map((message) => contentText(message.content))
    .join(' ');
  const number = /question number (\d+)/.exec(user)?.[1] ?? '?';
  return `${request.model} answers ${number}`;
}

beforeAll(async () => {
  assertCliBuilt();
  redis = await startRedisServer();
  admin = new Redis(redis.url, { maxRetriesPerRequest: null });
  server = await startFakeLLMServer();
  workspace = makeWorkspace({
    providers: { fake: { type: 'openai-compatible', baseURL: server.url, apiKeyEnv: 'FAKE_KEY', maxConcurrency: 3 } },
    presets: { two: { layers: 2, proposers: ['fake:p1', 'fake:p2'], aggregator: 'fake:agg', maxTokens: 50 } },
    defaultPreset: 'two',
  });
  // A worker whose config has no "fake" provider.
  workspace.write('no-fake.yaml', 'providers: {}\n');
});
afterAll(async () => {
  await stopAllWorkers();
  await admin?.quit();
  await server?.close();
  await redis?.stop();
  workspace?.remove();
});
let testNumber = 0;
beforeEach(async () => {
  testNumber++;
  server.reset();
  server.setDefaultBehavior({ delayMs: 30, text: answer });
  await admin.flushall();
});
afterEach(async () => {
  await stopAllWorkers();
});

/** Each test has its own response cache (shared by its workers): answers of one test never serve another. */
function env(extra: Record<string, string> = {}): Record<string, string> {
  return cliEnv({ MOA_CACHE_DIR: workspace.path(`cache-${testNumber}`), MOA_QUEUE_LOCK_MS: LOCK_MS, ...extra });
}

function writeInput(name: string, from: number, to: number, append = false): void {
  const lines = [];
  for (let index = from; index <= to; index++) lines.push(JSON.stringify({ id: `q${index}`, prompt: `question number ${index}` }));
  (append ? appendFileSync : writeFileSync)(workspace.path(name), `${lines.join('\n')}\n`);
}

interface Line {
  id: string;
  text?: string;
  error?: { code: string; message: string };
  usage?: unknown;
  latencyMs?: number;
}

function lines(name: string): Line[] {
  if (!existsSync(workspace.path(name))) return [];
  return readFileSync(workspace.path(name), 'utf8')
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Line);
}

function idsOf(name: string): string[] {
  if (!existsSync(workspace.path(name))) return [];
  return readFileSync(workspace.path(name), 'utf8')
    .split('\n')
    .flatMap((line) => {
      try {
        return [(JSON.parse(line) as Line).id];
      } catch {
        return [];
      }
    });
}

function itemOf(entry: FakeLogEntry): string | undefined {
  const user = entry.messages
    .filter((message) => message.role === 'user')
    .map((message) => contentText(message.content))
    .join(' ');
  const match = /question number (\d+)/.exec(user);
  return match ? `q${match[1]}` : undefined;
}

/** A call's identity: the same model asked the same thing. */
function callKey(entry: FakeLogEntry): string {
  return JSON.stringify([entry.model, entry.messages]);
}

/** "moa worker: stopped · 12 done, …" → 12 */
function doneBy(worker: WorkerProcess): number {
  const match = /stopped · (\d+) done/.exec(worker.stderr());
  return match ? Number(match[1]) : -1;
}

async function until(condition: () => boolean, what: string, timeoutMs = 30_000): Promise<void> {
  const started = Date.now();
  while (!condition()) {
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const ids = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, index) => `q${from + index}`);

describe('moa batch --queue with moa worker', () => {
  it('two workers drain a batch; the output is the one a local run writes, one line per id', async () => {
    writeInput('drain-in.jsonl', 1, 40);
    const first = await startWorker(['--queue', redis.url, '--concurrency', '3'], { cwd: workspace.dir, env: env() });
    const second = await startWorker(['--queue', redis.url, '--concurrency', '3'], { cwd: workspace.dir, env: env() });
    const queued = await runCli(['batch', '-i', 'drain-in.jsonl', '-o', 'drain-out.jsonl', '--queue', redis.url], { cwd: workspace.dir, env: env(), timeoutMs: 60_000 });
    expect(queued.code, describeRun(queued)).toBe(0);
    expect(queued.stderr).toMatch(/40 job\(s\) enqueued — 2 worker\(s\) alive/);
    expect(queued.stderr).toMatch(/moa batch: 40 done in .* 120 calls/);
    const out = lines('drain-out.jsonl');
    expect(out.map((line) => line.id).sort()).toEqual(ids(1, 40).sort());
    for (const line of out) {
      expect(Object.keys(line)).toEqual(['id', 'text', 'usage', 'latencyMs']);
      expect(line.text).toBe(`agg answers ${line.id.slice(1)}`);
    }
    await Promise.all([first.stop(), second.stop()]);
    // Both took part, and together they did every item once.
    expect(doneBy(first), first.stderr()).toBeGreaterThan(0);
    expect(doneBy(second), second.stderr()).toBeGreaterThan(0);
    expect(doneBy(first) + doneBy(second)).toBe(40);
    expect(new Set(server.log.map(callKey)).size).toBe(server.log.length);

    // The same command without --queue (a fresh output, no cache) writes the same lines.
    const local = await runCli(['batch', '-i', 'drain-in.jsonl', '-o', 'local-out.jsonl', '--no-cache'], { cwd: workspace.dir, env: env() });
    expect(local.code, describeRun(local)).toBe(0);
    const texts = (name: string): string[] =>
      lines(name)
        .map((line) => `${line.id}=${line.text}`)
        .sort();
    expect(texts('drain-out.jsonl')).toEqual(texts('local-out.jsonl'));
  }, 120_000);

  it('a worker killed with SIGKILL loses nothing: its items are finished by the other, every id once, no finished answer redone', async () => {
    server.setDefaultBehavior({ delayMs: 120, text: answer });
    writeInput('kill-in.jsonl', 1, 30);
    // Two keys: the log tells the workers' requests apart (and the shared SQLite cache their answers).
    const victim = await startWorker(['--queue', redis.url, '--concurrency', '2'], { cwd: workspace.dir, env: env({ FAKE_KEY: 'key-victim' }) });
    const survivor = await startWorker(['--queue', redis.url, '--concurrency', '2'], { cwd: workspace.dir, env: env({ FAKE_KEY: 'key-survivor' }) });
    const isVictim = (entry: FakeLogEntry): boolean => entry.authorization === 'Bearer key-victim';
    let killedAt = 0;
    let doneAtKill = new Set<string>();
    const queued = runCli(['batch', '-i', 'kill-in.jsonl', '-o', 'kill-out.jsonl', '--queue', redis.url], { cwd: workspace.dir, env: env(), timeoutMs: 90_000 });
    await until(
      () => idsOf('kill-out.jsonl').length >= 6 && server.log.some((entry) => isVictim(entry) && entry.outcome === 'pending'),
      'six results and a call of the victim in flight',
    );
    victim.child.kill('SIGKILL');
    killedAt = performance.now();
    doneAtKill = new Set(idsOf('kill-out.jsonl'));
    const victimInFlight = server.log.filter((entry) => isVictim(entry) && entry.outcome === 'pending');
    expect((await victim.exited).signal).toBe('SIGKILL');

    const result = await queued;
    expect(result.code, describeRun(result)).toBe(0);
    const out = lines('kill-out.jsonl');
    expect(out.map((line) => line.id).sort()).toEqual(ids(1, 30).sort());
    expect(out.every((line) => line.error === undefined && line.text === `agg answers ${line.id.slice(1)}`)).toBe(true);

    // The items the victim was running when it died were finished by the survivor.
    const orphaned = new Set(victimInFlight.map(itemOf));
    expect(orphaned.size).toBeGreaterThan(0);
    for (const id of orphaned) {
      expect(
        server.log.some((entry) => !isVictim(entry) && entry.startedAt > killedAt && itemOf(entry) === id),
        `item ${id} taken over`,
      ).toBe(true);
    }
    // Finished items are never asked about again.
    const after = server.log.filter((entry) => entry.startedAt > killedAt);
    expect(after.filter((entry) => doneAtKill.has(itemOf(entry) ?? ''))).toEqual([]);
    // Finished calls are never sent again: only what was in flight at the victim (or answered to it
    // in the last moment, before it could store the answer) may be sent twice.
    const unsure = new Set(server.log.filter((entry) => isVictim(entry) && (entry.endedAt === undefined || entry.endedAt > killedAt - 50)).map(callKey));
    const answered = new Map<string, number>();
    for (const entry of server.log) if (entry.outcome === 'ok') answered.set(callKey(entry), (answered.get(callKey(entry)) ?? 0) + 1);
    const redone = [...answered].filter(([key, count]) => count > 1 && !unsure.has(key));
    expect(redone).toEqual([]);
    await survivor.stop();
  }, 120_000);

  it('a provider limit of N calls in flight holds across two workers', async () => {
    server.setDefaultBehavior({ delayMs: 60, text: answer });
    writeInput('limit-in.jsonl', 1, 24);
    // Each worker would fill its own 3 slots (maxConcurrency 3 in the config) with 8 items in flight.
    const first = await startWorker(['--queue', redis.url, '--concurrency', '8'], { cwd: workspace.dir, env: env() });
    const second = await startWorker(['--queue', redis.url, '--concurrency', '8'], { cwd: workspace.dir, env: env() });
    const queued = await runCli(['batch', '-i', 'limit-in.jsonl', '-o', 'limit-out.jsonl', '--queue', redis.url], { cwd: workspace.dir, env: env(), timeoutMs: 60_000 });
    expect(queued.code, describeRun(queued)).toBe(0);
    expect(idsOf('limit-out.jsonl')).toHaveLength(24);
    await Promise.all([first.stop(), second.stop()]);
    expect(doneBy(first)).toBeGreaterThan(0);
    expect(doneBy(second)).toBeGreaterThan(0);
    expect(server.maxInFlight).toBe(3);
  }, 120_000);

  it('rerunning the enqueue command after an interruption enqueues only what is missing and collects what finished meanwhile', async () => {
    server.setDefaultBehavior({ delayMs: 40, text: answer });
    writeInput('rerun-in.jsonl', 1, 20);
    const worker = await startWorker(['--queue', redis.url, '--concurrency', '1'], { cwd: workspace.dir, env: env() });
    const interrupted = await runCli(['batch', '-i', 'rerun-in.jsonl', '-o', 'rerun-out.jsonl', '--queue', redis.url], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (idsOf('rerun-out.jsonl').length >= 3) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 5);
        child.once('exit', () => clearInterval(poll));
      },
    });
    expect(interrupted.code, describeRun(interrupted)).toBe(130);
    expect(interrupted.stderr).toMatch(/stay queued and the workers go on/);
    const kept = idsOf('rerun-out.jsonl').length;
    expect(kept).toBeGreaterThanOrEqual(3);
    expect(kept).toBeLessThan(20);
    // Meanwhile the worker goes on; the input grows by five items.
    await until(() => server.log.filter((entry) => entry.model === 'agg' && entry.outcome === 'ok').length >= kept + 2, 'two more items finished while nobody collects');
    writeInput('rerun-in.jsonl', 21, 25, true);
    const rerun = await runCli(['batch', '-i', 'rerun-in.jsonl', '-o', 'rerun-out.jsonl', '--queue', redis.url, '--json'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
    });
    expect(rerun.code, describeRun(rerun)).toBe(0);
    const summary = JSON.parse(rerun.stdout) as { enqueued: number; alreadyQueued: number; alreadyDone: number; collectedFromEarlier: number; succeeded: number };
    expect(summary.alreadyDone).toBe(kept);
    expect(summary.enqueued).toBe(5);
    expect(summary.alreadyQueued).toBe(20 - kept);
    expect(summary.collectedFromEarlier).toBeGreaterThanOrEqual(2);
    expect(summary.succeeded).toBe(25 - kept);
    expect(idsOf('rerun-out.jsonl').sort()).toEqual(ids(1, 25).sort());
    // Nothing ran twice: one aggregator call per item.
    const aggregated = server.log.filter((entry) => entry.model === 'agg').map(itemOf);
    expect(aggregated.sort()).toEqual(ids(1, 25).sort());
    await worker.stop();
  }, 120_000);

  it('a worker whose config lacks the provider fails the items visibly; a rerun retries only those, on a worker that has it', async () => {
    writeInput('fail-in.jsonl', 1, 6);
    const lacking = await startWorker(['--queue', redis.url, '--config', 'no-fake.yaml'], { cwd: workspace.dir, env: env() });
    const failed = await runCli(['batch', '-i', 'fail-in.jsonl', '-o', 'fail-out.jsonl', '--queue', redis.url], { cwd: workspace.dir, env: env(), timeoutMs: 60_000 });
    expect(failed.code, describeRun(failed)).toBe(1);
    expect(failed.stderr).toMatch(/item "q\d" failed: .*Unknown provider "fake"/);
    expect(lacking.stderr()).toMatch(/item "q\d" failed: .*Unknown provider "fake"/);
    const failedLines = lines('fail-out.jsonl');
    expect(failedLines).toHaveLength(6);
    expect(failedLines.every((line) => line.error?.code === 'unknown_provider' && /Unknown provider "fake"/.test(line.error.message))).toBe(true);
    expect(server.log).toHaveLength(0);
    await lacking.stop();

    const able = await startWorker(['--queue', redis.url], { cwd: workspace.dir, env: env() });
    const retried = await runCli(['batch', '-i', 'fail-in.jsonl', '-o', 'fail-out.jsonl', '--queue', redis.url, '--json'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
    });
    expect(retried.code, describeRun(retried)).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ retrying: 6, enqueued: 6, succeeded: 6, failed: 0 });
    const out = lines('fail-out.jsonl');
    expect(out.map((line) => line.id).sort()).toEqual(ids(1, 6).sort());
    expect(out.every((line) => line.error === undefined)).toBe(true);
    await able.stop();
  }, 120_000);

  it('--budget-usd removes the waiting jobs once reached; a rerun enqueues the rest again', async () => {
    const priced = makeWorkspace(null);
    try {
      priced.write(
        'moa.config.yaml',
        readFileSync(workspace.path('moa.config.yaml'), 'utf8') +
          'prices:\n  "fake:p1": { input: 1000, output: 1000 }\n  "fake:p2": { input: 1000, output: 1000 }\n  "fake:agg": { input: 1000, output: 1000 }\n',
      );
      writeFileSync(
        priced.path('in.jsonl'),
        ids(1, 30)
          .map((id) => JSON.stringify({ id, prompt: `question number ${id.slice(1)}` }))
          .join('\n') + '\n',
      );
      const worker = await startWorker(['--queue', redis.url, '--concurrency', '1'], { cwd: priced.dir, env: env() });
      const stopped = await runCli(['batch', '-i', 'in.jsonl', '-o', 'out.jsonl', '--queue', redis.url, '--budget-usd', '0.05', '--json'], {
        cwd: priced.dir,
        env: env(),
        timeoutMs: 60_000,
      });
      expect(stopped.code, describeRun(stopped)).toBe(1);
      const summary = JSON.parse(stopped.stdout) as { stoppedBy: string; notStarted: number; succeeded: number; costUsd: number };
      expect(summary.stoppedBy).toBe('budget');
      expect(summary.costUsd).toBeGreaterThanOrEqual(0.05);
      expect(summary.notStarted).toBeGreaterThan(0);
      expect(summary.succeeded + summary.notStarted).toBe(30);
      // Nothing is left queued for the workers.
      await until(() => worker.stderr().includes('has no items left'), 'the worker to find the batch empty');
      const resumed = await runCli(['batch', '-i', 'in.jsonl', '-o', 'out.jsonl', '--queue', redis.url, '--json'], { cwd: priced.dir, env: env(), timeoutMs: 60_000 });
      expect(resumed.code, describeRun(resumed)).toBe(0);
      expect(JSON.parse(resumed.stdout)).toMatchObject({ enqueued: summary.notStarted, succeeded: summary.notStarted });
      const priced_ids = readFileSync(priced.path('out.jsonl'), 'utf8')
        .trim()
        .split('\n')
        .map((line) => (JSON.parse(line) as Line).id);
      expect(priced_ids.sort()).toEqual(ids(1, 30).sort());
      await worker.stop();
    } finally {
      priced.remove();
    }
  }, 120_000);

  it('--cache redis:// shares the answers between workers on different machines: a rerun into a new output makes no call', async () => {
    writeInput('shared-in.jsonl', 1, 8);
    const cacheUrl = `${redis.url}/1`;
    // Two "machines": separate local cache folders, one shared cache in Redis.
    const [first, second] = await Promise.all([
      startWorker(['--queue', redis.url, '--cache', cacheUrl, '--concurrency', '2'], {
        cwd: workspace.dir,
        env: env({ MOA_CACHE_DIR: workspace.path(`machine-a-${testNumber}`) }),
      }),
      startWorker(['--queue', redis.url, '--cache', cacheUrl, '--concurrency', '2'], {
        cwd: workspace.dir,
        env: env({ MOA_CACHE_DIR: workspace.path(`machine-b-${testNumber}`) }),
      }),
    ]);
    expect(first.stderr()).toContain(`cache redis://127.0.0.1:${redis.port}/1`);
    const queued = await runCli(['batch', '-i', 'shared-in.jsonl', '-o', 'shared-out.jsonl', '--queue', redis.url], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
    });
    expect(queued.code, describeRun(queued)).toBe(0);
    const calls = server.log.length;
    expect(calls).toBe(24);
    const again = await runCli(['batch', '-i', 'shared-in.jsonl', '-o', 'shared-again.jsonl', '--queue', redis.url, '--json'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
    });
    expect(again.code, describeRun(again)).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ succeeded: 8, calls: 0, cacheHits: 24 });
    expect(server.log.length).toBe(calls);
    await Promise.all([first.stop(), second.stop()]);
  }, 120_000);

  it('a worker stopped twice (Ctrl-C, Ctrl-C) puts its items in flight back in the queue; another worker finishes them', async () => {
    server.setDefaultBehavior({ delayMs: 400, text: answer });
    writeInput('stop-in.jsonl', 1, 6);
    const stopping = await startWorker(['--queue', redis.url, '--concurrency', '3'], { cwd: workspace.dir, env: env() });
    const queued = runCli(['batch', '-i', 'stop-in.jsonl', '-o', 'stop-out.jsonl', '--queue', redis.url], { cwd: workspace.dir, env: env(), timeoutMs: 90_000 });
    await until(() => server.log.filter((entry) => entry.outcome === 'pending').length >= 3, 'three calls in flight');
    stopping.child.kill('SIGINT');
    await until(() => /stopping — \d+ item\(s\) in flight finish first/.test(stopping.stderr()), 'the worker to start stopping');
    stopping.child.kill('SIGINT');
    const exit = await stopping.exited;
    expect(exit.code, stopping.stderr()).toBe(130);
    expect(stopping.stderr()).toMatch(/item "q\d" of batch \w+ was put back in the queue/);
    expect(idsOf('stop-out.jsonl')).toEqual([]);
    const taker = await startWorker(['--queue', redis.url], { cwd: workspace.dir, env: env() });
    const result = await queued;
    expect(result.code, describeRun(result)).toBe(0);
    expect(idsOf('stop-out.jsonl').sort()).toEqual(ids(1, 6).sort());
    await taker.stop();
  }, 120_000);

  it("moa queue status shows each batch's counts and the workers alive; moa queue clean removes finished batches", async () => {
    writeInput('status-in.jsonl', 1, 5);
    const worker = await startWorker(['--queue', redis.url], { cwd: workspace.dir, env: env() });
    const queued = await runCli(['batch', '-i', 'status-in.jsonl', '-o', 'status-out.jsonl', '--queue', redis.url], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
    });
    expect(queued.code, describeRun(queued)).toBe(0);
    // A second batch whose results nobody collected: enqueued, then the enqueuer dies.
    writeInput('orphan-in.jsonl', 101, 103);
    const orphan = await runCli(['batch', '-i', 'orphan-in.jsonl', '-o', 'orphan-out.jsonl', '--queue', redis.url], {
      cwd: workspace.dir,
      env: env(),
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (server.log.some((entry) => itemOf(entry) === 'q101')) {
            clearInterval(poll);
            child.kill('SIGKILL');
          }
        }, 5);
        child.once('exit', () => clearInterval(poll));
      },
    });
    expect(orphan.signal).toBe('SIGKILL');
    await until(
      () => server.log.filter((entry) => entry.model === 'agg' && /^q10[123]$/.test(itemOf(entry) ?? '') && entry.outcome === 'ok').length === 3,
      'the orphaned batch to finish',
    );

    const status = await runCli(['queue', 'status', redis.url, '--json'], { cwd: workspace.dir, env: env() });
    expect(status.code, describeRun(status)).toBe(0);
    const parsed = JSON.parse(status.stdout) as {
      batches: Array<{ label: string; outputPath: string; queued: number; running: number; done: number; failed: number; collected: boolean }>;
      workers: Array<{ done: number }>;
    };
    expect(parsed.batches).toHaveLength(2);
    expect(parsed.batches.find((batch) => batch.outputPath.endsWith('status-out.jsonl'))).toMatchObject({
      label: 'moa batch',
      queued: 0,
      running: 0,
      done: 5,
      failed: 0,
      collected: true,
    });
    expect(parsed.batches.find((batch) => batch.outputPath.endsWith('orphan-out.jsonl'))).toMatchObject({ queued: 0, running: 0, done: 3, collected: false });
    expect(parsed.workers).toHaveLength(1);
    const text = await runCli(['queue', 'status', redis.url], { cwd: workspace.dir, env: env() });
    expect(text.stdout).toMatch(/moa batch: 0 queued, 0 running, 5 done, 0 failed of 5 \(all collected\)/);
    expect(text.stdout).toMatch(/workers alive \(1\):/);

    const clean = await runCli(['queue', 'clean', redis.url], { cwd: workspace.dir, env: env() });
    expect(clean.code, describeRun(clean)).toBe(0);
    expect(clean.stdout).toMatch(/removed 1 finished batch/);
    expect(clean.stdout).toMatch(/kept .*its results are not all in .*orphan-out\.jsonl yet/);
    // The orphan's results are still there: a rerun collects them without a single call.
    const callsBefore = server.log.length;
    const collected = await runCli(['batch', '-i', 'orphan-in.jsonl', '-o', 'orphan-out.jsonl', '--queue', redis.url, '--json'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 30_000,
    });
    expect(collected.code, describeRun(collected)).toBe(0);
    expect(JSON.parse(collected.stdout)).toMatchObject({ collectedFromEarlier: 3, enqueued: 0 });
    expect(server.log.length).toBe(callsBefore);
    const again = await runCli(['queue', 'clean', redis.url, '--json'], { cwd: workspace.dir, env: env() });
    expect((JSON.parse(again.stdout) as { removed: unknown[] }).removed).toHaveLength(1);
    const empty = await runCli(['queue', 'status', redis.url], { cwd: workspace.dir, env: env() });
    expect(empty.stdout).toMatch(/no batches/);
    await worker.stop();
  }, 120_000);
});
