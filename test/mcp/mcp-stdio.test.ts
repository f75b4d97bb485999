// `moa mcp`: the built CLI started by the official MCP client over stdio (as Claude Desktop,
// Claude Code or Cursor start it), with a config whose presets run on the fake LLM server.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { assertCliBuilt, CLI_PATH, cliEnv, fakeProvider, makeWorkspace, SECRET, type Workspace } from '../e2e/run-cli.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';

let fake: FakeLLMServer;
let workspace: Workspace;

beforeAll(async () => {
  assertCliBuilt();
  fake = await startFakeLLMServer();
  workspace = makeWorkspace({
    providers: fakeProvider(fake.url),
    presets: { duo: { layers: 2, proposers: ['fake:proposer-a', 'fake:proposer-b'], aggregator: 'fake:aggregator' } },
    defaultPreset: 'duo',
  });
});
beforeEach(() => {
  fake.reset();
  fake.setDefaultBehavior({ tokens: 6 });
});
afterAll(async () => {
  await fake?.close();
  workspace?.remove();
});

function start(): { client: Client; transport: StdioClientTransport; stderr: () => string } {
  const transport = new StdioClientTransport({ command: process.execPath, args: [CLI_PATH, 'mcp'], cwd: workspace.dir, env: cliEnv(), stderr: 'pipe' });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  return { client: new Client({ name: 'moa-stdio-test', version: '1.0.0' }), transport, stderr: () => stderr };
}

describe('moa mcp (stdio)', () => {
  it('serves moa_ask and moa_presets to an MCP client, with progress, and exits when the client closes', async () => {
    const { client, transport, stderr } = start();
    await client.connect(transport);
    expect((await client.listTools()).tools.map((tool) => tool.name).sort()).toEqual(['moa_ask', 'moa_presets']);

    fake.setBehavior('aggregator', { text: 'An answer from three models.' });
    const progress: Progress[] = [];
    const result = await client.callTool({ name: 'moa_ask', arguments: { question: 'What is MoA?' } }, undefined, { onprogress: (update) => progress.push(update) });
    expect(result.content).toEqual([{ type: 'text', text: 'An answer from three models.' }]);
    expect(result.structuredContent).toMatchObject({ preset: 'duo', answer: 'An answer from three models.', cost_usd: null });
    expect(progress.map((update) => update.progress)).toEqual([1, 2, 3]);
    expect(fake.log.map((entry) => entry.model).sort()).toEqual(['aggregator', 'proposer-a', 'proposer-b']);
    expect(fake.log.every((entry) => entry.authorization === `Bearer ${SECRET}`)).toBe(true);

    const presets = await client.callTool({ name: 'moa_presets', arguments: {} });
    expect(JSON.stringify(presets.structuredContent)).toContain('"name":"duo","default":true');

    const pid = transport.pid!;
    await client.close();
    const deadline = Date.now() + 10_000;
    const alive = (): boolean => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    while (alive()) {
      if (Date.now() > deadline) throw new Error(`moa mcp (pid ${pid}) still running after its client closed; stderr:\n${stderr()}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(stderr()).toContain('moa mcp: serving');
    expect(stderr()).not.toContain(SECRET);
  });
});
