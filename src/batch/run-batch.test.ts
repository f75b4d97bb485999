import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createMemoryResponseCache } from '../core/response-cache.js';
import { reduceEvents } from '../core/reducer.js';
import { readTrace } from '../node/trace-file.js';
import { hangUntilAborted, mockModel } from '../../test/support/engine-mocks.js';
import { createModelRegistry } from '../models/registry.js';
import { openResponseCache } from './response-cache.js';
import { runBatch, traceFileName, type BatchEvent, type BatchItem, type InvalidInput } from './run-batch.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'moa-batch-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

interface Prompt extends BatchItem {
  prompt: string;
}
const items = (count: number): Prompt[] => Array.from({ length: count }, (_, index) => ({ id: `q${index + 1}`, prompt: `question ${index + 1}` }));
const readLines = (path: string): Array<Record<string, unknown>> =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

/** A 2-layer preset of mock models answering 10 input + N output tokens. */
function models() {
  const a = mockModel('mock:a', (call) => ({ text: `a says ${call.index}`, inputTokens: 100, outputTokens: 100 }));
  const b = mockModel('mock:b', { text: 'b says', inputTokens: 100, outputTokens: 100 });
  const agg = mockModel('mock:agg', { text: 'final answer', inputTokens: 200, outputTokens: 100 });
  return { a, b, agg, preset: { layers: 2, proposers: [a, b], aggregator: agg } };
}

// USD per million tokens: 10 000 per million = 0.01 per token, so one item costs 3 × (100 + 100) + ... exactly
const prices = { 'mock:a': { input: 10_000, output: 10_000 }, 'mock:b': { input: 10_000, output: 10_000 }, 'mock:agg': { input: 10_000, output: 10_000 } };
const ITEM_COST = (200 + 200 + 300) * 0.01; // 7 USD per item

