// The official `openai` client with tools and structured output through moa serve: a tool round
// trip on Chat Completions (whole and streamed), `.parse` with a zod schema, the Responses API's
// function calls, n answers, and every sampling field reaching the aggregator — and only it.
import OpenAI from 'openai';
import { zodResponseFormat, zodTextFormat } from 'openai/helpers/zod';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { useServerSuite } from '../server/server-suite.js';
import { aggregatorCalls, proposerCalls, proposersSawNoTools, WEATHER_PARAMETERS, WEATHER_TOOL_NAME, weatherAggregator } from './tool-fixtures.js';

const suite = useServerSuite({
  env: { FAKE_KEY: 'sk-upstream-SECRET-0987654321', MOA_MODELS_DIR: '/work/shared/models' },
  presets: {
    // The same fake server behind an Ollama-type provider: refused settings Ollama's package does not apply.
    ollamaish: { layers: 2, proposers: ['fake:proposer-a'], aggregator: 'fakeollama:aggregator' },
    // A local GGUF aggregator (never loaded here): it cannot call tools.
    localagg: { layers: 2, proposers: ['fake:proposer-a'], aggregator: 'local:stories260K.gguf' },
  },
  providers: { fakeollama: { type: 'ollama', baseURL: 'http://127.0.0.1:9/api' } },
});

function client(): OpenAI {
  return new OpenAI({ baseURL: `${suite.url}/v1`, apiKey: 'unused', maxRetries: 0 });
}

const tools: OpenAI.Chat.Completions.ChatCompletionTool[] = [
  { type: 'function', function: { name: WEATHER_TOOL_NAME, description: 'Weather in a city', parameters: WEATHER_PARAMETERS, strict: true } },
];
const question: OpenAI.Chat.Completions.ChatCompletionMessageParam[] = [{ role: 'user', content: 'What is the weather in Paris?' }];

