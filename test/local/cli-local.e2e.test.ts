// The built `moa` CLI with local GGUF models end to end (a real model, no network), and
// `moa pull` against a local HTTP server: download, interruption + resume, checksum
// mismatch, hf: refs through HF_ENDPOINT, Ctrl-C.
import { createHash } from 'node:crypto';
import { createServer as createNetServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertCliBuilt, cliEnv, describeRun, runCli } from '../e2e/run-cli.js';
import { startModelFileServer, type ModelFileServer } from './model-file-server.js';
import { requireTestModel } from './test-model.js';

const modelPath = requireTestModel();
let workspace: string;
let modelsFolder: string;

beforeAll(() => {
  assertCliBuilt();
  workspace = mkdtempSync(join(tmpdir(), 'moa-local-e2e-'));
  modelsFolder = join(workspace, 'models');
  mkdirSync(modelsFolder);
  // A link, not a copy: model files never go into the project tree.
  symlinkSync(modelPath, join(modelsFolder, 'stories.gguf'));
});
afterAll(() => {
  rmSync(workspace, { recursive: true, force: true });
});

function env(extra: Record<string, string> = {}): Record<string, string> {
  return cliEnv({ MOA_MODELS_DIR: modelsFolder, ...extra });
}

interface AgentJson {
  model: string;
  text?: string;
  status: string;
  usage: { inputTokens: number; outputTokens: number };
}

describe('moa ask with local models', () => {
  it('runs the whole MoA pipeline on one local model: three proposers and the aggregator (JSON result)', async () => {
    const model = `local:${modelPath}`;
    const result = await runCli(
      ['ask', '--proposers', `${model},${model},${model}`, '--aggregator', model, '--layers', '2', '--max-tokens', '24', '--json', 'Once upon a time'],
      { cwd: workspace, env: env(), timeoutMs: 60_000 },
    );
    expect(result.code, describeRun(result)).toBe(0);
    const json = JSON.parse(result.stdout) as { text: string; layers: Array<{ agents: AgentJson[] }>; usage: { outputTokens: number } };
    expect(json.layers).toHaveLength(2);
    const proposers = json.layers[0]!.agents;
    expect(proposers).toHaveLength(3);
    for (const agent of proposers) {
      expect(agent.status).toBe('done');
      expect(agent.model).toBe(model);
      expect(agent.text?.trim()).toBeTruthy();
      expect(agent.usage.inputTokens).toBeGreaterThan(0);
      expect(agent.usage.outputTokens).toBeGreaterThan(0);
      expect(agent.usage.outputTokens).toBeLessThanOrEqual(24);
    }
    const aggregator = json.layers[1]!.agents[0]!;
    expect(aggregator.status).toBe('done');
    // The aggregator's prompt carries the three answers: it reads more tokens than a proposer.
    expect(aggregator.usage.inputTokens).toBeGreaterThan(Math.max(...proposers.map((agent) => agent.usage.inputTokens)));
    expect(json.text.trim()).toBe(aggregator.text?.trim());
  });

  it('streams the answer for a bare model name from MOA_MODELS_DIR, noting the missing chat template once', async () => {
    const result = await runCli(
      ['ask', '--proposers', 'local:stories,local:stories.gguf', '--aggregator', 'local:stories', '--layers', '2', '--max-tokens', '16', 'A little dog'],
      {
        cwd: workspace,
        env: env(),
        timeoutMs: 60_000,
      },
    );
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stdout.trim().length).toBeGreaterThan(0);
    expect(result.stderr.match(/has no chat template/g)).toHaveLength(1);
  });

  it('a missing model file is a usage error (exit 2) naming the file, the models folder and moa pull', async () => {
    const result = await runCli(['ask', '--proposers', 'local:absent-model.gguf', '--aggregator', 'local:absent-model.gguf', 'Hi'], { cwd: workspace, env: env() });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain(join(modelsFolder, 'absent-model.gguf'));
    expect(result.stderr).toContain('moa pull');
    expect(result.stderr).toContain('MOA_MODELS_DIR');
  });

  it('a file that is not GGUF is a usage error (exit 2) naming the file', async () => {
    const bogus = join(workspace, 'model.bin');
    writeFileSync(bogus, 'PK\u0003\u0004 this is a zip, not a model');
    const result = await runCli(['ask', '--proposers', `local:${bogus}`, '--aggregator', `local:${bogus}`, 'Hi'], { cwd: workspace, env: env() });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain(`${bogus} is not a GGUF file`);
  });
});

