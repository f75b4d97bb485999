// `maxConcurrency: 'auto'` over HTTP, through the AI SDK's own provider: a streamed call counts as a
// success once its response has started (where a 429 would have shown), so a burst of long answers
// ramps the limit up without waiting for the first answer to end.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { streamMoA } from '../../src/index.js';
import { AUTO_CONCURRENCY, CallScheduler } from '../../src/models/call-scheduler.js';
import { createModelRegistry } from '../../src/models/registry.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';

let server: FakeLLMServer;
beforeAll(async () => {
  server = await startFakeLLMServer();
});
afterAll(async () => {
  await server?.close();
});

describe("maxConcurrency: 'auto' against an HTTP provider", () => {
  it('lets more calls go once the first responses have started, before any answer has ended', async () => {
    // Answers that take ~1.2 s to stream: none ends while the limit ramps.
    server.setBehavior('writer', { tokens: 40, tokenDelayMs: 30 });
    const registry = createModelRegistry({ providers: { lab: { type: 'openai-compatible', baseURL: server.url } }, scheduler: new CallScheduler() });
    const runs = Array.from({ length: 48 }, (_, index) => streamMoA({ layers: 1, aggregator: 'lab:writer' }, `question ${index}`, { registry }));
    const results = await Promise.all(runs.map((run) => run.result));

    expect(results.every((result) => result.text.split(' ').length >= 40)).toBe(true);
    const requests = server.log.filter((entry) => entry.model === 'writer');
    expect(requests).toHaveLength(48);
    const firstEnd = Math.min(...requests.map((entry) => entry.endedAt!));
    const sentBeforeFirstEnd = requests.filter((entry) => entry.startedAt < firstEnd).length;
    // Counting only ended answers, exactly the initial limit would have been sent by then.
    expect(sentBeforeFirstEnd).toBeGreaterThan(AUTO_CONCURRENCY.initial);
    const limits = runs.flatMap((run) => run.events.filter((event) => event.type === 'agent-call').map((event) => event.concurrency));
    expect(Math.max(...limits.map((limit) => limit ?? 0))).toBeGreaterThan(AUTO_CONCURRENCY.initial);
    await registry.close();
  });
});
