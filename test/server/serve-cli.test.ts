// The built `moa serve` as a child process: URL on stderr, SIGTERM drains (/healthz says so), a second
// signal stops at once, warnings, auth from MOA_API_KEY, --allowed-hosts, and one-line exits (2) for a
// port in use or a bad --host.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertCliBuilt, CLI_PATH, cliEnv, fakeProvider, makeWorkspace, SECRET, type Workspace } from '../e2e/run-cli.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { rawRequest } from './raw-http.js';

let fake: FakeLLMServer;
let workspace: Workspace;
/** Every `moa serve` this file started: none may outlive it, even when a test fails midway. */
const children = new Set<ChildProcess>();

beforeAll(async () => {
  assertCliBuilt();
  fake = await startFakeLLMServer();
  workspace = makeWorkspace({
    providers: fakeProvider(fake.url),
    presets: { duo: { layers: 2, proposers: ['fake:proposer-a', 'fake:proposer-b'], aggregator: 'fake:aggregator' } },
    defaultPreset: 'duo',
  });
});
beforeEach(() => fake.reset());
afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  await fake?.close();
  workspace?.remove();
});

interface Served {
  child: ChildProcess;
  url: string;
  stderr: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Spawn `moa serve --port 0 ...` and wait for the URL it prints on stderr. */
async function serve(args: string[], env: Record<string, string> = cliEnv()): Promise<Served> {
  const child = spawn(process.execPath, [CLI_PATH, 'serve', '--port', '0', ...args], { cwd: workspace.dir, env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stdout.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  void exited.then(() => clearTimeout(killer));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr.on('data', (text: string) => {
      stderr += text;
      const match = /on (http:\/\/\S+?) [^]*live view: \S+\n/.exec(stderr);
      if (match) resolve(match[1]!);
    });
    void exited.then(({ code }) => reject(new Error(`moa serve exited (${String(code)}) before listening:\n${stderr}`)));
  });
  return { child, url, stderr: () => stderr, exited };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

const body = JSON.stringify({ model: 'duo', messages: [{ role: 'user', content: 'hello' }] });

/** Run `moa serve ARGS` that must exit before listening: its exit code and stderr. */
async function serveFails(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [CLI_PATH, 'serve', ...args], { cwd: workspace.dir, env: cliEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  clearTimeout(killer);
  return { code, stderr };
}

describe('moa serve', () => {
  it('on SIGTERM stops accepting, lets the run in flight finish, then exits 0', async () => {
    fake.setBehavior('aggregator', { delayMs: 800, text: 'finished after the signal' });
    const served = await serve([]);
    const request = fetch(`${served.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await until(() => fake.log.some((entry) => entry.model === 'aggregator' && entry.outcome === 'pending'), 'the aggregator call');
    served.child.kill('SIGTERM');
    await until(() => served.stderr().includes('SIGTERM'), 'the drain message');
    // Still listening while it drains: a load balancer hears "draining", a new request a 503 it can retry elsewhere.
    const health = await fetch(`${served.url}/healthz`);
    expect(health.status).toBe(503);
    expect(await health.json()).toEqual({ status: 'draining', active_runs: 1 });
    const late = await fetch(`${served.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(late.status).toBe(503);
    expect(((await late.json()) as { error: { code: string } }).error.code).toBe('server_shutting_down');

    const response = await request;
    expect(response.status).toBe(200);
    const completion = (await response.json()) as { choices: Array<{ message: { content: string } }> };
    expect(completion.choices[0]!.message.content).toBe('finished after the signal');
    const { code } = await served.exited;
    expect(code, served.stderr()).toBe(0);
    expect(served.stderr()).toContain('every run finished');
    expect(served.stderr()).not.toContain(SECRET);
  });

  it('cancels runs still in flight after --drain-timeout, answers 503, and exits 0', async () => {
    fake.setBehavior('aggregator', { hang: true });
    const served = await serve(['--drain-timeout', '200']);
    const request = fetch(`${served.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await until(() => fake.log.some((entry) => entry.model === 'aggregator' && entry.outcome === 'pending'), 'the aggregator call');
    served.child.kill('SIGTERM');
    const response = await request;
    expect(response.status).toBe(503);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('server_shutting_down');
    const { code } = await served.exited;
    expect(code, served.stderr()).toBe(0);
    expect(served.stderr()).toContain('drain timeout');
    await fake.waitForIdle();
    expect(fake.log.filter((entry) => entry.model === 'aggregator').map((entry) => entry.outcome)).toEqual(['aborted']);
  });

  it('stops at once on a second SIGTERM during the drain, exiting non-zero and saying how many runs it dropped', async () => {
    fake.setBehavior('aggregator', { hang: true });
    const served = await serve(['--drain-timeout', '60000']);
    const request = fetch(`${served.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body }).then(
      (response) => response.status,
      () => 'connection closed',
    );
    await until(() => fake.log.some((entry) => entry.model === 'aggregator' && entry.outcome === 'pending'), 'the aggregator call');
    served.child.kill('SIGTERM');
    await until(() => served.stderr().includes('waiting up to 60000 ms'), 'the drain message');
    served.child.kill('SIGTERM');
    const { code, signal } = await served.exited;
    expect(signal).toBeNull();
    expect(code, served.stderr()).toBe(143); // 128 + SIGTERM
    expect(served.stderr()).toContain('SIGTERM again: stopping now, dropping 1 run(s) still in flight');
    expect(served.stderr()).not.toContain('bye');
    expect(await request).toBe('connection closed');
  });

  it('answers to the names given with --allowed-hosts, and to no other DNS name', async () => {
    const served = await serve(['--allowed-hosts', 'moa.example.test,.lan.test']);
    for (const [host, status] of [
      ['moa.example.test', 200],
      ['box.lan.test', 200],
      ['localhost', 200],
      ['rebind.example', 403],
    ] as const) {
      expect((await rawRequest(served.url, { path: '/v1/models', headers: { host } })).status, host).toBe(status);
    }
    served.child.kill('SIGTERM');
    expect((await served.exited).code).toBe(0);
    const bad = await serveFails(['--port', '0', '--allowed-hosts', 'http://moa.example.test']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"http://moa.example.test" is not a host name');
  });

  it('exits 2 with one line when the port is in use', async () => {
    const squatter = createServer();
    await new Promise<void>((resolve) => squatter.listen(0, '127.0.0.1', resolve));
    const port = (squatter.address() as AddressInfo).port;
    try {
      const { code, stderr } = await serveFails(['--port', String(port)]);
      expect(code, stderr).toBe(2);
      expect(stderr).toBe(`moa: port ${port} is in use: pick another with --port\n`);
    } finally {
      await new Promise<void>((resolve) => squatter.close(() => resolve()));
    }
  });

  it('exits 2 with one line for a --host that is not an address of this machine, or not a host at all', async () => {
    // A documentation address (TEST-NET-2) this machine does not have: binding fails locally, nothing is sent.
    const own = new Set(
      Object.values(networkInterfaces())
        .flatMap((entries) => entries ?? [])
        .map((entry) => entry.address),
    );
    const foreign = ['198.51.100.77', '198.51.100.78'].find((address) => !own.has(address))!;
    const notMine = await serveFails(['--port', '0', '--host', foreign]);
    expect(notMine.code, notMine.stderr).toBe(2);
    expect(notMine.stderr.split('\n')).toHaveLength(2); // one line, then the final newline
    expect(notMine.stderr).toContain(`moa: --host ${foreign} is not an address of this machine (its addresses: `);
    expect(notMine.stderr).toContain('127.0.0.1');
    for (const host of ['http://localhost', '127.0.0.1:8787']) {
      const bad = await serveFails(['--port', '0', '--host', host]);
      expect(bad.code, bad.stderr).toBe(2);
      expect(bad.stderr).toBe(
        `moa: --host "${host}" is not an IP address or a host name: give just the address to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)\n`,
      );
    }
  });

  it('warns when it listens beyond loopback without MOA_API_KEY', async () => {
    const open = await serve(['--host', '0.0.0.0']);
    expect(open.stderr()).toMatch(/warning: listening on 0\.0\.0\.0.*without MOA_API_KEY/);
    open.child.kill('SIGTERM');
    expect((await open.exited).code).toBe(0);

    const keyed = await serve(['--host', '0.0.0.0'], cliEnv({ MOA_API_KEY: 'serve-key-abcdef' }));
    expect(keyed.stderr()).not.toContain('warning');
    const port = new URL(keyed.url).port;
    const denied = await fetch(`http://127.0.0.1:${port}/v1/models`);
    expect(denied.status).toBe(401);
    const allowed = await fetch(`http://127.0.0.1:${port}/v1/models`, { headers: { authorization: 'Bearer serve-key-abcdef' } });
    expect(allowed.status).toBe(200);
    expect(((await allowed.json()) as { data: Array<{ id: string }> }).data[0]!.id).toBe('duo');
    keyed.child.kill('SIGTERM');
    expect((await keyed.exited).code).toBe(0);
  });

  it('exits 2 naming the problem for a missing config file', async () => {
    const child = spawn(process.execPath, [CLI_PATH, 'serve', '--port', '0', '--config', 'nope.yaml'], { cwd: workspace.dir, env: cliEnv() });
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('Config file not found');
  });

  describe('with no config (the zero-key default)', () => {
    it('with an API key, lists the default built from it first and says so', async () => {
      const bare = makeWorkspace(null);
      try {
        const child = spawn(process.execPath, [CLI_PATH, 'serve', '--port', '0'], {
          cwd: bare.dir,
          env: cliEnv({ GROQ_API_KEY: SECRET }),
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        children.add(child);
        let stderr = '';
        child.stderr.setEncoding('utf8');
        const url = await new Promise<string>((resolve, reject) => {
          child.stderr.on('data', (text: string) => {
            stderr += text;
            const match = /on (http:\/\/\S+?) [^]*live view: \S+\n/.exec(stderr);
            if (match) resolve(match[1]!);
          });
          child.on('close', (code) => reject(new Error(`moa serve exited (${String(code)}):\n${stderr}`)));
        });
        expect(stderr).toMatch(/default preset for the API keys found \(groq\)/);
        const models = (await (await fetch(`${url}/v1/models`)).json()) as {
          data: Array<{ id: string; moa: { default?: boolean; layers: Array<{ models: string[] }> } }>;
        };
        expect(models.data[0]).toMatchObject({ id: 'default', moa: { default: true } });
        expect(models.data[0]!.moa.layers[0]!.models.every((model) => model.startsWith('groq:'))).toBe(true);
        expect(stderr).not.toContain(SECRET);
        child.kill('SIGTERM');
        expect(await new Promise((resolve) => child.on('close', resolve))).toBe(0);
      } finally {
        bare.remove();
      }
    });

    it('with nothing on the machine and no --yes, exits 2 with the pull command instead of listening', async () => {
      const bare = makeWorkspace(null);
      try {
        const child = spawn(process.execPath, [CLI_PATH, 'serve', '--port', '0'], { cwd: bare.dir, env: cliEnv() });
        children.add(child);
        let stderr = '';
        child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
        const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
        expect(code, stderr).toBe(2);
        expect(stderr).toContain('moa pull hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF/qwen2.5-1.5b-instruct-q4_k_m.gguf');
        expect(stderr).not.toContain('live view');
      } finally {
        bare.remove();
      }
    });
  });
});
