// The official MCP client over Streamable HTTP against /mcp on moa serve: the tools, structured
// answers with per-agent status, usage and cost, progress as agents finish, tool errors, auth,
// the browser checks, and a client that goes away cancelling the run.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { afterEach, describe, expect, it } from 'vitest';
import { useServerSuite } from '../server/server-suite.js';

const API_KEY = 'moa-mcp-key-123456';
const suite = useServerSuite({
  apiKey: API_KEY,
  prices: { 'fake:proposer-a': { input: 1, output: 2 }, 'fake:proposer-b': { input: 1, output: 2 }, 'fake:aggregator': { input: 3, output: 4 } },
  presets: { unkeyed: { aggregator: 'openai:gpt-4o' } },
});

const clients: Client[] = [];
async function connect(key = API_KEY): Promise<Client> {
  const client = new Client({ name: 'moa-test', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(`${suite.url}/mcp`), { requestInit: { headers: { Authorization: `Bearer ${key}` } } });
  await client.connect(transport);
  clients.push(client);
  return client;
}
afterEach(async () => {
  for (const client of clients.splice(0)) await client.close();
});

interface AskSummary {
  answer: string;
  preset: string;
  usage: { input_tokens: number; output_tokens: number };
  cost_usd: number | null;
  agents: Array<{ layer: number; model: string; status: string; aggregator: boolean; usage: { input_tokens: number; output_tokens: number }; cost_usd: number | null }>;
  warnings: string[];
}

describe('MCP over Streamable HTTP (/mcp)', () => {
  it('lists moa_ask and moa_presets with their input schemas', async () => {
    const client = await connect();
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toEqual(['moa_ask', 'moa_presets']);
    const ask = tools.find((tool) => tool.name === 'moa_ask')!;
    expect(ask.inputSchema.required).toEqual(['question']);
    expect(Object.keys(ask.inputSchema.properties ?? {}).sort()).toEqual(['preset', 'question']);
    expect(ask.outputSchema).toBeDefined();
  });

  it('moa_ask answers with the text, and structured per-agent status, usage and cost; progress as each agent finishes', async () => {
    suite.fake.setBehavior('aggregator', { text: 'Rayleigh scattering.' });
    const client = await connect();
    const progress: Progress[] = [];
    const result = await client.callTool({ name: 'moa_ask', arguments: { question: 'Why is the sky blue?' } }, undefined, {
      onprogress: (update) => progress.push(update),
    });
    expect(result.isError).toBeFalsy();
    expect(result.content).toEqual([{ type: 'text', text: 'Rayleigh scattering.' }]);
    const summary = result.structuredContent as AskSummary;
    expect(summary).toMatchObject({ answer: 'Rayleigh scattering.', preset: 'duo', warnings: [], degraded: [] });
    expect(summary.agents.map((agent) => [agent.layer, agent.model, agent.status, agent.aggregator])).toEqual([
      [0, 'fake:proposer-a', 'done', false],
      [0, 'fake:proposer-b', 'done', false],
      [1, 'fake:aggregator', 'done', true],
    ]);
    const expectedCost = summary.agents.reduce((sum, agent) => {
      const [input, output] = agent.aggregator ? [3, 4] : [1, 2];
      return sum + (agent.usage.input_tokens * input + agent.usage.output_tokens * output) / 1_000_000;
    }, 0);
    expect(summary.cost_usd).toBeCloseTo(expectedCost, 10);
    expect(summary.usage.output_tokens).toBe(8 + 8 + 2);
    // One notification per finished agent: the two proposers, then the aggregator.
    expect(progress.map((update) => [update.progress, update.total])).toEqual([
      [1, 3],
      [2, 3],
      [3, 3],
    ]);
    expect(progress[2]!.message).toBe('layer 2/2: fake:aggregator done');
  });

  it('moa_ask says what was degraded: a proposer that failed is named, the answer still comes', async () => {
    suite.fake.setBehavior('proposer-b', { alwaysFail: { status: 400, message: 'proposer b refused' } });
    suite.fake.setBehavior('aggregator', { text: 'Made from one reference.' });
    const client = await connect();
    const result = await client.callTool({ name: 'moa_ask', arguments: { question: 'Hi' } });
    expect(result.isError).toBeFalsy();
    const summary = result.structuredContent as AskSummary & { degraded: Array<Record<string, unknown>> };
    expect(summary.answer).toBe('Made from one reference.');
    expect(summary.degraded).toEqual([{ layer: 0, agent: 1, model: 'fake:proposer-b', reason: 'failed', message: expect.stringContaining('proposer b refused') }]);
    expect(summary.agents[1]).toMatchObject({ model: 'fake:proposer-b', status: 'failed' });
  });

  it('moa_ask runs the preset it is given; an unknown preset or a failed run is a tool error with the reason', async () => {
    const client = await connect();
    const solo = await client.callTool({ name: 'moa_ask', arguments: { question: 'Hi', preset: 'solo' } });
    expect((solo.structuredContent as AskSummary).agents).toHaveLength(1);
    const unknown = await client.callTool({ name: 'moa_ask', arguments: { question: 'Hi', preset: 'nope' } });
    expect(unknown.isError).toBe(true);
    expect(unknown.content).toEqual([{ type: 'text', text: expect.stringContaining('No preset "nope" on this server: the presets are duo, solo') }]);
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 400, message: 'upstream says no' } });
    const failed = await client.callTool({ name: 'moa_ask', arguments: { question: 'Hi', preset: 'solo' } });
    expect(failed.isError).toBe(true);
    expect(failed.content).toEqual([{ type: 'text', text: expect.stringContaining('upstream says no') }]);
  });

  it('moa_presets lists the presets, the default, and why one cannot run here', async () => {
    const client = await connect();
    const result = await client.callTool({ name: 'moa_presets', arguments: {} });
    const { presets } = result.structuredContent as { presets: Array<{ name: string; default: boolean; available: boolean; reason?: string; layers: string[][] }> };
    expect(presets.find((preset) => preset.name === 'duo')).toEqual({
      name: 'duo',
      default: true,
      available: true,
      layers: [['fake:proposer-a', 'fake:proposer-b'], ['fake:aggregator']],
    });
    const unkeyed = presets.find((preset) => preset.name === 'unkeyed')!;
    expect(unkeyed.available).toBe(false);
    expect(unkeyed.reason).toContain('OPENAI_API_KEY');
  });

  it('cancels the run when the client goes away mid-call', async () => {
    suite.fake.setBehavior('proposer-a', { hang: true });
    suite.fake.setBehavior('proposer-b', { hang: true });
    const client = await connect();
    const call = client.callTool({ name: 'moa_ask', arguments: { question: 'Hi' } }).catch((error: unknown) => error);
    const deadline = Date.now() + 5_000;
    while (suite.fake.log.filter((entry) => entry.outcome === 'pending').length < 2) {
      if (Date.now() > deadline) throw new Error('the proposer calls did not start');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await client.close();
    await call;
    await suite.fake.waitForIdle(5_000);
    expect(suite.fake.log.map((entry) => entry.outcome)).toEqual(['aborted', 'aborted']);
  });

  it('needs the API key, and refuses other origins and GET, before anything runs', async () => {
    const initialize = JSON.stringify({
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'raw', version: '1' } },
    });
    const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
    const noKey = await fetch(`${suite.url}/mcp`, { method: 'POST', headers, body: initialize });
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get('x-should-retry')).toBe('false');
    const withKey = { ...headers, authorization: `Bearer ${API_KEY}` };
    const otherOrigin = await fetch(`${suite.url}/mcp`, { method: 'POST', headers: { ...withKey, origin: 'https://evil.example' }, body: initialize });
    expect(otherOrigin.status).toBe(403);
    const notJson = await fetch(`${suite.url}/mcp`, { method: 'POST', headers: { ...withKey, 'content-type': 'text/plain' }, body: initialize });
    expect(notJson.status).toBe(415);
    const get = await fetch(`${suite.url}/mcp`, { headers: withKey });
    expect(get.status).toBe(405);
    const ok = await fetch(`${suite.url}/mcp`, { method: 'POST', headers: withKey, body: initialize });
    expect(ok.status).toBe(200);
    await ok.text();
    expect(suite.fake.log).toHaveLength(0);
  });
});