describe('Chat Completions tools through moa serve', () => {
  it('a tool round trip: tool_calls with finish_reason tool_calls, then the answer from the result; proposers never see tools and are not rerun', async () => {
    suite.fake.setBehavior('aggregator', weatherAggregator());
    const first = await client().chat.completions.create({ model: 'duo', messages: question, tools, tool_choice: 'auto', parallel_tool_calls: false });
    const choice = first.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.content).toBeNull();
    expect(choice.message.tool_calls).toEqual([{ id: expect.any(String), type: 'function', function: { name: WEATHER_TOOL_NAME, arguments: '{"city":"Paris"}' } }]);
    const aggregator = aggregatorCalls(suite.fake.log)[0]!;
    expect(aggregator.tools).toEqual([
      { type: 'function', function: { name: WEATHER_TOOL_NAME, description: 'Weather in a city', parameters: WEATHER_PARAMETERS, strict: true } },
    ]);
    expect(aggregator.toolChoice).toBe('auto');
    expect(aggregator.body['parallel_tool_calls']).toBe(false);
    expect(proposerCalls(suite.fake.log)).toHaveLength(2);
    expect(proposersSawNoTools(suite.fake.log)).toBe(true);

    const call = choice.message.tool_calls![0]!;
    const second = await client().chat.completions.create({
      model: 'duo',
      tools,
      messages: [...question, choice.message, { role: 'tool', tool_call_id: call.id, content: 'Sunny, 24 °C' }],
      moa: { details: true },
    } as never);
    expect(second.choices[0]!.message.content).toBe('The tool said: Sunny, 24 °C');
    expect(second.choices[0]!.finish_reason).toBe('stop');
    // Inside the tool loop the aggregator reused the references: still only the first turn's two proposer calls.
    expect(proposerCalls(suite.fake.log)).toHaveLength(2);
    expect(aggregatorCalls(suite.fake.log)).toHaveLength(2);
    const details = (second as unknown as { moa: { layers: Array<{ status: string; skipped?: { reason: string } }> } }).moa;
    expect(details.layers[0]).toMatchObject({ status: 'skipped', skipped: { reason: 'tool-loop' } });
    // The aggregator saw the call and its result as tool messages.
    const step = aggregatorCalls(suite.fake.log)[1]!;
    expect(step.messages.slice(-2).map((message) => message.role)).toEqual(['assistant', 'tool']);
  });

  it('moa.toolLoop "rerun" runs the proposers again at every step, still without tools', async () => {
    suite.fake.setBehavior('aggregator', weatherAggregator());
    const first = await client().chat.completions.create({ model: 'duo', messages: question, tools });
    const message = first.choices[0]!.message;
    suite.fake.reset();
    suite.fake.setDefaultBehavior({ tokens: 8 });
    suite.fake.setBehavior('aggregator', weatherAggregator());
    await client().chat.completions.create({
      model: 'duo',
      tools,
      messages: [...question, message, { role: 'tool', tool_call_id: message.tool_calls![0]!.id, content: 'Rain' }],
      moa: { toolLoop: 'rerun' },
    } as never);
    expect(proposerCalls(suite.fake.log)).toHaveLength(2);
    expect(proposersSawNoTools(suite.fake.log)).toBe(true);
    // The proposers got the call and its result as plain text.
    expect(JSON.stringify(proposerCalls(suite.fake.log)[0]!.messages)).toContain('Rain');
  });

  it('streams tool calls as delta.tool_calls chunks the client assembles (finish_reason tool_calls)', async () => {
    suite.fake.setBehavior('aggregator', {
      ...weatherAggregator([
        { name: WEATHER_TOOL_NAME, arguments: { city: 'Paris' } },
        { name: WEATHER_TOOL_NAME, arguments: { city: 'Lyon' } },
      ]),
      argumentChunks: 4,
    });
    const stream = client().chat.completions.stream({ model: 'duo', messages: question, tools });
    const deltas: number[] = [];
    stream.on('chunk', (chunk) => {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) deltas.push(call.index);
    });
    const completion = await stream.finalChatCompletion();
    const message = completion.choices[0]!.message;
    expect(completion.choices[0]!.finish_reason).toBe('tool_calls');
    expect(message.tool_calls?.map((call) => [call.function.name, call.function.arguments])).toEqual([
      [WEATHER_TOOL_NAME, '{"city":"Paris"}'],
      [WEATHER_TOOL_NAME, '{"city":"Lyon"}'],
    ]);
    expect(deltas.length).toBeGreaterThan(2); // the arguments came in pieces
    expect(aggregatorCalls(suite.fake.log)[0]!.stream).toBe(true);
    expect(proposersSawNoTools(suite.fake.log)).toBe(true);
  });

  it('.parse with a zod schema: the aggregator gets the JSON schema, the answer is validated and parsed', async () => {
    const Weather = z.object({ city: z.string(), celsius: z.number() });
    let attempts = 0;
    suite.fake.setBehavior('aggregator', {
      // The first answer does not match the schema: the engine rejects it and asks again.
      text: () => (++attempts === 1 ? '{"city":"Paris"}' : '{"city":"Paris","celsius":24}'),
    });
    const completion = await client().chat.completions.parse({ model: 'duo', messages: question, response_format: zodResponseFormat(Weather, 'weather') });
    expect(completion.choices[0]!.message.parsed).toEqual({ city: 'Paris', celsius: 24 });
    expect(attempts).toBe(2);
    // The aggregator was asked for JSON (an openai-compatible provider's package sends json_object: it does not
    // assume the server takes a schema); the schema itself is enforced by the engine's check, as the retry shows.
    expect((aggregatorCalls(suite.fake.log)[0]!.responseFormat as { type: string }).type).toMatch(/^json_(object|schema)$/);
    expect(proposersSawNoTools(suite.fake.log)).toBe(true);
  });

  it('n: several answers over one set of references (the proposers run once)', async () => {
    let answer = 0;
    suite.fake.setBehavior('aggregator', { text: () => `answer ${++answer}` });
    const completion = await client().chat.completions.create({ model: 'duo', messages: question, n: 3 });
    expect(completion.choices.map((choice) => choice.index)).toEqual([0, 1, 2]);
    expect(completion.choices.map((choice) => choice.message.content).sort()).toEqual(['answer 1', 'answer 2', 'answer 3']);
    expect(proposerCalls(suite.fake.log)).toHaveLength(2);
    expect(aggregatorCalls(suite.fake.log)).toHaveLength(3);
  });

  it('n with stream: each choice streams under its index and ends with its own finish chunk', async () => {
    let answer = 0;
    suite.fake.setBehavior('aggregator', { text: () => `answer number ${++answer}` });
    const stream = await client().chat.completions.create({ model: 'duo', messages: question, n: 2, stream: true, stream_options: { include_usage: true } });
    const texts = new Map<number, string>();
    const finishes = new Map<number, string>();
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) {
      for (const choice of chunk.choices) {
        texts.set(choice.index, (texts.get(choice.index) ?? '') + (choice.delta.content ?? ''));
        if (choice.finish_reason) finishes.set(choice.index, choice.finish_reason);
      }
      if (chunk.usage) usage = chunk.usage;
    }
    expect([...texts.keys()].sort()).toEqual([0, 1]);
    expect([...texts.values()].sort()).toEqual(['answer number 1', 'answer number 2']);
    expect(Object.fromEntries(finishes)).toEqual({ 0: 'stop', 1: 'stop' });
    expect(usage?.completion_tokens).toBe(8 + 8 + 3 + 3);
    expect(proposerCalls(suite.fake.log)).toHaveLength(2);
  });

  it('stop, seed, top_p, penalties, logit_bias, user and reasoning_effort reach the aggregator only', async () => {
    await client().chat.completions.create({
      model: 'duo',
      messages: question,
      stop: ['END'],
      seed: 42,
      top_p: 0.5,
      presence_penalty: 0.25,
      frequency_penalty: -0.5,
      logit_bias: { '50256': -100 },
      user: 'user-7',
      reasoning_effort: 'low',
    });
    const aggregator = aggregatorCalls(suite.fake.log)[0]!.body;
    expect(aggregator).toMatchObject({
      stop: ['END'],
      seed: 42,
      top_p: 0.5,
      presence_penalty: 0.25,
      frequency_penalty: -0.5,
      logit_bias: { '50256': -100 },
      user: 'user-7',
      reasoning_effort: 'low',
    });
    for (const proposer of proposerCalls(suite.fake.log)) {
      for (const field of ['stop', 'seed', 'top_p', 'presence_penalty', 'frequency_penalty', 'logit_bias', 'user', 'reasoning_effort'])
        expect(proposer.body[field]).toBeUndefined();
    }
  });

  it('refuses, before any call, a setting a model of the final layer cannot honour, naming the field and the model', async () => {
    for (const [fields, param] of [
      [{ stop: ['END'] }, 'stop'],
      [{ seed: 1 }, 'seed'],
      [{ logit_bias: { '1': 5 } }, 'logit_bias'],
      [{ parallel_tool_calls: false, tools }, 'parallel_tool_calls'],
      [{ reasoning_effort: 'low' }, 'reasoning_effort'],
    ] as const) {
      const error = await client()
        .chat.completions.create({ model: 'ollamaish', messages: question, ...fields } as never)
        .catch((failure: unknown) => failure);
      expect(error, param).toBeInstanceOf(OpenAI.BadRequestError);
      expect(error).toMatchObject({ status: 400, param, code: 'unsupported_parameter' });
      expect((error as Error).message).toContain('fakeollama:aggregator');
    }
    const noTools = await client()
      .chat.completions.create({ model: 'localagg', messages: question, tools })
      .catch((failure: unknown) => failure);
    expect(noTools).toMatchObject({ status: 400, param: 'tools', code: 'tools_unsupported' });
    expect((noTools as Error).message).toContain('local:stories260K.gguf');
    expect(suite.fake.log).toHaveLength(0);
  });

  it('refuses logprobs and a tool result that answers no call, by name', async () => {
    const logprobs = await client()
      .chat.completions.create({ model: 'duo', messages: question, logprobs: true })
      .catch((failure: unknown) => failure);
    expect(logprobs).toMatchObject({ status: 400, param: 'logprobs' });
    const orphan = await client()
      .chat.completions.create({ model: 'duo', messages: [...question, { role: 'tool', tool_call_id: 'call_nope', content: 'x' }] })
      .catch((failure: unknown) => failure);
    expect(orphan).toMatchObject({ status: 400, param: 'messages[1].tool_call_id' });
    expect(suite.fake.log).toHaveLength(0);
  });
});

