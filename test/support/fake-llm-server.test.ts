import { describe, it, expect, beforeAll, afterAll, beforeEach } from 'vitest';
import { startFakeLLMServer, type FakeLLMServer } from './fake-llm-server.js';

let server: FakeLLMServer;

beforeAll(async () => {
  server = await startFakeLLMServer();
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
});

interface CompletionBody {
  model: string;
  messages: Array<{ role: string; content: unknown }>;
  stream?: boolean;
  max_tokens?: number;
  temperature?: number;
  stream_options?: { include_usage: boolean };
}

function post(body: CompletionBody | string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: 'Bearer sk-test-123' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
    ...init,
  });
}

const userMessages = [
  { role: 'system', content: 'be brief' },
  { role: 'user', content: [{ type: 'text', text: 'hello there friend' }] },
];

/** Parses an SSE body into its data payloads. */
function sseEvents(text: string): string[] {
  return text
    .split('\n\n')
    .filter((event) => event.length > 0)
    .map((event) => {
      expect(event.startsWith('data: ')).toBe(true);
      return event.slice('data: '.length);
    });
}

describe('fake LLM server', () => {
  it('answers a JSON chat completion with deterministic filler and usage', async () => {
    server.setBehavior('alpha', { tokens: 5 });
    const response = await post({ model: 'alpha', messages: userMessages, temperature: 0.3 });
    expect(response.status).toBe(200);
    const json = (await response.json()) as Record<string, unknown>;
    expect(json).toMatchObject({
      object: 'chat.completion',
      model: 'alpha',
      choices: [{ index: 0, message: { role: 'assistant', content: '[alpha] w1 w2 w3 w4' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 5, completion_tokens: 5, total_tokens: 10 },
    });
    expect(server.log).toHaveLength(1);
    expect(server.log[0]).toMatchObject({ model: 'alpha', stream: false, temperature: 0.3, authorization: 'Bearer sk-test-123', outcome: 'ok', status: 200 });
  });

  it('uses text functions, default behaviour and truncates at max_tokens', async () => {
    server.setDefaultBehavior({ text: (request) => `echo ${request.model} one two three` });
    const response = await post({ model: 'anything', messages: userMessages, max_tokens: 3 });
    const json = (await response.json()) as { choices: Array<{ message: { content: string }; finish_reason: string }>; usage: { completion_tokens: number } };
    expect(json.choices[0]?.message.content).toBe('echo anything one');
    expect(json.choices[0]?.finish_reason).toBe('length');
    expect(json.usage.completion_tokens).toBe(3);
    expect(server.log[0]?.maxTokens).toBe(3);
  });

  it('streams SSE chunks that reassemble to the same text, then usage and [DONE]', async () => {
    server.setBehavior('beta', { tokens: 7, chunkTokens: 2, tokenDelayMs: 2 });
    const plain = (await (await post({ model: 'beta', messages: userMessages })).json()) as { choices: Array<{ message: { content: string } }> };
    const response = await post({ model: 'beta', messages: userMessages, stream: true, stream_options: { include_usage: true } });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const events = sseEvents(await response.text());
    expect(events.at(-1)).toBe('[DONE]');
    const chunks = events.slice(0, -1).map(
      (event) =>
        JSON.parse(event) as {
          object: string;
          choices: Array<{ delta: { role?: string; content?: string }; finish_reason: string | null }>;
          usage?: Record<string, number>;
        },
    );
    expect(chunks.every((chunk) => chunk.object === 'chat.completion.chunk')).toBe(true);
    expect(chunks[0]?.choices[0]?.delta).toEqual({ role: 'assistant', content: '' });
    const contentChunks = chunks.filter((chunk) => (chunk.choices[0]?.delta.content ?? '') !== '');
    expect(contentChunks).toHaveLength(4); // 7 tokens, 2 per chunk
    const text = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
    expect(text).toBe(plain.choices[0]?.message.content);
    expect(chunks.at(-2)?.choices[0]?.finish_reason).toBe('stop');
    const usageChunk = chunks.at(-1);
    expect(usageChunk?.choices).toEqual([]);
    expect(usageChunk?.usage).toEqual({ prompt_tokens: 5, completion_tokens: 7, total_tokens: 12 });
    const entry = server.log[1];
    expect(entry?.outcome).toBe('ok');
    expect((entry?.endedAt ?? 0) - (entry?.firstByteAt ?? 0)).toBeGreaterThanOrEqual(5); // 3 gaps of 2 ms
  });

  it('omits the usage chunk without stream_options.include_usage', async () => {
    const events = sseEvents(await (await post({ model: 'gamma', messages: userMessages, stream: true })).text());
    expect(events.at(-1)).toBe('[DONE]');
    expect(events.some((event) => event.includes('"usage"'))).toBe(false);
  });

  it('consumes failures in order with Retry-After, then succeeds', async () => {
    server.setBehavior('flaky', {
      failures: [
        { status: 429, retryAfter: 2 },
        { status: 503, message: 'overloaded' },
      ],
    });
    const first = await post({ model: 'flaky', messages: userMessages });
    expect(first.status).toBe(429);
    expect(first.headers.get('retry-after')).toBe('2');
    expect(await first.json()).toEqual({ error: { message: 'fake upstream error 429 for model flaky', type: 'rate_limit_error', code: null } });
    const second = await post({ model: 'flaky', messages: userMessages, stream: true });
    expect(second.status).toBe(503);
    expect(second.headers.get('retry-after')).toBeNull();
    expect(await second.json()).toEqual({ error: { message: 'overloaded', type: 'server_error', code: null } });
    const third = await post({ model: 'flaky', messages: userMessages });
    expect(third.status).toBe(200);
    await third.json();
    expect(server.log.map((entry) => [entry.outcome, entry.status])).toEqual([
      ['failed', 429],
      ['failed', 503],
      ['ok', 200],
    ]);
  });

  it('fails every request with alwaysFail', async () => {
    server.setBehavior('broken', { alwaysFail: { status: 500 } });
    for (let attempt = 0; attempt < 3; attempt++) {
      const response = await post({ model: 'broken', messages: userMessages });
      expect(response.status).toBe(500);
      await response.json();
    }
    expect(server.log.every((entry) => entry.outcome === 'failed')).toBe(true);
  });

  it('hangs until the client aborts and logs the request as aborted', async () => {
    server.setBehavior('stuck', { hangTimes: 1 });
    const controller = new AbortController();
    const pending = post({ model: 'stuck', messages: userMessages }, { signal: controller.signal });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(server.log[0]?.outcome).toBe('pending');
    controller.abort();
    await expect(pending).rejects.toThrow();
    await server.waitForIdle(1_000);
    expect(server.log[0]?.outcome).toBe('aborted');
    const retry = await post({ model: 'stuck', messages: userMessages });
    expect(retry.status).toBe(200);
    await retry.json();
    expect(server.log[1]?.outcome).toBe('ok');
  });

  it('marks a slow stream aborted when the client goes away mid-stream', async () => {
    server.setBehavior('slow', { tokens: 50, tokenDelayMs: 10 });
    const controller = new AbortController();
    const response = await post({ model: 'slow', messages: userMessages, stream: true }, { signal: controller.signal });
    const reader = response.body?.getReader();
    await reader?.read();
    controller.abort();
    await server.waitForIdle(1_000);
    expect(server.log[0]?.outcome).toBe('aborted');
  });

  it('rejects bad JSON with an OpenAI-shaped 400 and unknown routes with 404', async () => {
    const bad = await post('{not json');
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error', code: null } });
    const missing = await fetch(`${server.url}/audio/speech`, { method: 'POST', body: '{}' });
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { type: 'not_found_error' } });
  });

  it('lists models that have behaviours', async () => {
    server.setBehavior('one', {});
    server.setBehavior('two', {});
    const json = (await (await fetch(`${server.url}/models`)).json()) as { data: Array<{ id: string }> };
    expect(json.data.map((model) => model.id)).toEqual(['one', 'two']);
  });

  it('serves concurrent requests in overlapping time windows', async () => {
    server.setDefaultBehavior({ delayMs: 40, tokens: 3 });
    const responses = await Promise.all(['p1', 'p2', 'p3'].map((model) => post({ model, messages: userMessages }).then((response) => response.json())));
    expect(responses).toHaveLength(3);
    const latestStart = Math.max(...server.log.map((entry) => entry.startedAt));
    const earliestEnd = Math.min(...server.log.map((entry) => entry.endedAt ?? 0));
    expect(latestStart).toBeLessThan(earliestEnd);
    for (const entry of server.log) expect((entry.endedAt ?? 0) - entry.startedAt).toBeGreaterThanOrEqual(35);
  });

  it('paces a JSON answer like the same answer streamed when asked (paceNonStreamed)', async () => {
    server.setBehavior('paced', { tokens: 12, chunkTokens: 4, tokenDelayMs: 30, paceNonStreamed: true });
    server.setBehavior('unpaced', { tokens: 12, chunkTokens: 4, tokenDelayMs: 30 });
    const answers = await Promise.all(['paced', 'unpaced'].map((model) => post({ model, messages: userMessages }).then((response) => response.json())));
    expect(answers.map((answer) => (answer as { choices: Array<{ message: { content: string } }> }).choices[0]?.message.content)).toEqual([
      '[paced] w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11',
      '[unpaced] w1 w2 w3 w4 w5 w6 w7 w8 w9 w10 w11',
    ]);
    const paced = server.log.find((entry) => entry.model === 'paced')!;
    // 3 chunks: the two after the first wait 30 ms each (a lower bound: timers never fire early).
    expect((paced.endedAt ?? 0) - paced.startedAt).toBeGreaterThanOrEqual(55);
    expect(paced.outcome).toBe('ok');
  });

  it('holds hundreds of requests open at once (none waits for another), and aborting them closes every one', async () => {
    server.setDefaultBehavior({ hang: true });
    const count = 500;
    const controllers = Array.from({ length: count }, () => new AbortController());
    const requests = controllers.map((controller, index) =>
      post({ model: `m${index % 5}`, messages: userMessages, stream: index % 2 === 0 }, { signal: controller.signal }).then(
        () => 'answered',
        () => 'aborted',
      ),
    );
    // Every request reaches the server while all the others are still open.
    while (server.log.length < count) await new Promise((resolve) => setTimeout(resolve, 10));
    expect(server.log.filter((entry) => entry.outcome === 'pending')).toHaveLength(count);
    for (const controller of controllers) controller.abort();
    expect(new Set(await Promise.all(requests))).toEqual(new Set(['aborted']));
    await server.waitForIdle();
    expect(server.log.every((entry) => entry.outcome === 'aborted')).toBe(true);
  });

  it("answers hundreds of concurrent requests, JSON and SSE mixed, each with its own model's text and usage", async () => {
    server.setDefaultBehavior({ tokens: 10 });
    const count = 500;
    const texts = await Promise.all(
      Array.from({ length: count }, (_, index) =>
        post({ model: `m${index % 5}`, messages: userMessages, stream: index % 2 === 0, stream_options: { include_usage: true } }).then(async (response) => {
          expect(response.status).toBe(200);
          if (index % 2 === 1) {
            const json = (await response.json()) as { model: string; choices: Array<{ message: { content: string } }>; usage: { completion_tokens: number } };
            expect(json.model).toBe(`m${index % 5}`);
            expect(json.usage.completion_tokens).toBe(10);
            return json.choices[0]?.message.content;
          }
          const events = sseEvents(await response.text());
          expect(events.at(-1)).toBe('[DONE]');
          const chunks = events
            .slice(0, -1)
            .map((event) => JSON.parse(event) as { choices: Array<{ delta: { content?: string } }>; usage?: { completion_tokens: number } });
          expect(chunks.at(-1)?.usage?.completion_tokens).toBe(10);
          return chunks.map((chunk) => chunk.choices[0]?.delta.content ?? '').join('');
        }),
      ),
    );
    texts.forEach((text, index) => expect(text).toBe(`[m${index % 5}] w1 w2 w3 w4 w5 w6 w7 w8 w9`));
    expect(server.log).toHaveLength(count);
    expect(server.log.every((entry) => entry.outcome === 'ok' && entry.status === 200)).toBe(true);
    expect(new Set(server.log.map((entry) => entry.id)).size).toBe(count);
    expect(server.log.filter((entry) => entry.stream)).toHaveLength(count / 2);
  });

  describe('tool calls', () => {
    const tools = [
      { type: 'function', function: { name: 'get_weather', description: 'weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } },
    ];
    const call = { id: 'call_1', name: 'get_weather', arguments: { city: 'Paris' } };

    it('answers with message.tool_calls and finish_reason tool_calls, and logs tools, tool_choice and response_format', async () => {
      server.setBehavior('agg', { toolCalls: [call] });
      const body = { model: 'agg', messages: userMessages, tools, tool_choice: 'auto', response_format: { type: 'json_object' }, seed: 7 };
      const json = (await (await post(body)).json()) as { choices: Array<{ message: Record<string, unknown>; finish_reason: string }> };
      expect(json.choices[0]).toEqual({
        index: 0,
        message: { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
        finish_reason: 'tool_calls',
      });
      expect(server.log[0]).toMatchObject({ tools, toolChoice: 'auto', responseFormat: { type: 'json_object' } });
      expect(server.log[0]!.body['seed']).toBe(7);

      server.setBehavior('agg', { toolCalls: [call], toolCallText: 'Let me check.' });
      const withText = (await (await post({ model: 'agg', messages: userMessages })).json()) as {
        choices: Array<{ message: { content: unknown; tool_calls: unknown[] } }>;
      };
      expect(withText.choices[0]!.message.content).toBe('Let me check.');
      expect(withText.choices[0]!.message.tool_calls).toHaveLength(1);
    });

    it('streams tool calls as delta.tool_calls chunks whose arguments reassemble', async () => {
      server.setBehavior('agg', { toolCalls: [call, { name: 'get_time', arguments: '{}' }], argumentChunks: 4 });
      const text = await (await post({ model: 'agg', messages: userMessages, stream: true, stream_options: { include_usage: true } })).text();
      const payloads = sseEvents(text);
      expect(payloads[payloads.length - 1]).toBe('[DONE]');
      const chunks = payloads.slice(0, -1).map(
        (payload) =>
          JSON.parse(payload) as {
            choices: Array<{
              delta: { tool_calls?: Array<{ index: number; id?: string; function: { name?: string; arguments: string } }> };
              finish_reason: string | null;
            }>;
            usage?: unknown;
          },
      );
      const calls = new Map<number, { id?: string; name?: string; arguments: string }>();
      for (const chunk of chunks) {
        for (const delta of chunk.choices[0]?.delta.tool_calls ?? []) {
          const current = calls.get(delta.index) ?? { arguments: '' };
          if (delta.id) current.id = delta.id;
          if (delta.function.name) current.name = delta.function.name;
          current.arguments += delta.function.arguments;
          calls.set(delta.index, current);
        }
      }
      expect([...calls.values()]).toEqual([
        { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' },
        { id: expect.stringMatching(/^call_fake_/), name: 'get_time', arguments: '{}' },
      ]);
      const argumentChunks = chunks.filter((chunk) => chunk.choices[0]?.delta.tool_calls?.[0]?.index === 0 && chunk.choices[0].delta.tool_calls[0].id === undefined);
      expect(argumentChunks).toHaveLength(4);
      expect(chunks.find((chunk) => chunk.choices[0]?.finish_reason)?.choices[0]?.finish_reason).toBe('tool_calls');
      expect(chunks[chunks.length - 1]!.usage).toBeDefined();
    });

    it('decides per request: a call while the last message is the user, text after a tool result', async () => {
      server.setBehavior('agg', {
        toolCalls: (request) => (request.messages[request.messages.length - 1]?.role === 'tool' ? undefined : [call]),
        text: (request) => `result was ${String(request.messages[request.messages.length - 1]?.content)}`,
      });
      const first = (await (await post({ model: 'agg', messages: userMessages })).json()) as {
        choices: Array<{ message: { content: unknown; tool_calls?: unknown[] } }>;
      };
      expect(first.choices[0]!.message.tool_calls).toHaveLength(1);
      const followUp = [
        ...userMessages,
        { role: 'assistant', content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
      ];
      const second = (await (await post({ model: 'agg', messages: followUp })).json()) as {
        choices: Array<{ message: { content: unknown; tool_calls?: unknown[] }; finish_reason: string }>;
      };
      expect(second.choices[0]).toMatchObject({ message: { content: 'result was sunny' }, finish_reason: 'stop' });
      expect(second.choices[0]!.message.tool_calls).toBeUndefined();
    });
  });
});
