// Raw HTTP checks: SSE bytes, every bad-input case, auth, the native run stream and traces.
import { describe, expect, it } from 'vitest';
import { reduceEvents } from '../../src/core/reducer.js';
import { parseTrace } from '../../src/node/trace-file.js';
import type { MoAEvent } from '../../src/core/events.js';
import { ssePayloads, UPSTREAM_SECRET, useServerSuite } from './server-suite.js';

const API_KEY = 'moa-http-test-key-42';
const suite = useServerSuite({ apiKey: API_KEY, limits: { maxBodyBytes: 4096, maxMessages: 5, recentRuns: 3 } });

const auth = { authorization: `Bearer ${API_KEY}` };
const question = [{ role: 'user', content: 'Why is the sky blue?' }];

function post(path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${suite.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...auth, ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function expectError(response: Response, status: number, fields: { param?: string | null; code?: string | null; type?: string }): Promise<string> {
  const text = await response.text();
  expect(response.status, text).toBe(status);
  expect(response.headers.get('content-type')).toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: Record<string, unknown> };
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(typeof body.error['message']).toBe('string');
  expect(body.error).toMatchObject(fields);
  return body.error['message'] as string;
}

describe('POST /v1/chat/completions, raw', () => {
  it('streams exact SSE bytes: data frames, the finish chunk, [DONE]', async () => {
    suite.fake.setBehavior('aggregator', { text: 'a b c' });
    const response = await post('/v1/chat/completions', { model: 'solo', messages: question, stream: true });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    expect(response.headers.get('x-moa-run-id')).toMatch(/^run_/);
    const payloads = ssePayloads(await response.text());
    expect(payloads[payloads.length - 1]).toBe('[DONE]');
    const chunks = payloads
      .slice(0, -1)
      .map((payload) => JSON.parse(payload) as { id: string; choices: Array<{ delta: { content?: string; role?: string }; finish_reason: string | null }> });
    expect(chunks.map((chunk) => [chunk.choices[0]!.delta, chunk.choices[0]!.finish_reason])).toEqual([
      [{ role: 'assistant', content: '' }, null],
      [{ content: 'a ' }, null],
      [{ content: 'b ' }, null],
      [{ content: 'c' }, null],
      [{}, 'stop'],
    ]);
    expect(chunks[0]!.id).toBe(`chatcmpl-${response.headers.get('x-moa-run-id')!.replace(/^run_/, '')}`);
  });

  it('puts the moa extension on the final chunk when the X-MoA-Details header asks for it', async () => {
    const response = await post('/v1/chat/completions', { model: 'duo', messages: question, stream: true }, { 'x-moa-details': 'true' });
    const payloads = ssePayloads(await response.text());
    const last = JSON.parse(payloads[payloads.length - 2]!) as { moa?: { layers: unknown[] }; choices: Array<{ finish_reason: string }> };
    expect(last.choices[0]!.finish_reason).toBe('stop');
    expect(last.moa?.layers).toHaveLength(2);
    const others = payloads.slice(0, -2).map((payload) => JSON.parse(payload) as { moa?: unknown });
    expect(others.every((chunk) => chunk.moa === undefined)).toBe(true);
  });

  const badRequests: Array<[string, string | Record<string, unknown>, number, { param: string | null; code: string }]> = [
    ['malformed JSON', '{"model": "duo", "messages": [', 400, { param: null, code: 'invalid_json' }],
    ['a JSON array body', '[1, 2]', 400, { param: null, code: 'invalid_json' }],
    ['no model', { messages: question }, 400, { param: 'model', code: 'missing_required_parameter' }],
    ['model of the wrong type', { model: 42, messages: question }, 400, { param: 'model', code: 'invalid_value' }],
    ['messages not an array', { model: 'duo', messages: 'hi' }, 400, { param: 'messages', code: 'invalid_value' }],
    ['empty messages', { model: 'duo', messages: [] }, 400, { param: 'messages', code: 'invalid_value' }],
    ['a bad role', { model: 'duo', messages: [{ role: 'function', content: 'x' }] }, 400, { param: 'messages[0].role', code: 'invalid_value' }],
    [
      'a tool message without tool_call_id',
      { model: 'duo', messages: [{ role: 'tool', content: 'x' }] },
      400,
      { param: 'messages[0].tool_call_id', code: 'missing_required_parameter' },
    ],
    ['content of the wrong type', { model: 'duo', messages: [{ role: 'user', content: 5 }] }, 400, { param: 'messages[0].content', code: 'invalid_value' }],
    [
      'an image part',
      { model: 'duo', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] },
      400,
      { param: 'messages[0].content[0].type', code: 'unsupported_parameter' },
    ],
    ['temperature as a string', { model: 'duo', messages: question, temperature: 'hot' }, 400, { param: 'temperature', code: 'invalid_value' }],
    ['max_tokens not whole', { model: 'duo', messages: question, max_tokens: 2.5 }, 400, { param: 'max_tokens', code: 'invalid_value' }],
    ['stream not boolean', { model: 'duo', messages: question, stream: 'yes' }, 400, { param: 'stream', code: 'invalid_value' }],
    ['n over the limit', { model: 'duo', messages: question, n: 50 }, 400, { param: 'n', code: 'invalid_value' }],
    [
      'a tool that is not a function',
      { model: 'duo', messages: question, tools: [{ type: 'custom', custom: { name: 'x' } }] },
      400,
      { param: 'tools[0].type', code: 'invalid_value' },
    ],
    [
      'the last turn not the user',
      { model: 'duo', messages: [...question, { role: 'assistant', content: 'ok' }] },
      400,
      { param: 'messages[1].role', code: 'invalid_input' },
    ],
    ['an empty prompt', { model: 'duo', messages: [{ role: 'user', content: '  ' }] }, 400, { param: 'messages[0].content', code: 'invalid_input' }],
    ['too many messages', { model: 'duo', messages: Array.from({ length: 6 }, () => question[0]) }, 400, { param: 'messages', code: 'too_many_messages' }],
    ['an unknown preset', { model: 'gpt-17', messages: question }, 404, { param: 'model', code: 'model_not_found' }],
    ['a body over the limit', { model: 'duo', messages: [{ role: 'user', content: 'x'.repeat(5000) }] }, 413, { param: null, code: 'request_too_large' }],
  ];

  for (const [name, body, status, fields] of badRequests) {
    it(`answers ${status} for ${name}, naming the field`, async () => {
      const message = await expectError(await post('/v1/chat/completions', body), status, fields);
      if (fields.param) expect(message).toContain(fields.param.split('[')[0]!);
      expect(suite.fake.log).toHaveLength(0);
    });
  }

  it('answers 413 for an oversized body sent without Content-Length (chunked)', async () => {
    const big = JSON.stringify({ model: 'duo', messages: [{ role: 'user', content: 'y'.repeat(10_000) }] });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(big));
        controller.close();
      },
    });
    const response = await fetch(`${suite.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body,
      duplex: 'half',
    } as RequestInit);
    await expectError(response, 413, { code: 'request_too_large' });
  });

  it('keeps serving after bad input', async () => {
    await post('/v1/chat/completions', '{{{').then((response) => response.text());
    const response = await post('/v1/chat/completions', { model: 'solo', messages: question });
    expect(response.status).toBe(200);
  });
});

describe('auth', () => {
  it('requires the bearer key on /v1 and /api, with an OpenAI error body', async () => {
    for (const [path, init] of [
      ['/v1/models', {}],
      ['/v1/chat/completions', { method: 'POST', body: JSON.stringify({ model: 'duo', messages: question }) }],
      ['/api/runs', { method: 'POST', body: JSON.stringify({ model: 'duo', messages: question }) }],
      ['/api/runs/run_x', {}],
    ] as const) {
      const missing = await fetch(`${suite.url}${path}`, init);
      await expectError(missing, 401, { code: 'invalid_api_key', type: 'invalid_request_error' });
      const wrong = await fetch(`${suite.url}${path}`, { ...init, headers: { authorization: `Bearer ${API_KEY}x` } });
      await expectError(wrong, 401, { code: 'invalid_api_key' });
    }
    expect(suite.fake.log).toHaveLength(0);
  });

  it('leaves /healthz and the web page public', async () => {
    const health = await fetch(`${suite.url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok' });
    const page = await fetch(`${suite.url}/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
  });

  it('answers unknown API routes with a 404 OpenAI error', async () => {
    await expectError(await fetch(`${suite.url}/v1/embeddings`, { method: 'POST', headers: auth }), 404, { code: 'not_found' });
  });
});

describe('POST /api/runs and GET /api/runs/:id', () => {
  async function liveRun(body: unknown): Promise<{ runId: string; events: MoAEvent[]; response: Response }> {
    const response = await post('/api/runs', body);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream; charset=utf-8');
    const runId = response.headers.get('x-moa-run-id') ?? '';
    const events = ssePayloads(await response.text()).map((payload) => JSON.parse(payload) as MoAEvent);
    return { runId, events, response };
  }

  it('streams every event of the run, every agent streaming, and ends after run-end', async () => {
    suite.fake.setBehavior('proposer-a', { text: 'alpha beta' });
    const { runId, events } = await liveRun({ model: 'duo', messages: question, temperature: 0.3 });
    expect(runId).toMatch(/^run_/);
    expect(events.map((event) => event.seq)).toEqual(events.map((_, index) => index));
    expect(events.every((event) => event.runId === runId)).toBe(true);
    expect(events[0]).toMatchObject({ type: 'run-start', preset: 'duo', stream: 'all' });
    expect(events[events.length - 1]!.type).toBe('run-end');
    const deltaAgents = new Set(events.flatMap((event) => (event.type === 'agent-delta' ? [`${event.layer}/${event.agent}`] : [])));
    expect([...deltaAgents].sort()).toEqual(['0/0', '0/1', '1/0']);
    const result = reduceEvents(events);
    expect(result.status).toBe('done');
    expect(result.layers[0]!.agents[0]!.text).toBe('alpha beta');
    expect(suite.fake.log.every((entry) => entry.stream)).toBe(true);
    expect(suite.fake.log.find((entry) => entry.model === 'aggregator')!.temperature).toBe(0.3);
  });

  it('returns a recent run as NDJSON, byte-identical in format to a trace file', async () => {
    const { runId, events } = await liveRun({ model: 'duo', messages: question });
    const response = await fetch(`${suite.url}/api/runs/${runId}`, { headers: auth });
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
    const text = await response.text();
    expect(text).toBe(events.map((event) => `${JSON.stringify(event)}\n`).join(''));
    expect(parseTrace(text).events).toEqual(events);
  });

  it('keeps chat completion runs too, and forgets runs beyond the limit', async () => {
    const first = await post('/v1/chat/completions', { model: 'solo', messages: question });
    const firstId = first.headers.get('x-moa-run-id')!;
    await first.text();
    const trace = await fetch(`${suite.url}/api/runs/${firstId}`, { headers: auth });
    expect(reduceEvents(parseTrace(await trace.text()).events)).toMatchObject({ status: 'done', stream: 'none' });
    for (let index = 0; index < 3; index++) await (await post('/v1/chat/completions', { model: 'solo', messages: question })).text();
    await expectError(await fetch(`${suite.url}/api/runs/${firstId}`, { headers: auth }), 404, { code: 'run_not_found' });
  });

  it('answers bad input with a 4xx JSON error, not a stream', async () => {
    await expectError(await post('/api/runs', { model: 'nope', messages: question }), 404, { code: 'model_not_found' });
    await expectError(await post('/api/runs', { model: 'duo', messages: [] }), 400, { param: 'messages' });
    await expectError(await fetch(`${suite.url}/api/runs/run_unknown`, { headers: auth }), 404, { code: 'run_not_found', param: 'id' });
  });

  it('streams a failed run to its run-error event, with the provider message redacted', async () => {
    suite.fake.setBehavior('aggregator', { alwaysFail: { status: 401, message: `bad key ${UPSTREAM_SECRET}` } });
    const { events } = await liveRun({ model: 'solo', messages: question });
    const last = events[events.length - 1]!;
    expect(last.type).toBe('run-error');
    expect(JSON.stringify(events)).toContain('bad key');
    expect(JSON.stringify(events)).not.toContain(UPSTREAM_SECRET);
  });
});
