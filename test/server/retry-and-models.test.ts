// What the official SDKs rely on besides the answers: `x-should-retry: false` on errors no retry
// can fix (so they do not rerun a whole MoA run), a missing provider key reported as such, and
// GET /v1/models offering only the presets this server can run.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { useServerSuite } from './server-suite.js';

const suite = useServerSuite({ presets: { unkeyed: { layers: 2, proposers: ['fake:proposer-a'], aggregator: 'openai:gpt-4o' } } });
const question = [{ role: 'user' as const, content: 'Hi' }];

/** An openai client with the SDK's default retries, counting the HTTP requests it makes. */
function countingClient(maxRetries = 2): { client: OpenAI; requests: () => number; headers: Headers[] } {
  let requests = 0;
  const headers: Headers[] = [];
  const client = new OpenAI({
    baseURL: `${suite.url}/v1`,
    apiKey: 'unused',
    maxRetries,
    fetch: async (input, init) => {
      requests += 1;
      const response = await fetch(input, init);
      headers.push(response.headers);
      return response;
    },
  });
  return { client, requests: () => requests, headers };
}

describe('x-should-retry', () => {
  it('a preset whose provider has no key: 500 missing_api_key naming the variable, sent once, no model called', async () => {
    const { client, requests, headers } = countingClient();
    const error = await client.chat.completions.create({ model: 'unkeyed', messages: question }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(OpenAI.InternalServerError);
    expect(error).toMatchObject({ status: 500, code: 'missing_api_key' });
    expect((error as Error).message).toContain('OPENAI_API_KEY');
    expect((error as Error).message).toContain('moa serve');
    expect(requests()).toBe(1);
    expect(headers[0]!.get('x-should-retry')).toBe('false');
    expect(suite.fake.log).toHaveLength(0);
  });

  it('a provider that refuses the server key: 502 provider_auth_failed, sent once', async () => {
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 401, message: 'invalid upstream key' } });
    const { client, requests, headers } = countingClient();
    const error = await client.chat.completions.create({ model: 'solo', messages: question }).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ status: 502, code: 'provider_auth_failed' });
    expect((error as Error).message).toContain("The provider refused the server's API key");
    expect(requests()).toBe(1);
    expect(headers[0]!.get('x-should-retry')).toBe('false');
    expect(suite.fake.log).toHaveLength(1); // a 401 is not retried upstream either
  });

  it('bad requests and unknown presets carry it too', async () => {
    const { client, requests, headers } = countingClient();
    await client.chat.completions.create({ model: 'nope', messages: question }).catch(() => undefined);
    await client.chat.completions.create({ model: 'solo', messages: question, top_k: 3 } as never).catch(() => undefined);
    expect(requests()).toBe(2);
    expect(headers.map((header) => header.get('x-should-retry'))).toEqual(['false', 'false']);
  });

  it('is absent when a retry may help (an upstream 5xx), so the SDK retries as usual', async () => {
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 503, message: 'busy' } });
    const { client, requests, headers } = countingClient(1);
    const error = await client.chat.completions.create({ model: 'solo', messages: question }).catch((failure: unknown) => failure);
    expect(error).toMatchObject({ status: 502 });
    expect(requests()).toBe(2);
    expect(headers[0]!.get('x-should-retry')).toBeNull();
  });
});

describe('GET /v1/models', () => {
  const client = (): OpenAI => new OpenAI({ baseURL: `${suite.url}/v1`, apiKey: 'unused', maxRetries: 0 });

  it('lists only the presets this server can run, the default first', async () => {
    const models = await client().models.list();
    expect(models.data.map((model) => model.id)).toEqual(['duo', 'solo']);
    expect(models.data[0]).toMatchObject({ object: 'model', owned_by: 'moa', moa: { default: true, available: true } });
  });

  it('?all=true lists the others too, with the reason', async () => {
    const response = await fetch(`${suite.url}/v1/models?all=true`);
    const body = (await response.json()) as { data: Array<{ id: string; moa: { available: boolean; error?: string } }> };
    expect(body.data.map((model) => model.id)).toEqual(['duo', 'solo', 'unkeyed']);
    const unkeyed = body.data.find((model) => model.id === 'unkeyed')!;
    expect(unkeyed.moa.available).toBe(false);
    expect(unkeyed.moa.error).toContain('OPENAI_API_KEY');
    const one = (await (await fetch(`${suite.url}/v1/models/unkeyed`)).json()) as { moa: { available: boolean } };
    expect(one.moa.available).toBe(false);
  });
});