describe('runBatch', () => {
  it('runs every item once, writes {id, ...record} per line, and adds up usage and cost', async () => {
    const { preset, a } = models();
    const output = join(dir, 'out.jsonl');
    const summary = await runBatch({
      items: items(5),
      outputPath: output,
      prices,
      concurrency: 2,
      work: async (item, context) => {
        const result = await context.runMoA(preset, item.prompt);
        return { text: result.text, usage: context.usage, costUsd: context.costUsd, latencyMs: context.elapsedMs() };
      },
    });
    const lines = readLines(output);
    expect(lines.map((line) => line.id).sort()).toEqual(['q1', 'q2', 'q3', 'q4', 'q5']);
    expect(lines[0]).toMatchObject({ text: 'final answer', usage: { inputTokens: 400, outputTokens: 300 }, costUsd: ITEM_COST });
    expect(Object.keys(lines[0]!)[0]).toBe('id');
    expect(a.calls).toHaveLength(5);
    expect(summary).toMatchObject({ succeeded: 5, failed: 0, calls: 15, cacheHits: 0, costUsd: 5 * ITEM_COST, usage: { inputTokens: 2000, outputTokens: 1500 } });
    expect(summary.stoppedBy).toBeUndefined();
  });

  it('counts the calls that were sent: agents cut while still queued sent nothing', async () => {
    const free = mockModel('mock:free', 'free answer');
    // One slot for the slow model: its second agent of each item is still queued when the quorum cuts it.
    const slow = mockModel('mock:slow', () => new Promise<string>((resolve) => setTimeout(() => resolve('slow answer'), 50)));
    const agg = mockModel('mock:agg', 'final');
    const preset = { layers: [{ proposers: [free, slow, slow], quorum: 1, graceMs: 0 }], aggregator: agg };
    const summary = await runBatch({
      items: items(3),
      outputPath: join(dir, 'out.jsonl'),
      concurrency: 1,
      registry: createModelRegistry({ defaultMaxConcurrency: 1 }),
      work: async (item, context) => ({ text: (await context.runMoA(preset, item.prompt)).text }),
    });
    const sent = free.calls.length + slow.calls.length + agg.calls.length;
    expect(sent).toBe(9); // per item: free, the first slow agent (cut in flight), the aggregator
    expect(summary).toMatchObject({ succeeded: 3, calls: sent });
  });

  it('reports the concurrency limit in force per provider as the batch runs, and in the summary', async () => {
    const { preset } = models();
    const seen: Array<Record<string, number> | undefined> = [];
    const summary = await runBatch({
      items: items(4),
      outputPath: join(dir, 'out.jsonl'),
      registry: createModelRegistry({ defaultMaxConcurrency: 3 }),
      onEvent: (event) => void (event.type === 'item-end' && seen.push(event.stats.concurrency && { ...event.stats.concurrency })),
      work: async (item, context) => ({ text: (await context.runMoA(preset, item.prompt)).text }),
    });
    expect(seen).toHaveLength(4);
    expect(seen.every((limits) => limits?.mock === 3)).toBe(true);
    expect(summary.concurrency).toEqual({ mock: 3 });
  });

  it('never has more than `concurrency` items in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    await runBatch({
      items: items(12),
      outputPath: join(dir, 'out.jsonl'),
      concurrency: 3,
      work: async () => {
        inFlight++;
        peak = Math.max(peak, inFlight);
        await new Promise((resolve) => setTimeout(resolve, 5));
        inFlight--;
        return { ok: true };
      },
    });
    expect(peak).toBe(3);
  });

  it('resumes: ids already in the output are skipped; failed ones are retried and end with one line each', async () => {
    const output = join(dir, 'out.jsonl');
    let failB = true;
    const work = async (item: Prompt) => {
      if (item.id === 'q2' && failB) throw new Error('q2 broke');
      return { text: `answer ${item.id}` };
    };
    const first = await runBatch({ items: items(3), outputPath: output, work });
    expect(first).toMatchObject({ succeeded: 2, failed: 1 });
    expect(readLines(output).find((line) => line.id === 'q2')).toMatchObject({ error: { code: 'internal_error', message: 'q2 broke' } });
    failB = false;
    const seen: string[] = [];
    const second = await runBatch({
      items: items(4),
      outputPath: output,
      work: async (item) => {
        seen.push(item.id);
        return work(item);
      },
    });
    expect(seen.sort()).toEqual(['q2', 'q4']);
    expect(second).toMatchObject({ alreadyDone: 2, retrying: 1, succeeded: 2, failed: 0 });
    const ids = readLines(output).map((line) => line.id);
    expect(ids.sort()).toEqual(['q1', 'q2', 'q3', 'q4']);
    expect(readLines(output).every((line) => line.error === undefined)).toBe(true);
  });

  it('budget: stops starting items once spent, keeps what finished, and a rerun continues', async () => {
    const output = join(dir, 'out.jsonl');
    const { preset } = models();
    const work = async (item: Prompt, context: Parameters<Parameters<typeof runBatch<Prompt, object>>[0]['work']>[1]) => {
      const result = await context.runMoA(preset, item.prompt);
      return { text: result.text, costUsd: context.costUsd };
    };
    // concurrency 1: items run one by one; the budget is crossed by the third item
    const first = await runBatch({ items: items(6), outputPath: output, prices, concurrency: 1, budgetUsd: 2.5 * ITEM_COST, total: 6, work });
    expect(first).toMatchObject({ succeeded: 3, stoppedBy: 'budget', notStarted: 3, costUsd: 3 * ITEM_COST });
    const second = await runBatch({ items: items(6), outputPath: output, prices, concurrency: 1, total: 6, work });
    expect(second).toMatchObject({ alreadyDone: 3, succeeded: 3, notStarted: 0 });
    expect(second.stoppedBy).toBeUndefined();
    expect(
      readLines(output)
        .map((line) => line.id)
        .sort(),
    ).toEqual(['q1', 'q2', 'q3', 'q4', 'q5', 'q6']);
  });

  it('serves repeated calls from the cache: no model call, events marked cached, free', async () => {
    const cache = createMemoryResponseCache();
    const { preset, a, b, agg } = models();
    const work = async (item: Prompt, context: Parameters<Parameters<typeof runBatch<Prompt, object>>[0]['work']>[1]) => {
      const result = await context.runMoA(preset, item.prompt);
      return { text: result.text, cached: context.cacheHits, costUsd: context.costUsd };
    };
    await runBatch({ items: items(3), outputPath: join(dir, 'one.jsonl'), cache, prices, work });
    const callsBefore = a.calls.length + b.calls.length + agg.calls.length;
    expect(cache.size).toBe(9);
    const again = await runBatch({ items: items(3), outputPath: join(dir, 'two.jsonl'), cache, prices, work });
    expect(a.calls.length + b.calls.length + agg.calls.length).toBe(callsBefore);
    expect(again).toMatchObject({ succeeded: 3, calls: 0, cacheHits: 9, costUsd: 0 });
    expect(readLines(join(dir, 'two.jsonl'))[0]).toMatchObject({ text: 'final answer', cached: 3, costUsd: 0 });
  });

  it("a Self-MoA's samples of one model are distinct cache entries", async () => {
    const cache = createMemoryResponseCache();
    const self = mockModel('mock:self', (call) => `sample ${call.index}`);
    const preset = { layers: 2, proposers: [self, self, self], aggregator: self };
    const run = async (output: string) =>
      runBatch({
        items: items(1),
        outputPath: join(dir, output),
        cache,
        work: async (item, context) => ({ text: (await context.runMoA(preset, item.prompt)).layers[0]!.agents.map((agent) => agent.text) }),
      });
    await run('one.jsonl');
    expect(cache.size).toBe(4);
    await run('two.jsonl');
    expect(self.calls).toHaveLength(4);
    expect(readLines(join(dir, 'two.jsonl'))[0]!.text).toEqual(['sample 0', 'sample 1', 'sample 2']);
  });

  it('callModel: one model call for a judge, with usage, cost and caching', async () => {
    const judge = mockModel('mock:judge', (call) => ({ text: `verdict: ${call.options.temperature}`, inputTokens: 50, outputTokens: 5 }));
    const cache = createMemoryResponseCache();
    const outputs: unknown[] = [];
    for (const name of ['one.jsonl', 'two.jsonl']) {
      await runBatch({
        items: items(1),
        outputPath: join(dir, name),
        cache,
        prices: { 'mock:judge': { input: 1_000_000, output: 2_000_000 } },
        work: async (_item, context) => {
          const verdict = await context.callModel(judge, 'Which is better?', { temperature: 0 });
          return { verdict, costUsd: context.costUsd };
        },
      });
      outputs.push(readLines(join(dir, name))[0]);
    }
    expect(outputs[0]).toMatchObject({ verdict: { text: 'verdict: 0', usage: { inputTokens: 50, outputTokens: 5 }, cached: false }, costUsd: 60 });
    expect(outputs[1]).toMatchObject({ verdict: { text: 'verdict: 0', cached: true }, costUsd: 0 });
    expect(judge.calls).toHaveLength(1);
  });

  it('an interrupted item is not written (it runs again next time); nothing finished is lost', async () => {
    const controller = new AbortController();
    const slow = mockModel('mock:slow', (call) => hangUntilAborted(call.options));
    const output = join(dir, 'out.jsonl');
    const summary = await runBatch({
      items: items(3),
      outputPath: output,
      concurrency: 3,
      signal: controller.signal,
      work: async (item, context) => {
        if (item.id !== 'q2') return { text: 'quick' };
        setTimeout(() => controller.abort(), 10);
        return { text: (await context.runMoA({ aggregator: slow }, item.prompt)).text };
      },
    });
    expect(summary).toMatchObject({ stoppedBy: 'interrupted', succeeded: 2, failed: 0 });
    expect(
      readLines(output)
        .map((line) => line.id)
        .sort(),
    ).toEqual(['q1', 'q3']);
  });

  it('reports invalid entries and skips them; strict stops and rejects naming the line', async () => {
    const source: Array<Prompt | InvalidInput> = [...items(2), { invalid: true, line: 3, message: 'not valid JSON' }, ...items(4).slice(2)];
    const events: BatchEvent[] = [];
    const summary = await runBatch({ items: source, outputPath: join(dir, 'a.jsonl'), work: async () => ({}), onEvent: (event) => events.push(event) });
    expect(summary).toMatchObject({ succeeded: 4, invalid: 1 });
    expect(events.find((event) => event.type === 'input-error')).toMatchObject({ line: 3, message: 'not valid JSON' });
    await expect(runBatch({ items: source, outputPath: join(dir, 'b.jsonl'), concurrency: 1, strict: true, work: async () => ({}) })).rejects.toThrow(
      /Invalid input at line 3: not valid JSON/,
    );
    expect(readLines(join(dir, 'b.jsonl')).map((line) => line.id)).toEqual(['q1', 'q2']);
  });

  it("writes one trace per item run that replays to the run's result", async () => {
    const { preset } = models();
    const traces = join(dir, 'traces');
    await runBatch({
      items: [{ id: 'a/b c', prompt: 'x' }],
      outputPath: join(dir, 'out.jsonl'),
      tracesDir: traces,
      work: async (item, context) => {
        const first = await context.runMoA(preset, item.prompt);
        const second = await context.runMoA(preset, [
          { role: 'user', content: item.prompt },
          { role: 'assistant', content: first.text },
          { role: 'user', content: 'and now?' },
        ]);
        return { texts: [first.text, second.text] };
      },
    });
    const files = readdirSync(traces).sort();
    expect(files).toEqual([traceFileName('a/b c', 2), traceFileName('a/b c', 1)].sort());
    expect(files.every((file) => /^a_b_c-[0-9a-f]{8}(\.2)?\.jsonl$/.test(file))).toBe(true);
    const replayed = reduceEvents(readTrace(join(traces, traceFileName('a/b c', 2))).events);
    expect(replayed).toMatchObject({ status: 'done', text: 'final answer' });
    expect(replayed.messages).toHaveLength(3);
  });
});

describe('SQLite response cache', () => {
  it('keeps answers across opens, in WAL mode, creating its folder', () => {
    const path = join(dir, 'nested', 'cache.sqlite');
    const first = openResponseCache(path);
    first.set('k1', { text: 'hello', usage: { inputTokens: 3, outputTokens: 1 }, finishReason: 'stop' });
    expect(first.get('missing')).toBeUndefined();
    first.close();
    const second = openResponseCache(path);
    expect(second.get('k1')).toEqual({ text: 'hello', usage: { inputTokens: 3, outputTokens: 1 }, finishReason: 'stop' });
    expect(second.count()).toBe(1);
    second.close();
  });
});
