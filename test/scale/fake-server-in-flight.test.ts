// The fake server's `maxInFlight`, which the scale-out tests read to check a global concurrency limit.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';

let server: FakeLLMServer;
beforeAll(async () => {
  server = await startFakeLLMServer({ defaultBehavior: { tokens: 3 } });
});
afterAll(async () => {
  await server.close();
});

function complete(content: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${server.url}/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: 'm', messages: [{ role: 'user', content }] }),
    ...(signal ? { signal } : {}),
  });
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((resolve) => setTimeout(resolve, 5));
}

describe('fake LLM server: maxInFlight', () => {
  it('is the peak of requests in flight at once, and reset() starts it again', async () => {
    expect(server.maxInFlight).toBe(0);
    // Three requests that hang until the client gives up: all three are in flight at once.
    server.setBehavior('m', { hang: true });
    const controller = new AbortController();
    const hanging = ['a', 'b', 'c'].map((prompt) => complete(prompt, controller.signal).catch(() => undefined));
    await until(() => server.log.filter((entry) => entry.outcome === 'pending').length === 3);
    expect(server.maxInFlight).toBe(3);
    controller.abort();
    await Promise.all(hanging);
    await server.waitForIdle();

    server.reset();
    server.setDefaultBehavior({ tokens: 3 });
    expect(server.maxInFlight).toBe(0);
    for (const prompt of ['d', 'e']) expect((await complete(prompt)).status).toBe(200);
    expect(server.maxInFlight).toBe(1);
  });
});
