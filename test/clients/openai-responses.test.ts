// The official `openai` client's Responses API (`client.responses`) against moa serve: the API of
// `@ai-sdk/openai`'s default model, `@openai/agents` and LangChain's `useResponsesApi`.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { systemOf, turns, useServerSuite } from '../server/server-suite.js';

const API_KEY = 'moa-responses-key-123456';
const suite = useServerSuite({ apiKey: API_KEY });

function client(): OpenAI {
  return new OpenAI({ baseURL: `${suite.url}/v1`, apiKey: API_KEY, maxRetries: 0 });
}

describe('responses.create against moa serve', () => {
  it('answers a string input with the aggregator text as output_text, usage of every agent', async () => {
    suite.fake.setBehavior('aggregator', { text: 'Rayleigh scattering.' });
    const response = await client().responses.create({ model: 'duo', input: 'Why is the sky blue?', instructions: 'Be brief.' });
    expect(response).toMatchObject({ object: 'response', status: 'completed', model: 'duo', instructions: 'Be brief.', error: null });
    expect(response.id).toMatch(/^resp_/);
    expect(response.output_text).toBe('Rayleigh scattering.');
    expect(response.output).toEqual([
      {
        id: expect.stringMatching(/^msg_/),
        type: 'message',
        status: 'completed',
        role: 'assistant',
        content: [{ type: 'output_text', text: 'Rayleigh scattering.', annotations: [], logprobs: [] }],
      },
    ]);
    const log = suite.fake.log;
    expect(log.map((entry) => entry.model).sort()).toEqual(['aggregator', 'proposer-a', 'proposer-b']);
    expect(response.usage?.output_tokens).toBe(8 + 8 + 2);
    for (const entry of log) {
      expect(systemOf(entry)).toContain('Be brief.');
      expect(turns(entry)).toEqual([{ role: 'user', content: 'Why is the sky blue?' }]);
    }
  });

  it('takes item input (developer, user, earlier assistant output) and max_output_tokens/temperature for the aggregator', async () => {
    suite.fake.setBehavior('aggregator', { tokens: 30 });
    const response = await client().responses.create({
      model: 'duo',
      input: [
        { role: 'developer', content: 'Answer like a pirate.' },
        { role: 'user', content: [{ type: 'input_text', text: 'Hello' }] },
        { type: 'message', role: 'assistant', id: 'msg_1', status: 'completed', content: [{ type: 'output_text', text: 'Ahoy!', annotations: [] }] },
        { role: 'user', content: 'And in French?' },
      ],
      max_output_tokens: 5,
      temperature: 0.1,
    });
    expect(response.status).toBe('incomplete');
    expect(response.incomplete_details).toEqual({ reason: 'max_output_tokens' });
    expect(response.output_text.split(' ')).toHaveLength(5);
    const aggregator = suite.fake.log.find((entry) => entry.model === 'aggregator')!;
    expect(aggregator).toMatchObject({ maxTokens: 5, temperature: 0.1 });
    expect(systemOf(aggregator)).toContain('Answer like a pirate.');
    expect(turns(aggregator)).toEqual([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Ahoy!' },
      { role: 'user', content: 'And in French?' },
    ]);
    for (const proposer of suite.fake.log.filter((entry) => entry.model !== 'aggregator')) expect(proposer.maxTokens).toBeUndefined();
  });

  it('continues a conversation with previous_response_id, without the earlier instructions', async () => {
    suite.fake.setBehavior('aggregator', { text: (request) => `answer ${request.messages.length}` });
    const first = await client().responses.create({ model: 'solo', input: 'My name is Ada.', instructions: 'Be formal.' });
    suite.fake.reset();
    const second = await client().responses.create({ model: 'solo', input: 'What is my name?', previous_response_id: first.id });
    expect(second.previous_response_id).toBe(first.id);
    const aggregator = suite.fake.log[0]!;
    expect(systemOf(aggregator)).not.toContain('Be formal.');
    expect(turns(aggregator)).toEqual([
      { role: 'user', content: 'My name is Ada.' },
      { role: 'assistant', content: first.output_text },
      { role: 'user', content: 'What is my name?' },
    ]);
    // And the stored response can be read back.
    const again = await client().responses.retrieve(second.id);
    expect(again.output_text).toBe(second.output_text);
  });

  it('refuses an unknown previous_response_id and one made with store: false (404, no model called)', async () => {
    const unstored = await client().responses.create({ model: 'solo', input: 'Hi', store: false });
    suite.fake.reset();
    for (const id of ['resp_nope', unstored.id]) {
      const error = await client()
        .responses.create({ model: 'solo', input: 'Again', previous_response_id: id })
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(OpenAI.NotFoundError);
      expect(error).toMatchObject({ status: 404, code: 'previous_response_not_found', param: 'previous_response_id' });
    }
    expect(suite.fake.log).toHaveLength(0);
  });

  it('streams the typed events in order, the text deltas reassembling to the answer', async () => {
    suite.fake.setBehavior('aggregator', { text: 'one two three' });
    const stream = await client().responses.create({ model: 'duo', input: 'Count', stream: true });
    const events: Array<{ type: string; sequence_number: number; delta?: string }> = [];
    for await (const event of stream) events.push(event);
    const types = events.map((event) => event.type);
    expect(types).toEqual([
      'response.created',
      'response.in_progress',
      'response.output_item.added',
      'response.content_part.added',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.delta',
      'response.output_text.done',
      'response.content_part.done',
      'response.output_item.done',
      'response.completed',
    ]);
    expect(events.map((event) => event.sequence_number)).toEqual(events.map((_, index) => index));
    expect(
      events
        .filter((event) => event.type === 'response.output_text.delta')
        .map((event) => event.delta)
        .join(''),
    ).toBe('one two three');
    const completed = events[events.length - 1] as unknown as { response: OpenAI.Responses.Response };
    expect(completed.response.output_text ?? completed.response.output[0]).toBeDefined();
    expect(completed.response.usage?.total_tokens).toBeGreaterThan(0);
  });

  it('streams with responses.stream() helpers: text deltas and the final response', async () => {
    suite.fake.setBehavior('aggregator', { text: 'alpha beta' });
    const stream = client().responses.stream({ model: 'solo', input: 'Say it' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (event) => deltas.push(event.delta));
    const final = await stream.finalResponse();
    expect(deltas.join('')).toBe('alpha beta');
    expect(final.output_text).toBe('alpha beta');
    expect(final.status).toBe('completed');
  });

  it('ends a stream whose run fails with response.failed carrying the providers message', async () => {
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 400, message: 'bad upstream request' } });
    const stream = await client().responses.create({ model: 'solo', input: 'Hi', stream: true });
    const events: Array<{ type: string; response?: OpenAI.Responses.Response }> = [];
    for await (const event of stream) events.push(event);
    const last = events[events.length - 1]!;
    expect(last.type).toBe('response.failed');
    expect(last.response?.status).toBe('failed');
    expect(last.response?.error?.message).toContain('bad upstream request');
  });

  const refused: Array<[string, Record<string, unknown>, string]> = [
    ['a hosted tool', { tools: [{ type: 'web_search' }] }, 'tools[0].type'],
    ['reasoning summaries', { reasoning: { effort: 'low', summary: 'auto' } }, 'reasoning.summary'],
    ['top_logprobs', { top_logprobs: 3 }, 'top_logprobs'],
    ['max_tool_calls', { max_tool_calls: 2 }, 'max_tool_calls'],
    ['a stored prompt', { prompt: { id: 'pmpt_1' } }, 'prompt'],
    ['an image input', { input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'https://x/y.png' }] }] }, 'input[0].content[0].type'],
    ['background', { background: true }, 'background'],
    ['an unknown field', { frobnicate: 1 }, 'frobnicate'],
  ];
  for (const [name, fields, param] of refused) {
    it(`refuses ${name} with a 400 naming ${param}`, async () => {
      const error = await client()
        .responses.create({ model: 'duo', input: 'Hi', ...fields } as never)
        .catch((failure: unknown) => failure);
      expect(error).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, param });
      expect((error as Error).message).toContain(param.split('[')[0]!.split('.')[0]!);
      expect(suite.fake.log).toHaveLength(0);
    });
  }
});
