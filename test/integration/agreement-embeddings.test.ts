// stopWhen with an embedding model, over HTTP: the layer's answers are embedded through the AI SDK's
// embedMany (the fake server embeds texts by their words), and a layer whose answers agree skips the next.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, streamMoA } from '../../src/index.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';

let server: FakeLLMServer;
beforeAll(async () => {
  server = await startFakeLLMServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => server.reset());

const providers = () => ({ lab: { type: 'openai-compatible' as const, baseURL: server.url } });
const preset = (agreement: number) => ({
  layers: 3,
  proposers: ['lab:p1', 'lab:p2'],
  aggregator: 'lab:agg',
  stopWhen: { agreement, embeddingModel: 'lab:embedder' },
});

describe('stopWhen with an embedding model', () => {
  it('embeds the answers of a layer and skips the next when they agree', async () => {
    server.setBehavior('p1', { text: 'Canberra is the capital city of Australia.' });
    server.setBehavior('p2', { text: 'The capital city of Australia is Canberra.' });
    server.setBehavior('agg', { text: 'Canberra.' });
    const run = streamMoA(preset(0.95), 'Capital of Australia?', { providers: providers() });
    const result = await run.result;
    expect(server.embeddingRequests).toEqual([
      { model: 'embedder', inputs: ['Canberra is the capital city of Australia.', 'The capital city of Australia is Canberra.'] },
    ]);
    expect(result.layers[1]).toMatchObject({ status: 'skipped', skipped: { reason: 'agreement' } });
    expect(result.layers[1]!.skipped!.message).toMatch(/embedding similarity 1\.00 ≥ 0\.95/);
    expect(server.log.filter((entry) => entry.model === 'p1')).toHaveLength(1);
  });

  it('runs every layer when the embeddings differ', async () => {
    server.setBehavior('p1', { text: 'Sydney has the opera house.' });
    server.setBehavior('p2', { text: 'Canberra was chosen in 1908 as a compromise.' });
    server.setBehavior('agg', { text: 'Canberra.' });
    const result = await streamMoA(preset(0.95), 'Capital of Australia?', { providers: providers() }).result;
    expect(result.layers[1]!.status).toBe('done');
    expect(server.log.filter((entry) => entry.model === 'p1')).toHaveLength(2);
  });

  it('an embedding model of a provider without embeddings is a ConfigError before any call', () => {
    const error = (() => {
      try {
        streamMoA({ ...preset(0.9), stopWhen: { agreement: 0.9, embeddingModel: 'anthropic:claude' } }, 'Q', {
          providers: providers(),
          env: { ANTHROPIC_API_KEY: 'sk-ant-test' },
        });
      } catch (caught) {
        return caught;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain('has no embedding models');
    expect(server.log).toHaveLength(0);
  });
});