describe('Responses API tools through moa serve', () => {
  const functionTools: OpenAI.Responses.FunctionTool[] = [
    { type: 'function', name: WEATHER_TOOL_NAME, description: 'Weather in a city', parameters: WEATHER_PARAMETERS, strict: true },
  ];

  it('answers with a function_call item; function_call_output with previous_response_id gets the answer', async () => {
    suite.fake.setBehavior('aggregator', weatherAggregator());
    const first = await client().responses.create({ model: 'duo', input: 'Weather in Paris?', tools: functionTools });
    expect(first.output).toEqual([
      {
        type: 'function_call',
        id: expect.stringMatching(/^fc_/),
        call_id: expect.any(String),
        name: WEATHER_TOOL_NAME,
        arguments: '{"city":"Paris"}',
        status: 'completed',
      },
    ]);
    expect(first.tools).toHaveLength(1);
    const call = first.output[0] as OpenAI.Responses.ResponseFunctionToolCall;
    const second = await client().responses.create({
      model: 'duo',
      previous_response_id: first.id,
      tools: functionTools,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'Sunny' }],
    });
    expect(second.output_text).toBe('The tool said: Sunny');
    expect(proposerCalls(suite.fake.log)).toHaveLength(2); // not rerun inside the tool loop
    expect(proposersSawNoTools(suite.fake.log)).toBe(true);
  });

  it('streams a function call: output_item.added, function_call_arguments.delta/done, output_item.done', async () => {
    suite.fake.setBehavior('aggregator', { ...weatherAggregator(), argumentChunks: 3 });
    const stream = await client().responses.create({ model: 'duo', input: 'Weather in Paris?', tools: functionTools, stream: true });
    const events: Array<{ type: string; delta?: string; arguments?: string }> = [];
    for await (const event of stream) events.push(event);
    const types = events.map((event) => event.type);
    expect(types.slice(0, 3)).toEqual(['response.created', 'response.in_progress', 'response.output_item.added']);
    expect(types.filter((type) => type === 'response.function_call_arguments.delta').length).toBeGreaterThanOrEqual(2);
    expect(
      events
        .filter((event) => event.type === 'response.function_call_arguments.delta')
        .map((event) => event.delta)
        .join(''),
    ).toBe('{"city":"Paris"}');
    expect(events.find((event) => event.type === 'response.function_call_arguments.done')?.arguments).toBe('{"city":"Paris"}');
    expect(types.slice(-2)).toEqual(['response.output_item.done', 'response.completed']);
  });

  it('text.format with a zod schema (responses.parse): validated and parsed', async () => {
    suite.fake.setBehavior('aggregator', { text: '{"city":"Oslo","celsius":-3}' });
    const response = await client().responses.parse({
      model: 'duo',
      input: 'Weather in Oslo as JSON',
      text: { format: zodTextFormat(z.object({ city: z.string(), celsius: z.number() }), 'weather') },
    });
    expect(response.output_parsed).toEqual({ city: 'Oslo', celsius: -3 });
    expect((aggregatorCalls(suite.fake.log)[0]!.responseFormat as { type: string }).type).toMatch(/^json_(object|schema)$/);
    expect(proposersSawNoTools(suite.fake.log)).toBe(true);
  });
});
