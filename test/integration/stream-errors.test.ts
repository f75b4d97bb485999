// An error chunk inside a stream that had begun, in the shapes real upstreams send it, over HTTP:
// read for its message and status, and retried when the status says a retry can help.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { streamMoA } from '../../src/index.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';

let server: FakeLLMServer;
const env = { LAB_KEY: 'sk-lab-0123456789' };
const fast = { retryBaseDelayMs: 1, retryMaxDelayMs: 1, random: () => 0 };

beforeAll(async () => {
  server = await startFakeLLMServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => server.reset());

describe.each(['openai-compatible', 'openai'] as const)('a "%s" provider', (type) => {
  const providers = () => ({ lab: { type, baseURL: server.url, apiKeyEnv: 'LAB_KEY' } });

  it("retries OpenRouter's mid-stream { error: { code: 502, message } } (no type) and reports its message", async () => {
    server.setBehavior('agg', {
      text: 'the final answer',
      streamError: { afterTokens: 1, times: 1, body: { error: { code: 502, message: 'Upstream provider returned 502 Bad Gateway' } } },
    });
    const run = streamMoA({ layers: 1, aggregator: 'lab:agg' }, 'Q', { ...fast, providers: providers(), env, stream: 'final' });
    const result = await run.result;

    expect(result.text).toBe('the final answer');
    expect(server.log.map((entry) => [entry.model, entry.stream])).toEqual([
      ['agg', true],
      ['agg', true],
    ]);
    const retry = run.events.find((event) => event.type === 'agent-retry');
    expect(retry).toBeDefined();
    if (retry?.type !== 'agent-retry') return;
    expect(retry.error.message).toContain('Upstream provider returned 502 Bad Gateway');
    expect(retry.error.message).not.toContain('[object Object]');
    expect(retry.error).toMatchObject({ status: 502, retryable: true });
  });

  it('does not retry a mid-stream error whose status says a retry cannot help', async () => {
    server.setBehavior('agg', {
      text: 'never',
      streamError: { afterTokens: 0, body: { error: { message: 'This model does not support that parameter', type: 'invalid_request_error', code: 400 } } },
    });
    const run = streamMoA({ layers: 1, aggregator: 'lab:agg' }, 'Q', { ...fast, providers: providers(), env, stream: 'final' });
    const error = (await run.result.catch((caught: unknown) => caught)) as {
      result: { layers: Array<{ agents: Array<{ attempts: number; error?: { message: string; status?: number } }> }> };
    };
    expect(server.log).toHaveLength(1);
    const agent = error.result.layers[0]!.agents[0]!;
    expect(agent.attempts).toBe(1);
    expect(agent.error).toMatchObject({ status: 400 });
    expect(agent.error!.message).toContain('This model does not support that parameter');
  });
});
