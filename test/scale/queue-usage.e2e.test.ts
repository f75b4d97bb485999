// Bad input to the queue commands: a clear message and exit 2 before anything is enqueued or
// taken — an unreachable Redis, a URL that is not a Redis URL, a server that is not Redis, a
// Redis that needs a password, a Redis older than 6.2, and the runner options that belong to the
// workers.
import { existsSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, cliEnv, describeRun, makeWorkspace, runCli, type Workspace } from '../e2e/run-cli.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { freeLoopbackPort, startRedisServer, type TestRedisServer } from '../support/redis-server.js';

let workspace: Workspace;
let server: FakeLLMServer;
let guarded: TestRedisServer;
let oldRedis: Server;
let oldRedisPort = 0;
const PASSWORD = 'queue-Pa55-word';

/**
 * Stands in for a Redis 5 server — no such server is packaged here — answering just what the
 * connection check asks (INFO server) with an old version. Only the version check meets it.
 */
function startOldRedis(): Promise<{ server: Server; port: number }> {
  const sockets = new Set<Socket>();
  const fake = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('data', (data) => {
      for (const command of data.toString('utf8').split('*').slice(1)) {
        if (/\r\nINFO\r\n/i.test(command)) {
          const info = '# Server\r\nredis_version:5.0.14\r\nredis_mode:standalone\r\n';
          socket.write(`$${Buffer.byteLength(info)}\r\n${info}\r\n`);
        } else socket.write('+OK\r\n');
      }
    });
  });
  const close = fake.close.bind(fake);
  fake.close = (callback?: (error?: Error) => void) => {
    for (const socket of sockets) socket.destroy();
    return close(callback);
  };
  return new Promise((resolve) => fake.listen(0, '127.0.0.1', () => resolve({ server: fake, port: (fake.address() as { port: number }).port })));
}

beforeAll(async () => {
  assertCliBuilt();
  server = await startFakeLLMServer();
  guarded = await startRedisServer({ extraArgs: ['--requirepass', PASSWORD] });
  const old = await startOldRedis();
  oldRedis = old.server;
  oldRedisPort = old.port;
  workspace = makeWorkspace({
    providers: { fake: { type: 'openai-compatible', baseURL: server.url, apiKeyEnv: 'FAKE_KEY' } },
    presets: { one: { layers: 1, aggregator: 'fake:agg' } },
    defaultPreset: 'one',
  });
  workspace.write('in.jsonl', '{"id":"a","prompt":"hello"}\n{"id":"b","prompt":"there"}\n');
});
afterAll(async () => {
  await new Promise((resolve) => oldRedis?.close(resolve));
  await guarded?.stop();
  await server?.close();
  workspace?.remove();
});

const env = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: workspace.path('cache') });

async function batch(queue: string, ...extra: string[]): Promise<Awaited<ReturnType<typeof runCli>>> {
  return runCli(['batch', '-i', 'in.jsonl', '-o', 'out.jsonl', '--queue', queue, ...extra], { cwd: workspace.dir, env: env() });
}

describe('queue commands: bad input', () => {
  it('an unreachable Redis: exit 2 naming the URL, nothing written, for moa batch, moa worker and moa queue', async () => {
    const url = `redis://127.0.0.1:${await freeLoopbackPort()}`;
    const result = await batch(url);
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`--queue ${url}/0 is not reachable \\(.*ECONNREFUSED.*\\): start redis-server there`));
    expect(existsSync(workspace.path('out.jsonl'))).toBe(false);
    const worker = await runCli(['worker', '--queue', url], { cwd: workspace.dir, env: env() });
    expect(worker.code, describeRun(worker)).toBe(2);
    expect(worker.stderr).toMatch(/is not reachable/);
    const status = await runCli(['queue', 'status', url], { cwd: workspace.dir, env: env() });
    expect(status.code, describeRun(status)).toBe(2);
    expect(status.stderr).toMatch(/is not reachable/);
    expect(server.log).toHaveLength(0);
  }, 60_000);

  it('a wrong URL: exit 2 saying what shape is expected', async () => {
    const notRedis = await batch('http://127.0.0.1:6379');
    expect(notRedis.code, describeRun(notRedis)).toBe(2);
    expect(notRedis.stderr).toMatch(/--queue "http:\/\/127\.0\.0\.1:6379" is not a Redis URL .*expected redis:\/\/HOST:PORT\[\/DB\]/);
    const badDb = await batch('redis://127.0.0.1:6379/queue');
    expect(badDb.code).toBe(2);
    expect(badDb.stderr).toMatch(/the path must be a database number/);
    const worker = await runCli(['worker', '--queue', 'localhost:6379'], { cwd: workspace.dir, env: env() });
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/--queue .*expected redis:\/\/HOST:PORT/);
  }, 60_000);

  it('a server that is not Redis: exit 2', async () => {
    const result = await batch(`redis://127.0.0.1:${server.port}`);
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toMatch(
      new RegExp(`--queue redis://127.0.0.1:${server.port}/0 (closed the connection without a Redis reply|did not answer like a Redis server)`),
    );
    expect(existsSync(workspace.path('out.jsonl'))).toBe(false);
  }, 60_000);

  it('a Redis that needs a password: exit 2 saying how to give it; given in the URL it works and is never shown', async () => {
    const without = await runCli(['queue', 'status', `redis://127.0.0.1:${guarded.port}`], { cwd: workspace.dir, env: env() });
    expect(without.code, describeRun(without)).toBe(2);
    expect(without.stderr).toMatch(/refused the credentials .*redis:\/\/USER:PASSWORD@HOST:PORT/);
    const wrong = await runCli(['queue', 'status', `redis://:not-it@127.0.0.1:${guarded.port}`], { cwd: workspace.dir, env: env() });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).not.toContain('not-it');
    const right = await runCli(['queue', 'status', `redis://:${PASSWORD}@127.0.0.1:${guarded.port}`], { cwd: workspace.dir, env: env() });
    expect(right.code, describeRun(right)).toBe(0);
    expect(right.stdout).toContain(`redis://127.0.0.1:${guarded.port}/0`);
    expect(right.stdout + right.stderr).not.toContain(PASSWORD);
  }, 60_000);

  it('a Redis older than 6.2: exit 2 naming both versions, before anything is enqueued', async () => {
    const result = await batch(`redis://127.0.0.1:${oldRedisPort}`);
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toMatch(/runs Redis 5\.0\.14; the queue needs Redis 6\.2\.0 or newer/);
    expect(existsSync(workspace.path('out.jsonl'))).toBe(false);
    const worker = await runCli(['worker', '--queue', `redis://127.0.0.1:${oldRedisPort}`], { cwd: workspace.dir, env: env() });
    expect(worker.code).toBe(2);
    expect(worker.stderr).toMatch(/needs Redis 6\.2\.0 or newer/);
  }, 60_000);

  it('--concurrency, --traces, --cache and --no-cache with --queue are refused, pointing at moa worker', async () => {
    const cases = [['--concurrency', '4'], ['--traces', 'traces'], ['--cache', 'x.sqlite'], ['--no-cache']];
    const results = await Promise.all(cases.map((flags) => batch('redis://127.0.0.1:6379', ...flags)));
    for (const [index, flags] of cases.entries()) {
      const result = results[index]!;
      expect(result.code, describeRun(result)).toBe(2);
      expect(result.stderr).toContain(`${flags[0]} cannot be used with --queue`);
      expect(result.stderr).toMatch(/moa worker --queue redis:\/\/127\.0\.0\.1:6379/);
    }
  }, 60_000);
});
