// The official Anthropic SDK (`@anthropic-ai/sdk`) against moa serve's /v1/messages: what Claude Code
// and other Anthropic clients see. Auth by x-api-key (the SDK's apiKey) or bearer (authToken).
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { systemOf, turns, UPSTREAM_SECRET, useServerSuite } from '../server/server-suite.js';

const API_KEY = 'moa-anthropic-key-123456';
const suite = useServerSuite({ apiKey: API_KEY });

function client(options: { apiKey?: string | null; authToken?: string } = {}): Anthropic {
  return new Anthropic({ baseURL: suite.url, apiKey: options.apiKey === undefined ? API_KEY : options.apiKey, authToken: options.authToken ?? null, maxRetries: 0 });
}

describe('the Anthropic client against moa serve', () => {
  it('gets a message: the answer as a text block, end_turn, usage of every agent; system and turns reach every agent', async () => {
    suite.fake.setBehavior('aggregator', { text: 'Rayleigh scattering.' });
    const message = await client().messages.create({
      model: 'duo',
      max_tokens: 512,
      system: [{ type: 'text', text: 'Answer like a pirate.', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: [{ type: 'text', text: 'Ahoy!' }] },
        { role: 'user', content: [{ type: 'text', text: 'Why is the sky blue?' }] },
      ],
    });
    expect(message).toMatchObject({ type: 'message', role: 'assistant', model: 'duo', stop_reason: 'end_turn', stop_sequence: null });
    expect(message.id).toMatch(/^msg_/);
    expect(message.content).toEqual([{ type: 'text', text: 'Rayleigh scattering.' }]);
    expect(message.usage.output_tokens).toBe(8 + 8 + 2);
    expect(suite.fake.log).toHaveLength(3);
    for (const entry of suite.fake.log) {
      expect(systemOf(entry)).toContain('Answer like a pirate.');
      expect(turns(entry)).toEqual([
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Ahoy!' },
        { role: 'user', content: 'Why is the sky blue?' },
      ]);
    }
    const aggregator = suite.fake.log.find((entry) => entry.model === 'aggregator')!;
    expect(aggregator.maxTokens).toBe(512);
  });

  it('reports max_tokens when the aggregator hit the limit', async () => {
    suite.fake.setBehavior('aggregator', { tokens: 40 });
    const message = await client().messages.create({ model: 'solo', max_tokens: 3, temperature: 0.2, messages: [{ role: 'user', content: 'Go on' }] });
    expect(message.stop_reason).toBe('max_tokens');
    expect(suite.fake.log[0]).toMatchObject({ maxTokens: 3, temperature: 0.2 });
  });

  it('streams: message_start, text deltas that reassemble, message_delta with usage, and the SDK folds it', async () => {
    suite.fake.setBehavior('aggregator', { text: 'one two three' });
    const stream = client().messages.stream({ model: 'duo', max_tokens: 100, messages: [{ role: 'user', content: 'Count' }] });
    const texts: string[] = [];
    stream.on('text', (text) => texts.push(text));
    const events: string[] = [];
    stream.on('streamEvent', (event) => events.push(event.type));
    const final = await stream.finalMessage();
    expect(texts.join('')).toBe('one two three');
    expect(final.content).toEqual([{ type: 'text', text: 'one two three' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBe(8 + 8 + 3);
    expect(final.usage.input_tokens).toBeGreaterThan(0);
    expect(events[0]).toBe('message_start');
    expect(events.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
  });

  it('accepts the key as a bearer token too, and refuses a wrong key with an authentication_error', async () => {
    const viaBearer = await client({ apiKey: null, authToken: API_KEY }).messages.create({ model: 'solo', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] });
    expect(viaBearer.content[0]).toMatchObject({ type: 'text' });
    suite.fake.reset();
    const wrong = await client({ apiKey: 'not-the-key' }).messages.create({ model: 'solo', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((wrong as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(suite.fake.log).toHaveLength(0);
  });

  it('answers errors in Anthropic shape: an unknown preset is not_found_error, an upstream failure api_error without the upstream key', async () => {
    const missing = await client().messages.create({ model: 'claude-nope', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect((missing as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 400, message: `upstream refused key ${UPSTREAM_SECRET}` } });
    const failed = await client().messages.create({ model: 'solo', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] }).catch((error: unknown) => error);
    expect(failed).toBeInstanceOf(Anthropic.APIError);
    expect(failed).toMatchObject({ status: 502 });
    expect((failed as Error).message).toContain('upstream refused key');
    expect((failed as Error).message).not.toContain(UPSTREAM_SECRET);
  });

  it('raises a streamed run that fails as the stream error event', async () => {
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 400, message: 'bad upstream request' } });
    const stream = client().messages.stream({ model: 'solo', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] });
    const error = await stream.finalMessage().catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect((error as Error).message).toContain('bad upstream request');
  });

  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['a server tool', { tools: [{ type: 'web_search_20250305', name: 'web_search' }] }, 'tools[0]'],
    ['remote MCP servers', { mcp_servers: [{ type: 'url', url: 'https://x', name: 'x' }] }, 'mcp_servers'],
    ['a container', { container: 'c_1' }, 'container'],
    ['an image block', { messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://x/y.png' } }] }] }, 'messages[0].content[0].type'],
    ['an unknown field', { frobnicate: true }, 'frobnicate'],
  ];
  for (const [name, fields, param] of refused) {
    it(`refuses ${name} with an invalid_request_error naming ${param}`, async () => {
      const error = await client()
        .messages.create({ model: 'duo', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }], ...fields } as never)
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(Anthropic.BadRequestError);
      const body = (error as InstanceType<typeof Anthropic.BadRequestError>).error as { error: { type: string; message: string } };
      expect(body.error.type).toBe('invalid_request_error');
      expect(body.error.message).toContain(param);
      expect(suite.fake.log).toHaveLength(0);
    });
  }

  it('requires max_tokens, as Anthropic does', async () => {
    const error = await client().messages.create({ model: 'duo', messages: [{ role: 'user', content: 'Hi' }] } as never).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain('max_tokens');
  });
});
