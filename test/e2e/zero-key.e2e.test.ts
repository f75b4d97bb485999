// The zero-key default end to end: with no config and no --preset, `moa ask` picks models from what the
// machine has (API keys, then an Ollama server, then the local default model) and says which on stderr.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireTestModel } from '../local/test-model.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { startFakeOllama, type FakeOllamaServer } from '../support/fake-ollama-server.js';
import { assertCliBuilt, cliEnv, describeRun, makeWorkspace, runCli, SECRET, type Workspace } from './run-cli.js';

let openai: FakeLLMServer;
let ollama: FakeOllamaServer;
let workspace: Workspace;

beforeAll(async () => {
  assertCliBuilt();
  openai = await startFakeLLMServer();
  ollama = await startFakeOllama([
    { name: 'llama3.2:3b', size: 2_000_000_000 },
    { name: 'nomic-embed-text:latest', size: 270_000_000 },
    { name: 'qwen2.5:7b', size: 4_700_000_000 },
  ]);
  workspace = makeWorkspace(null); // no moa.config.yaml
});
afterAll(async () => {
  await openai?.close();
  await ollama?.close();
  workspace?.remove();
});

describe('moa ask with no config and no preset', () => {
  it("1. with an API key, mixes that provider's current models and says so", async () => {
    openai.reset();
    const env = cliEnv({ OPENAI_API_KEY: SECRET, OPENAI_BASE_URL: openai.url, OLLAMA_HOST: ollama.host });
    const run = await runCli(['ask', 'What is MoA?'], { cwd: workspace.dir, env });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stderr).toMatch(/default preset for the API keys found \(openai\)/);
    expect(openai.log.map((entry) => entry.model).sort()).toEqual(['gpt-4.1', 'gpt-4.1', 'gpt-4.1-mini']);
    expect(ollama.chats).toHaveLength(0); // keys win: Ollama is not used
    expect(run.stdout).toContain('gpt-4.1');
  });

  it('2. without a key, runs MoA over the models of the Ollama server at OLLAMA_HOST', async () => {
    const before = ollama.chats.length;
    const run = await runCli(['ask', 'What is MoA?'], { cwd: workspace.dir, env: cliEnv({ OLLAMA_HOST: ollama.host }) });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stderr).toMatch(/Ollama server's models: ollama:llama3\.2:3b, ollama:qwen2\.5:7b/);
    const chats = ollama.chats.slice(before);
    expect(chats.map((chat) => chat.model).sort()).toEqual(['llama3.2:3b', 'qwen2.5:7b', 'qwen2.5:7b']);
    // The aggregator (the largest model) streamed its answer to stdout.
    const aggregator = chats.find((chat) => chat.stream);
    expect(aggregator?.model).toBe('qwen2.5:7b');
    expect(aggregator?.messages[0]?.content).toContain('llama3.2:3b says:');
    expect(run.stdout).toContain('qwen2.5:7b says: answer number 3');
  });

  it('3. with neither, and no way to ask, exits 2 with the exact pull command for the default local model', async () => {
    const run = await runCli(['ask', 'What is MoA?'], { cwd: workspace.dir, env: cliEnv() });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toMatch(/Self-MoA on the local model qwen2\.5-1\.5b-instruct-q4_k_m\.gguf/);
    expect(run.stderr).toContain('moa pull hf:Qwen/Qwen2.5-1.5B-Instruct-GGUF/qwen2.5-1.5b-instruct-q4_k_m.gguf');
    expect(run.stderr).toMatch(/--yes \(or MOA_YES=1\)/);
    expect(run.stdout).toBe('');
  });

  it('moa presets shows the detected default first and self-moa bound to the same machine', async () => {
    const run = await runCli(['presets', '--json'], { cwd: workspace.dir, env: cliEnv({ OLLAMA_HOST: ollama.host }) });
    expect(run.code, describeRun(run)).toBe(0);
    const rows = JSON.parse(run.stdout) as Array<{ name: string; source: string; default: boolean; layers: Array<{ models: string[] }> }>;
    expect(rows[0]).toMatchObject({ name: 'default', source: 'detected: ollama', default: true });
    const selfMoA = rows.find((row) => row.name === 'self-moa');
    expect(selfMoA?.layers.map((layer) => layer.models)).toEqual([Array(4).fill('ollama:qwen2.5:7b'), ['ollama:qwen2.5:7b']]);
  });
});

describe('moa ask with nothing on the machine, and --yes', () => {
  it('downloads the default local model (from HF_ENDPOINT) and answers with Self-MoA on it', async () => {
    // The tiny real GGUF stands in for the default model's file: this tests the plumbing, not answers.
    const model = readFileSync(requireTestModel());
    const requests: string[] = [];
    const hub = createServer((request, response) => {
      requests.push(request.url ?? '');
      response.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': model.length });
      response.end(model);
    });
    await new Promise<void>((resolve) => hub.listen(0, '127.0.0.1', resolve));
    const modelsDir = mkdtempSync(join(tmpdir(), 'moa-zero-key-models-'));
    try {
      const env = cliEnv({ HF_ENDPOINT: `http://127.0.0.1:${(hub.address() as AddressInfo).port}`, MOA_MODELS_DIR: modelsDir });
      const run = await runCli(['ask', '--yes', '--max-tokens', '24', '--json', 'Once upon a time'], { cwd: workspace.dir, env, timeoutMs: 60_000 });
      expect(run.code, describeRun(run)).toBe(0);
      expect(requests).toEqual(['/Qwen/Qwen2.5-1.5B-Instruct-GGUF/resolve/main/qwen2.5-1.5b-instruct-q4_k_m.gguf']);
      expect(readFileSync(join(modelsDir, 'qwen2.5-1.5b-instruct-q4_k_m.gguf')).equals(model)).toBe(true);
      const result = JSON.parse(run.stdout) as { status: string; text: string; layers: Array<{ agents: Array<{ model: string; status: string }> }> };
      expect(result.status).toBe('done');
      expect(result.text.trim()).not.toBe('');
      expect(result.layers.map((layer) => layer.agents.map((agent) => agent.status))).toEqual([['done', 'done', 'done', 'done'], ['done']]);
      // Now it is on disk: a second run needs neither --yes nor the network.
      const again = await runCli(['ask', '--max-tokens', '16', 'Once upon a time'], { cwd: workspace.dir, env, timeoutMs: 60_000 });
      expect(again.code, describeRun(again)).toBe(0);
      expect(requests).toHaveLength(1);
    } finally {
      await new Promise<void>((resolve) => hub.close(() => resolve()));
      rmSync(modelsDir, { recursive: true, force: true });
    }
  });
});
