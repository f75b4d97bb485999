// The built `moa serve` as a child process: URL on stderr, SIGTERM drains, warnings, auth from MOA_API_KEY.
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertCliBuilt, CLI_PATH, cliEnv, fakeProvider, makeWorkspace, SECRET, type Workspace } from '../e2e/run-cli.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';

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
  child.stderr!.setEncoding('utf8');
  child.stdout!.resume();
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const killer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  void exited.then(() => clearTimeout(killer));
  const url = await new Promise<string>((resolve, reject) => {
    child.stderr!.on('data', (text: string) => {
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

describe('moa serve', () => {
  it('on SIGTERM stops accepting, lets the run in flight finish, then exits 0', async () => {
    fake.setBehavior('aggregator', { delayMs: 800, text: 'finished after the signal' });
    const served = await serve([]);
    const request = fetch(`${served.url}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    await until(() => fake.log.some((entry) => entry.model === 'aggregator' && entry.outcome === 'pending'), 'the aggregator call');
    served.child.kill('SIGTERM');
    await until(() => served.stderr().includes('SIGTERM'), 'the drain message');
    const refused = await fetch(`${served.url}/healthz`).then(
      (response) => response.status,
      () => 'refused',
    );
    expect(refused === 'refused' || refused === 503).toBe(true);

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
        const child = spawn(process.execPath, [CLI_PATH, 'serve', '--port', '0'], { cwd: bare.dir, env: cliEnv({ GROQ_API_KEY: SECRET }), stdio: ['ignore', 'ignore', 'pipe'] });
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
        const models = (await (await fetch(`${url}/v1/models`)).json()) as { data: Array<{ id: string; moa: { default?: boolean; layers: Array<{ models: string[] }> } }> };
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
