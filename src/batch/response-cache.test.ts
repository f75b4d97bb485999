import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openResponseCache } from './response-cache.js';

const folders: string[] = [];
afterEach(() => {
  for (const folder of folders.splice(0)) rmSync(folder, { recursive: true, force: true });
});

describe('SQLite response cache', () => {
  it("keeps a final aggregator's tool calls and log-probabilities with its answer, across processes' openings of the file", () => {
    const folder = mkdtempSync(join(tmpdir(), 'moa-cache-test-'));
    folders.push(folder);
    const path = join(folder, 'cache.sqlite');
    const value = {
      text: '',
      usage: { inputTokens: 5, outputTokens: 2 },
      finishReason: 'tool-calls' as const,
      topLogprobs: [{ token: 'a', logprob: -0.5 }],
      toolCalls: [{ id: 'call-1', name: 'weather', arguments: '{"city":"Paris"}' }],
    };
    const writer = openResponseCache(path);
    writer.set('key', value);
    writer.close();
    const reader = openResponseCache(path);
    expect(reader.get('key')).toEqual(value);
    reader.close();
  });
});
