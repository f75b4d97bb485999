// The library over real HTTP: each OpenAI-style provider type against the fake server,
// generate and stream, usage counted, concurrency limits and cancellation honoured.
import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runMoA, streamMoA, MoARunError } from '../../src/index.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';

let server: FakeLLMServer;
const env = { LAB_KEY: 'sk-lab-0123456789' };

beforeAll(async () => {
  server = await startFakeLLMServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => server.reset());

describe.each(['openai-compatible', 'openai'] as const)('a "%s" provider from the config', (type) => {
  const providers = () => ({ lab: { type, baseURL: server.url, apiKeyEnv: 'LAB_KEY' } });

  it('answers through every layer with usage counted from the responses', async () => {
    server.setDefaultBehavior({ tokens: 12 });
    const result = await runMoA({ layers: 2, proposers: ['lab:a', 'lab:b'], aggregator: 'lab:agg' }, 'Say hi', {
      providers: providers(),
      env,
    });
    expect(result.status).toBe('done');
    expect(result.text.split(/\s+/)).toHaveLength(12);
    expect(result.text.startsWith('[agg]')).toBe(true);
    const outputTokens = result.layers.flatMap((layer) => layer.agents).map((agent) => agent.usage.outputTokens);
    expect(outputTokens).toEqual([12, 12, 12]);
    expect(result.usage.outputTokens).toBe(36);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(server.log.every((entry) => entry.authorization === `Bearer ${env.LAB_KEY}`)).toBe(true);
    expect(server.log.every((entry) => !entry.stream)).toBe(true);
  });

  it('streams the aggregator only, and its usage arrives with the stream', async () => {
    server.setDefaultBehavior({ tokens: 8 });
    const run = streamMoA({ layers: 2, proposers: ['lab:a'], aggregator: 'lab:agg' }, 'Say hi', { providers: providers(), env });
    const deltas: string[] = [];
    for await (const event of run) if (event.type === 'agent-delta') deltas.push(event.delta);
    const result = await run.result;
    expect(deltas.join('')).toBe(result.text);
    expect(deltas.length).toBe(8);
    expect(result.layers[1]!.agents[0]!.usage.outputTokens).toBe(8);
    expect(server.log.map((entry) => [entry.model, entry.stream])).toEqual([
      ['a', false],
      ['agg', true],
    ]);
  });
});

describe('limits and cancellation over HTTP', () => {
  const providers = (maxConcurrency?: number) => ({
    lab: { type: 'openai-compatible' as const, baseURL: server.url, apiKeyEnv: 'LAB_KEY', ...(maxConcurrency ? { maxConcurrency } : {}) },
  });

  it('keeps at most maxConcurrency calls in flight to one provider', async () => {
    server.setDefaultBehavior({ delayMs: 60, tokens: 3 });
    await runMoA({ layers: 2, proposers: ['lab:a', 'lab:b', 'lab:c', 'lab:d'], aggregator: 'lab:agg' }, 'Hi', {
      providers: providers(2),
      env,
    });
    const layer1 = server.log.filter((entry) => entry.model !== 'agg');
    const maxInFlight = Math.max(
      ...layer1.map((entry) => layer1.filter((other) => other.startedAt <= entry.startedAt && (other.endedAt ?? Infinity) > entry.startedAt).length),
    );
    expect(maxInFlight).toBe(2);
  });

  it('cancelling the run aborts the upstream HTTP requests', async () => {
    server.setDefaultBehavior({ hang: true });
    const controller = new AbortController();
    const pending = runMoA({ layers: 2, proposers: ['lab:a', 'lab:b'], aggregator: 'lab:agg' }, 'Hi', {
      providers: providers(),
      env,
      signal: controller.signal,
    });
    while (server.log.length < 2) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const error = await pending.catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MoARunError);
    expect((error as MoARunError).result.error?.code).toBe('aborted');
    await server.waitForIdle();
    expect(server.log.map((entry) => entry.outcome)).toEqual(['aborted', 'aborted']);
  });

  it('a connection refused is a retried network error with the real cause', async () => {
    // A port that was free a moment ago: nothing listens there.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = probe.address() as { port: number };
        probe.close(() => resolve(free));
      });
    });
    const result = await runMoA({ aggregator: 'down:m' }, 'Hi', {
      providers: { down: { type: 'openai-compatible', baseURL: `http://127.0.0.1:${port}/v1` } },
      maxRetries: 1,
      retryBaseDelayMs: 1,
    }).catch((error: MoARunError) => error.result);
    const agent = result.layers[0]!.agents[0]!;
    expect(agent.status).toBe('failed');
    expect(agent.attempts).toBe(2);
    expect(agent.error?.code).toBe('network_error');
    expect(agent.error?.message).toMatch(/ECONNREFUSED/);
    expect(result.error?.message).toContain('down:m');
  });
});
