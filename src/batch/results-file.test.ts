import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openResultsAppender, prepareResultsFile } from './results-file.js';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'moa-results-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (path: string): string[] => readFileSync(path, 'utf8').split('\n').filter(Boolean);

describe('prepareResultsFile', () => {
  it('creates a missing file (and its folder) and reports nothing done', () => {
    const path = join(dir, 'deep', 'out.jsonl');
    const state = prepareResultsFile(path);
    expect(state.done.size).toBe(0);
    expect(readFileSync(path, 'utf8')).toBe('');
  });

  it('cuts a torn last line so the next append starts on a fresh line', () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"id":"a","text":"x"}\n{"id":"b","text":"y"}\n{"id":"c","te');
    const state = prepareResultsFile(path);
    expect([...state.done]).toEqual(['a', 'b']);
    expect(state.repairs[0]).toMatch(/out\.jsonl:3: a torn last line/);
    const appender = openResultsAppender(path);
    appender.append({ id: 'c', text: 'z' });
    appender.close();
    expect(lines(path).map((line) => JSON.parse(line).id)).toEqual(['a', 'b', 'c']);
  });

  it('keeps a complete last line that only lacks its newline', () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"id":"a","text":"x"}\n{"id":"b","text":"y"}');
    const state = prepareResultsFile(path);
    expect([...state.done]).toEqual(['a', 'b']);
    expect(readFileSync(path, 'utf8')).toBe('{"id":"a","text":"x"}\n{"id":"b","text":"y"}\n');
  });

  it('removes failed lines so their ids are retried, keeping one line per id', () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"id":"a","text":"x"}\n{"id":"b","error":{"code":"layer_failed","message":"boom"}}\n{"id":7,"text":"n"}\n');
    const state = prepareResultsFile(path);
    expect([...state.done]).toEqual(['a', '7']);
    expect(state.retrying).toBe(1);
    expect([...state.retryingIds]).toEqual(['b']);
    expect(lines(path)).toEqual(['{"id":"a","text":"x"}', '{"id":7,"text":"n"}']);
  });

  it('with retryFailed false, a failed line counts as done and stays', () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"id":"b","error":{"code":"x","message":"boom"}}\n');
    const state = prepareResultsFile(path, { retryFailed: false });
    expect([...state.done]).toEqual(['b']);
    expect(lines(path)).toHaveLength(1);
  });

  it('drops a second line for the same id', () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"id":"a","text":"1"}\n{"id":"a","text":"2"}\n');
    const state = prepareResultsFile(path);
    expect(lines(path)).toEqual(['{"id":"a","text":"1"}']);
    expect(state.repairs[0]).toMatch(/:2: a second line for id "a"/);
  });

  it('refuses a damaged line in the middle, naming the file and line', () => {
    const path = join(dir, 'out.jsonl');
    writeFileSync(path, '{"id":"a"}\ngarbage\n{"id":"b"}\n');
    expect(() => prepareResultsFile(path)).toThrow(/out\.jsonl:2: not a result line/);
    expect(readFileSync(path, 'utf8')).toBe('{"id":"a"}\ngarbage\n{"id":"b"}\n');
  });
});
