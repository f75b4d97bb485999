// Client disconnects cancel every upstream call of the run; upstream timeouts and mid-stream failures.
import { describe, expect, it } from 'vitest';
import type { FakeLogEntry } from '../support/fake-llm-server.js';
import { ssePayloads, useServerSuite } from './server-suite.js';

// A short per-call timeout and one retry, so timeouts are quick to provoke.
const suite = useServerSuite({ runOptions: { attemptTimeoutMs: 400, maxRetries: 1, retryBaseDelayMs: 1, retryMaxDelayMs: 5 } });
const question = [{ role: 'user', content: 'Tell me a long story' }];

async function until(condition: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

function pending(model?: string): FakeLogEntry[] {
  return suite.fake.log.filter((entry) => entry.outcome === 'pending' && (model === undefined || entry.model === model));
}

async function expectAllAborted(models: string[]): Promise<void> {
  await suite.fake.waitForIdle(5_000);
  expect(pending()).toEqual([]);
  for (const model of models) {
    const entries = suite.fake.log.filter((entry) => entry.model === model);
    expect(entries.length, `requests to ${model}`).toBeGreaterThan(0);
    expect(entries.map((entry) => entry.outcome)).toEqual(entries.map(() => 'aborted'));
  }
  // And nothing new is started afterwards (the run did not go on to the next layer).
  const count = suite.fake.log.length;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(suite.fake.log).toHaveLength(count);
  expect(suite.server.moa.runs.activeCount()).toBe(0);
}

function post(path: string, body: unknown, signal: AbortSignal): Promise<Response> {
  return fetch(`${suite.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });
}

describe('a client that goes away', () => {
  it('cancels the proposers of a non-streaming completion', async () => {
    suite.fake.setBehavior('proposer-a', { hang: true });
    suite.fake.setBehavior('proposer-b', { delayMs: 60_000 });
    const controller = new AbortController();
    const request = post('/v1/chat/completions', { model: 'duo', messages: question }, controller.signal).catch((error: unknown) => error);
    await until(() => pending().length === 2, 'both proposer calls to start');
    controller.abort();
    expect(await request).toBeInstanceOf(Error);
    await expectAllAborted(['proposer-a', 'proposer-b']);
    expect(suite.fake.log.some((entry) => entry.model === 'aggregator')).toBe(false);
  });

  it('cancels the aggregator of a streaming completion mid-answer', async () => {
    suite.fake.setBehavior('aggregator', { tokens: 200, tokenDelayMs: 30 });
    const controller = new AbortController();
    const response = await post('/v1/chat/completions', { model: 'duo', messages: question, stream: true }, controller.signal);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('"role":"assistant"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended early');
      seen += new TextDecoder().decode(value);
    }
    expect(pending('aggregator')).toHaveLength(1);
    controller.abort();
    await reader.cancel().catch(() => undefined);
    await expectAllAborted(['aggregator']);
    expect(suite.fake.log.filter((entry) => entry.model !== 'aggregator').map((entry) => entry.outcome)).toEqual(['ok', 'ok']);
  });

  it('cancels every streaming agent of a live run (POST /api/runs)', async () => {
    suite.fake.setDefaultBehavior({ tokens: 200, tokenDelayMs: 30 });
    const controller = new AbortController();
    const response = await post('/api/runs', { model: 'duo', messages: question }, controller.signal);
    expect(response.status).toBe(200);
    const reader = response.body!.getReader();
    let seen = '';
    while (!seen.includes('"agent-delta"')) {
      const { value, done } = await reader.read();
      if (done) throw new Error('the stream ended early');
      seen += new TextDecoder().decode(value);
    }
    controller.abort();
    await reader.cancel().catch(() => undefined);
    await expectAllAborted(['proposer-a', 'proposer-b']);
  });
});

describe('upstream failures', () => {
  it('maps an upstream timeout to 504 with the timeout message', async () => {
    suite.fake.setBehavior('aggregator', { hang: true });
    const response = await fetch(`${suite.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'solo', messages: question }),
    });
    const body = (await response.json()) as { error: { message: string; code: string; type: string } };
    expect(response.status).toBe(504);
    expect(body.error).toMatchObject({ code: 'upstream_timeout', type: 'upstream_error' });
    expect(body.error.message).toContain('no complete answer within 400 ms');
    expect(suite.fake.log.filter((entry) => entry.model === 'aggregator')).toHaveLength(2); // first attempt + one retry
    await suite.fake.waitForIdle();
  });

  it('continues a stream whose aggregator broke off after streaming tokens: nothing taken back, nothing repeated', async () => {
    // The first attempt streams two tokens, then the upstream sends an error chunk; the retry is asked to continue.
    suite.fake.setBehavior('aggregator', {
      tokenDelayMs: 5,
      streamError: { afterTokens: 2, times: 1, body: { error: { code: 502, message: 'upstream broke off' } } },
      text: (request) => {
        const last = request.messages[request.messages.length - 1]!;
        // A chat model asked to continue often repeats the end of what it wrote: the engine drops that.
        return last.role === 'assistant' ? 'two and the rest of the answer.' : 'one two three four';
      },
    });
    const response = await fetch(`${suite.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'solo', messages: question, stream: true }),
    });
    expect(response.status).toBe(200);
    const payloads = ssePayloads(await response.text());
    expect(payloads[payloads.length - 1]).toBe('[DONE]');
    const content = payloads
      .filter((payload) => payload !== '[DONE]')
      .map((payload) => (JSON.parse(payload) as { choices: Array<{ delta: { content?: string } }> }).choices[0]?.delta.content ?? '')
      .join('');
    expect(content).toBe('one two and the rest of the answer.');
    const calls = suite.fake.log.filter((entry) => entry.model === 'aggregator');
    expect(calls).toHaveLength(2);
    expect(calls[1]!.messages[calls[1]!.messages.length - 1]).toMatchObject({ role: 'assistant', content: 'one two' });
    expect(suite.server.moa.runs.activeCount()).toBe(0);
  });

  it('keeps a retry before the first token invisible to a streaming client', async () => {
    suite.fake.setBehavior('aggregator', { text: 'fine now', failures: [{ status: 503, message: 'busy' }] });
    const response = await fetch(`${suite.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'solo', messages: question, stream: true }),
    });
    const payloads = ssePayloads(await response.text());
    expect(payloads[payloads.length - 1]).toBe('[DONE]');
    const content = payloads
      .slice(0, -1)
      .map((payload) => (JSON.parse(payload) as { choices: Array<{ delta: { content?: string } }> }).choices[0]!.delta.content ?? '')
      .join('');
    expect(content).toBe('fine now');
    expect(suite.fake.log.map((entry) => entry.outcome)).toEqual(['failed', 'ok']);
  });
});