describe('moa pull', () => {
  let server: ModelFileServer;
  let pullDir: string;
  beforeAll(async () => {
    server = await startModelFileServer(512 * 1024);
  });
  afterAll(async () => {
    await server?.close();
  });
  beforeEach(() => {
    pullDir = mkdtempSync(join(workspace, 'pull-'));
    server.mode = 'normal';
    server.requests.length = 0;
  });

  const sha256Of = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

  it('downloads into MOA_MODELS_DIR and prints the path (--json: path, bytes, sha256, model name)', async () => {
    const result = await runCli(['pull', `${server.url}/files/model.gguf`, '--name', 'tiny', '--json'], { cwd: workspace, env: env({ MOA_MODELS_DIR: pullDir }) });
    expect(result.code, describeRun(result)).toBe(0);
    const json = JSON.parse(result.stdout) as { path: string; bytes: number; sha256: string; model: string };
    expect(json.path).toBe(join(pullDir, 'tiny.gguf'));
    expect(json.bytes).toBe(server.payload.length);
    expect(json.sha256).toBe(server.sha256);
    expect(json.model).toBe('local:tiny.gguf');
    expect(sha256Of(json.path)).toBe(server.sha256);
    expect(readdirSync(pullDir)).toEqual(['tiny.gguf']);
  });

  it('prints plain progress lines when stderr is not a terminal', async () => {
    const result = await runCli(['pull', `${server.url}/files/model.gguf`], { cwd: workspace, env: env({ MOA_MODELS_DIR: pullDir }) });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stderr).toMatch(/moa pull: model\.gguf 100% \(512\.0 KB of 512\.0 KB\)/);
    expect(result.stderr).not.toContain('\r');
    expect(result.stdout.trim()).toBe(join(pullDir, 'model.gguf'));
  });

  it('an interrupted download exits 1 keeping only the .part; the next pull resumes it with a Range request', async () => {
    server.mode = 'always-cut';
    const first = await runCli(['pull', `${server.url}/files/model.gguf`, '--retries', '0'], { cwd: workspace, env: env({ MOA_MODELS_DIR: pullDir }) });
    expect(first.code, describeRun(first)).toBe(1);
    expect(first.stderr).toMatch(/interrupted at \d+ of 524288 bytes/);
    expect(readdirSync(pullDir)).toEqual(['model.gguf.part']);
    const partial = statSync(join(pullDir, 'model.gguf.part')).size;

    server.mode = 'normal';
    server.requests.length = 0;
    const second = await runCli(['pull', `${server.url}/files/model.gguf`], { cwd: workspace, env: env({ MOA_MODELS_DIR: pullDir }) });
    expect(second.code, describeRun(second)).toBe(0);
    expect(server.requests.map((request) => request.range)).toEqual([`bytes=${partial}-`]);
    expect(second.stderr).toContain('resuming');
    expect(sha256Of(join(pullDir, 'model.gguf'))).toBe(server.sha256);
    expect(readdirSync(pullDir)).toEqual(['model.gguf']);
  });

  it('a checksum mismatch exits 1 and leaves no file under the final name', async () => {
    const result = await runCli(['pull', `${server.url}/files/model.gguf`, '--sha256', 'b'.repeat(64)], { cwd: workspace, env: env({ MOA_MODELS_DIR: pullDir }) });
    expect(result.code, describeRun(result)).toBe(1);
    expect(result.stderr).toContain(`expected ${'b'.repeat(64)}`);
    expect(existsSync(join(pullDir, 'model.gguf'))).toBe(false);
    expect(readdirSync(pullDir)).toEqual([]);
  });

  it('pulls hf: refs from HF_ENDPOINT', async () => {
    const result = await runCli(['pull', 'hf:acme/tiny-GGUF/tiny.gguf'], { cwd: workspace, env: env({ MOA_MODELS_DIR: pullDir, HF_ENDPOINT: server.url }) });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stderr).toContain('(verified)');
    expect(server.requests[0]?.path).toBe('/acme/tiny-GGUF/resolve/main/tiny.gguf');
    expect(sha256Of(join(pullDir, 'tiny.gguf'))).toBe(server.sha256);
  });

  it('an unreachable host exits 1 saying why, and for hf: refs how to use a mirror (HF_ENDPOINT)', async () => {
    const listener = createNetServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const { port } = listener.address() as { port: number };
    await new Promise<void>((resolve) => listener.close(() => resolve()));
    const result = await runCli(['pull', 'hf:acme/tiny-GGUF/tiny.gguf', '--retries', '0'], {
      cwd: workspace,
      env: env({ MOA_MODELS_DIR: pullDir, HF_ENDPOINT: `http://127.0.0.1:${port}` }),
    });
    expect(result.code, describeRun(result)).toBe(1);
    expect(result.stderr).toContain(`the connection to 127.0.0.1:${port} was refused (ECONNREFUSED): nothing is listening there`);
    expect(result.stderr).toContain('HF_ENDPOINT');
    expect(result.stderr).not.toContain('fetch failed');
    expect(readdirSync(pullDir)).toEqual([]);
  });

  it('a bad ref is a usage error (exit 2)', async () => {
    const result = await runCli(['pull', 'hf:just-a-user'], { cwd: workspace, env: env({ MOA_MODELS_DIR: pullDir }) });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain('hf:<user>/<repo>/<file>.gguf');
  });

  it('Ctrl-C exits 130 and keeps the .part for resuming', async () => {
    server.mode = 'stall';
    const result = await runCli(['pull', `${server.url}/files/model.gguf`], {
      cwd: workspace,
      env: env({ MOA_MODELS_DIR: pullDir }),
      onSpawn: (child) => {
        let seen = '';
        let interrupted = false;
        child.stderr?.on('data', (text: Buffer | string) => {
          seen += String(text);
          // the first progress line past 0% means bytes are on disk; one Ctrl-C only
          if (!interrupted && /model\.gguf [1-9]0%/.test(seen)) {
            interrupted = true;
            child.kill('SIGINT');
          }
        });
      },
    });
    expect(result.code, describeRun(result)).toBe(130);
    expect(result.stderr).toContain('Run the same command again to resume');
    expect(readdirSync(pullDir)).toEqual(['model.gguf.part']);
    expect(statSync(join(pullDir, 'model.gguf.part')).size).toBeGreaterThan(0);
  });
});
