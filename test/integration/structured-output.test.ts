// Structured output to an openai-compatible aggregator over HTTP: by default the package asks for
// `json_object` (what every such server takes) and the schema travels in the instruction; a provider
// set `structuredOutputs: true` sends `json_schema` with the schema itself. Either way the answer is
// checked against the schema before it is returned.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { runMoA } from '../../src/index.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';

let server: FakeLLMServer;
const schema = { type: 'object', properties: { city: { type: 'string' } }, required: ['city'], additionalProperties: false } as const;

beforeAll(async () => {
  server = await startFakeLLMServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => server.reset());

describe('structured output to an openai-compatible aggregator', () => {
  it('asks for json_object by default, with the schema in the instruction', async () => {
    server.setBehavior('agg', { text: '{"city":"Canberra"}' });
    const result = await runMoA({ layers: 1, aggregator: 'lab:agg' }, 'Capital of Australia as JSON', {
      providers: { lab: { type: 'openai-compatible', baseURL: server.url } },
      final: { responseFormat: { type: 'json', schema } },
    });
    expect(result.text).toBe('{"city":"Canberra"}');
    const [call] = server.log;
    expect(call!.responseFormat).toEqual({ type: 'json_object' });
    expect(JSON.stringify(call!.messages)).toContain('matches this JSON Schema');
  });

  it('sends json_schema with the schema when the provider says it takes structured outputs', async () => {
    server.setBehavior('agg', { text: '{"city":"Canberra"}' });
    await runMoA({ layers: 1, aggregator: 'lab:agg' }, 'Capital of Australia as JSON', {
      providers: { lab: { type: 'openai-compatible', baseURL: server.url, structuredOutputs: true } },
      final: { responseFormat: { type: 'json', schema, name: 'answer' } },
    });
    expect(server.log[0]!.responseFormat).toMatchObject({ type: 'json_schema', json_schema: { name: 'answer', schema } });
  });
});
