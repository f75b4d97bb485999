// The official Anthropic SDK (`@anthropic-ai/sdk`) against moa serve's /v1/messages: what Claude Code
// and other Anthropic clients see. Auth by x-api-key (the SDK's apiKey) or bearer (authToken).
import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { systemOf, turns, UPSTREAM_SECRET, useServerSuite } from '../server/server-suite.js';
import { aggregatorCalls, proposerCalls, proposersSawNoTools, WEATHER_PARAMETERS, WEATHER_TOOL_NAME, weatherAggregator } from './tool-fixtures.js';

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
    // temperature is no longer in this SDK's types (newer Claude models fix it), but older clients send it: it still applies.
    const message = await client().messages.create({
      model: 'solo',
      max_tokens: 3,
      temperature: 0.2,
      messages: [{ role: 'user', content: 'Go on' }],
    } as Anthropic.MessageCreateParamsNonStreaming);
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
    const wrong = await client({ apiKey: 'not-the-key' })
      .messages.create({ model: 'solo', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((error: unknown) => error);
    expect(wrong).toBeInstanceOf(Anthropic.AuthenticationError);
    expect((wrong as InstanceType<typeof Anthropic.AuthenticationError>).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(suite.fake.log).toHaveLength(0);
  });

  it('answers errors in Anthropic shape: an unknown preset is not_found_error, an upstream failure api_error without the upstream key', async () => {
    const missing = await client()
      .messages.create({ model: 'claude-nope', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((error: unknown) => error);
    expect(missing).toBeInstanceOf(Anthropic.NotFoundError);
    expect((missing as InstanceType<typeof Anthropic.NotFoundError>).error).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 400, message: `upstream refused key ${UPSTREAM_SECRET}` } });
    const failed = await client()
      .messages.create({ model: 'solo', max_tokens: 10, messages: [{ role: 'user', content: 'Hi' }] })
      .catch((error: unknown) => error);
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
    const error = await client()
      .messages.create({ model: 'duo', messages: [{ role: 'user', content: 'Hi' }] } as never)
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain('max_tokens');
  });

  describe('tools', () => {
    const tools: Anthropic.Tool[] = [
      { name: WEATHER_TOOL_NAME, description: 'Weather in a city', input_schema: WEATHER_PARAMETERS as unknown as Anthropic.Tool.InputSchema },
    ];
    const question: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Paris?' }];

    it('a tool_use round trip: stop_reason tool_use, then the answer from the tool_result; proposers advise once, without tools', async () => {
      suite.fake.setBehavior('aggregator', weatherAggregator());
      const first = await client().messages.create({
        model: 'duo',
        max_tokens: 200,
        messages: question,
        tools,
        tool_choice: { type: 'any', disable_parallel_tool_use: true },
      });
      expect(first.stop_reason).toBe('tool_use');
      expect(first.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: WEATHER_TOOL_NAME, input: { city: 'Paris' } }]);
      const aggregator = aggregatorCalls(suite.fake.log)[0]!;
      expect(aggregator.tools).toEqual([{ type: 'function', function: { name: WEATHER_TOOL_NAME, description: 'Weather in a city', parameters: WEATHER_PARAMETERS } }]);
      expect(aggregator.toolChoice).toBe('required');
      expect(aggregator.body['parallel_tool_calls']).toBe(false);

      const use = first.content[0] as Anthropic.ToolUseBlock;
      const second = await client().messages.create({
        model: 'duo',
        max_tokens: 200,
        tools,
        messages: [
          ...question,
          { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: [{ type: 'text', text: 'Sunny' }] }] },
        ],
      });
      expect(second.content).toEqual([{ type: 'text', text: 'The tool said: Sunny' }]);
      expect(second.stop_reason).toBe('end_turn');
      expect(proposerCalls(suite.fake.log)).toHaveLength(2);
      expect(proposersSawNoTools(suite.fake.log)).toBe(true);
    });

    it('streams tool_use blocks as input_json_delta, folded by the SDK into the input object', async () => {
      suite.fake.setBehavior('aggregator', { ...weatherAggregator(), argumentChunks: 4 });
      const stream = client().messages.stream({ model: 'duo', max_tokens: 200, messages: question, tools });
      const partials: string[] = [];
      stream.on('inputJson', (partial) => partials.push(partial));
      const final = await stream.finalMessage();
      expect(final.stop_reason).toBe('tool_use');
      expect(final.content).toEqual([{ type: 'tool_use', id: expect.any(String), name: WEATHER_TOOL_NAME, input: { city: 'Paris' } }]);
      expect(partials.join('')).toBe('{"city":"Paris"}');
      expect(partials.length).toBeGreaterThan(1);
    });

    it('stop_sequences, top_p, metadata.user_id and output_config.format reach the aggregator only; a structured answer is validated', async () => {
      suite.fake.setBehavior('aggregator', { text: '{"city":"Paris","celsius":20}' });
      const message = await client().messages.create({
        model: 'duo',
        max_tokens: 200,
        messages: question,
        stop_sequences: ['END'],
        top_p: 0.8,
        metadata: { user_id: 'user-9' },
        output_config: {
          format: {
            type: 'json_schema',
            schema: { type: 'object', properties: { city: { type: 'string' }, celsius: { type: 'number' } }, required: ['city', 'celsius'] },
          },
        },
      } as never);
      expect(JSON.parse((message.content[0] as Anthropic.TextBlock).text)).toEqual({ city: 'Paris', celsius: 20 });
      const body = aggregatorCalls(suite.fake.log)[0]!.body;
      expect(body).toMatchObject({ stop: ['END'], top_p: 0.8, user: 'user-9' });
      expect(body['response_format']).toBeDefined();
      for (const proposer of proposerCalls(suite.fake.log)) {
        expect(proposer.body['stop']).toBeUndefined();
        expect(proposer.body['user']).toBeUndefined();
      }
    });

    it('refuses top_k and thinking for an aggregator whose provider cannot apply them, naming the field and the model', async () => {
      for (const [fields, param] of [
        [{ top_k: 5 }, 'top_k'],
        [{ thinking: { type: 'enabled', budget_tokens: 2048 } }, 'thinking'],
      ] as const) {
        const error = await client()
          .messages.create({ model: 'duo', max_tokens: 4096, messages: question, ...fields } as never)
          .catch((failure: unknown) => failure);
        expect(error, param).toBeInstanceOf(Anthropic.BadRequestError);
        const body = (error as InstanceType<typeof Anthropic.BadRequestError>).error as { error: { message: string } };
        expect(body.error.message).toContain(`'${param}'`);
        expect(body.error.message).toContain('fake:aggregator');
      }
      expect(suite.fake.log).toHaveLength(0);
    });
  });
});
