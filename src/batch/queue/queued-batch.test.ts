import { describe, expect, it } from 'vitest';
import { batchIdFor, decodeFailure, encodeFailure, jobIdFor, lockMsFrom } from './queued-batch.js';

describe('queued batches: names and results', () => {
  it('a job id follows the item\'s id and content, never a ":" (BullMQ refuses those)', () => {
    const item: { id: string; messages: unknown[] } = { id: 'q:1', messages: [{ role: 'user', content: 'hello' }] };
    expect(jobIdFor(item)).toBe(jobIdFor({ ...item }));
    expect(jobIdFor(item)).toMatch(/^[0-9a-f]{32}$/);
    const changed: { id: string; messages: unknown[] } = { ...item, messages: [{ role: 'user', content: 'hello!' }] };
    expect(jobIdFor(changed)).not.toBe(jobIdFor(item));
    expect(jobIdFor({ ...item, id: 'q:2' })).not.toBe(jobIdFor(item));
  });

  it('a batch is its kind, settings and output: the same command finds the same batch', () => {
    const extra = { prices: {}, runDefaults: {} };
    const id = batchIdFor('moa-batch', { preset: 'a' }, extra, '/tmp/out.jsonl');
    expect(batchIdFor('moa-batch', { preset: 'a' }, extra, '/tmp/out.jsonl')).toBe(id);
    expect(batchIdFor('moa-batch', { preset: 'b' }, extra, '/tmp/out.jsonl')).not.toBe(id);
    expect(batchIdFor('moa-batch', { preset: 'a' }, extra, '/tmp/other.jsonl')).not.toBe(id);
    expect(batchIdFor('mt-bench-answer', { preset: 'a' }, extra, '/tmp/out.jsonl')).not.toBe(id);
  });

  it("a failed job carries the item's error line; a reason of BullMQ's own becomes one", () => {
    const failure = {
      line: { id: 'q1', error: { code: 'unknown_provider', message: 'Unknown provider "fake"' }, usage: { inputTokens: 0, outputTokens: 0 }, latencyMs: 3 },
      account: { usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, calls: 0, cacheHits: 0, latencyMs: 3, unpricedModels: [] },
      error: { name: 'ConfigError', code: 'unknown_provider', message: 'Unknown provider "fake"' },
    };
    expect(decodeFailure('q1', encodeFailure(failure))).toEqual(failure);
    const stalled = decodeFailure('q2', 'job stalled more than allowable limit');
    expect(stalled.line).toMatchObject({ id: 'q2', error: { code: 'queue_failed', message: 'the queue failed this item: job stalled more than allowable limit' } });
  });

  it('MOA_QUEUE_LOCK_MS sets the lock; nonsense keeps the default', () => {
    expect(lockMsFrom({ MOA_QUEUE_LOCK_MS: '1500' })).toBe(1500);
    expect(lockMsFrom({ MOA_QUEUE_LOCK_MS: 'soon' })).toBe(30_000);
    expect(lockMsFrom({ MOA_QUEUE_LOCK_MS: '5' })).toBe(30_000);
    expect(lockMsFrom({})).toBe(30_000);
  });
});
