// The official `openai` client against the running server: what stock clients see.
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { promptTokens, systemOf, turns, UPSTREAM_SECRET, useServerSuite } from './server-suite.js';

const API_KEY = 'moa-test-key-1234567890';
const suite = useServerSuite({ apiKey: API_KEY });

function client(apiKey = API_KEY): OpenAI {
  return new OpenAI({ baseURL: `${suite.url}/v1`, apiKey, maxRetries: 0 });
}

const question = [{ role: 'user' as const, content: 'Why is the sky blue?' }];

describe('the openai client against moa serve', () => {
  it('gets a non-streaming completion: the aggregator answer, usage of every agent, finish_reason', async () => {
    suite.fake.setBehavior('aggregator', { text: 'Rayleigh scattering makes it blue.' });
    const completion = await client().chat.completions.create({ model: 'duo', messages: question });

    expect(completion.object).toBe('chat.completion');
    expect(completion.model).toBe('duo');
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.choices).toHaveLength(1);
    expect(completion.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'Rayleigh scattering makes it blue.' });
    expect(completion.choices[0]!.finish_reason).toBe('stop');
    expect((completion as unknown as { moa?: unknown }).moa).toBeUndefined();

    const log = suite.fake.log;
    expect(log.map((entry) => entry.model).sort()).toEqual(['aggregator', 'proposer-a', 'proposer-b']);
    const expectedPrompt = log.reduce((sum, entry) => sum + promptTokens(entry), 0);
    expect(completion.usage).toEqual({
      prompt_tokens: expectedPrompt,
      completion_tokens: 8 + 8 + 5, // two proposers (8 words each) and the aggregator's 5 words
      total_tokens: expectedPrompt + 21,
    });
  });

  it('passes system and multi-turn messages to every agent', async () => {
    await client().chat.completions.create({
      model: 'duo',
      messages: [
        { role: 'system', content: 'Answer like a pirate.' },
        { role: 'user', content: 'Hello there' },
        { role: 'assistant', content: 'Ahoy!' },
        { role: 'user', content: [{ type: 'text', text: 'And in French?' }] },
      ],
    });
    expect(suite.fake.log).toHaveLength(3);
    for (const entry of suite.fake.log) {
      expect(systemOf(entry)).toContain('Answer like a pirate.');
      expect(turns(entry)).toEqual([
        { role: 'user', content: 'Hello there' },
        { role: 'assistant', content: 'Ahoy!' },
        { role: 'user', content: 'And in French?' },
      ]);
    }
  });

  it('applies temperature and max_tokens to the aggregator only', async () => {
    suite.fake.setBehavior('aggregator', { tokens: 30 });
    const completion = await client().chat.completions.create({ model: 'duo', messages: question, temperature: 0.2, max_tokens: 4 });
    const byModel = Object.fromEntries(suite.fake.log.map((entry) => [entry.model, entry]));
    expect(byModel['aggregator']).toMatchObject({ temperature: 0.2, maxTokens: 4 });
    for (const proposer of ['proposer-a', 'proposer-b']) {
      expect(byModel[proposer]!.temperature).toBe(0.7);
      expect(byModel[proposer]!.maxTokens).toBeUndefined();
    }
    expect(completion.choices[0]!.finish_reason).toBe('length');
    expect(completion.choices[0]!.message.content!.split(' ')).toHaveLength(4);

    // The next request without them gets the preset's own settings again (the shared preset was not changed).
    suite.fake.reset();
    await client().chat.completions.create({ model: 'duo', messages: question });
    const aggregator = suite.fake.log.find((entry) => entry.model === 'aggregator')!;
    expect(aggregator.temperature).toBe(0.7);
    expect(aggregator.maxTokens).toBeUndefined();
  });

  it('streams the answer as chat.completion.chunk objects, with a usage chunk when include_usage is set', async () => {
    suite.fake.setBehavior('aggregator', { text: 'one two three four five six' });
    const stream = await client().chat.completions.create({
      model: 'duo',
      messages: question,
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);

    expect(new Set(chunks.map((chunk) => chunk.id)).size).toBe(1);
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk' && chunk.model === 'duo')).toBe(true);
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe('one two three four five six');
    expect(chunks.filter((chunk) => (chunk.choices[0]?.delta.content ?? '') !== '').length).toBe(6); // token by token
    expect(chunks[0]!.choices[0]!.delta.role).toBe('assistant');
    const finishChunk = chunks[chunks.length - 2]!;
    expect(finishChunk.choices[0]!.finish_reason).toBe('stop');
    const usageChunk = chunks[chunks.length - 1]!;
    expect(usageChunk.choices).toEqual([]);
    const expectedPrompt = suite.fake.log.reduce((sum, entry) => sum + promptTokens(entry), 0);
    expect(usageChunk.usage).toEqual({ prompt_tokens: expectedPrompt, completion_tokens: 22, total_tokens: expectedPrompt + 22 });
    // Only the aggregator streamed upstream; the proposers were plain requests.
    expect(suite.fake.log.filter((entry) => entry.stream).map((entry) => entry.model)).toEqual(['aggregator']);
  });

  it('streams without a usage chunk when include_usage is not set', async () => {
    const stream = await client().chat.completions.create({ model: 'solo', messages: question, stream: true });
    const chunks: OpenAI.Chat.Completions.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.every((chunk) => chunk.choices.length === 1 && chunk.usage === undefined)).toBe(true);
    expect(chunks[chunks.length - 1]!.choices[0]!.finish_reason).toBe('stop');
  });

  it('lists the presets as models, the default first', async () => {
    const models = [];
    for await (const model of client().models.list()) models.push(model);
    expect(models.map((model) => model.id)).toEqual(['duo', 'solo']);
    expect(models[0]).toMatchObject({
      object: 'model',
      owned_by: 'moa',
      moa: { default: true, layers: [{ models: ['fake:proposer-a', 'fake:proposer-b'] }, { models: ['fake:aggregator'] }] },
    });
    expect((models[1] as unknown as { moa: { default?: boolean } }).moa.default).toBeUndefined();
  });

  it('adds the moa extension when asked for it', async () => {
    const completion = (await client().chat.completions.create({
      model: 'duo',
      messages: question,
      // @ts-expect-error the moa extension is not part of OpenAI's request type
      moa: { details: true },
    })) as unknown as OpenAI.Chat.Completions.ChatCompletion & {
      moa: { preset: string; run_id: string; layers: Array<{ agents: Array<{ model: string; status: string; usage: { completion_tokens: number } }> }> };
    };
    expect(completion.moa.preset).toBe('duo');
    expect(completion.moa.layers.map((layer) => layer.agents.map((agent) => [agent.model, agent.status, agent.usage.completion_tokens]))).toEqual([
      [
        ['fake:proposer-a', 'done', 8],
        ['fake:proposer-b', 'done', 8],
      ],
      [['fake:aggregator', 'done', 8]],
    ]);
    expect((completion.moa as unknown as { degraded: unknown[] }).degraded).toEqual([]);
  });

  it('names what was degraded in the moa extension: a proposer that failed', async () => {
    suite.fake.setBehavior('proposer-a', { alwaysFail: { status: 400, message: 'proposer a refused' } });
    const completion = (await client().chat.completions.create({
      model: 'duo',
      messages: question,
      // @ts-expect-error the moa extension is not part of OpenAI's request type
      moa: { details: true },
    })) as unknown as { moa: { degraded: Array<{ layer: number; agent: number; reason: string; message: string }> } };
    expect(completion.moa.degraded).toEqual([{ layer: 0, agent: 0, reason: 'failed', message: expect.stringContaining('proposer a refused') }]);
  });

  it('raises OpenAI errors for an unknown model, a bad field and a wrong key', async () => {
    const unknown = await client()
      .chat.completions.create({ model: 'gpt-17', messages: question })
      .catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(OpenAI.NotFoundError);
    expect(unknown).toMatchObject({ status: 404, code: 'model_not_found', param: 'model' });

    const bad = await client()
      .chat.completions.create({ model: 'duo', messages: question, temperature: 7 })
      .catch((error: unknown) => error);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect(bad).toMatchObject({ status: 400, param: 'temperature', type: 'invalid_request_error' });

    const wrongKey = await client('not-the-key')
      .models.list()
      .catch((error: unknown) => error);
    expect(wrongKey).toBeInstanceOf(OpenAI.AuthenticationError);
    expect(wrongKey).toMatchObject({ status: 401, code: 'invalid_api_key' });
    expect(suite.fake.log).toHaveLength(0);
  });

  it('maps an upstream failure to 502 with the provider message, and never echoes the upstream key', async () => {
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 400, message: `model overloaded; key ${UPSTREAM_SECRET} rejected` } });
    const error = await client()
      .chat.completions.create({ model: 'duo', messages: question })
      .catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect(error).toMatchObject({ status: 502 });
    const message = (error as Error).message;
    expect(message).toContain('model overloaded');
    expect(message).not.toContain(UPSTREAM_SECRET);
  });

  it('raises a streamed run that fails before its first token as an APIError while iterating', async () => {
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 500, message: 'upstream exploded' } });
    // The headers (200) went out at once, so the failure arrives as the stream's error event.
    const stream = await client().chat.completions.create({ model: 'duo', messages: question, stream: true });
    const error = await (async () => {
      for await (const chunk of stream) void chunk;
    })().catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    expect((error as Error).message).toContain('upstream exploded');
    // 500 is retryable: the engine retried (maxRetries 2) before giving up.
    expect(suite.fake.log.filter((entry) => entry.model === 'aggregator')).toHaveLength(3);
  });
});
