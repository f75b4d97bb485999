import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseInputLine, readInputFile, scanInputFile } from './input-file.js';

describe('parseInputLine', () => {
  const parse = (text: string, line = 1, seen = new Map<string, number>()) => parseInputLine(text, line, seen);

  it('reads a prompt or a conversation; a missing id is the line number', () => {
    expect(parse('{"id":"x","prompt":"Hi","dataset":"d"}')).toEqual({
      id: 'x',
      line: 1,
      messages: [{ role: 'user', content: 'Hi' }],
      extra: { dataset: 'd' },
    });
    expect(parse('{"messages":[{"role":"system","content":"S"},{"role":"user","content":"Q"}]}', 12)).toMatchObject({
      id: '12',
      messages: [
        { role: 'system', content: 'S' },
        { role: 'user', content: 'Q' },
      ],
    });
    expect(parse('{"id":42,"prompt":"Hi"}')).toMatchObject({ id: '42' });
    expect(parse('   ')).toBeUndefined();
  });

  it.each([
    ['not json', /not valid JSON/],
    ['[1,2]', /expected a JSON object/],
    ['{"id":"x"}', /no "prompt" or "messages"/],
    ['{"id":"x","prompt":3}', /"prompt" must be a string/],
    ['{"id":"x","prompt":"a","messages":[]}', /either "prompt" or "messages"/],
    ['{"id":"x","messages":[{"role":"robot","content":"a"}]}', /messages\[0\]\.role must be/],
    ['{"id":"x","messages":[{"role":"user","content":"a"},{"role":"assistant","content":"b"}]}', /last message must be the user's turn/],
    ['{"id":"","prompt":"a"}', /"id" must be a non-empty string/],
    ['{"id":"x","prompt":"   "}', /prompt is empty/],
  ])('reports %s with its reason', (text, reason) => {
    const result = parse(text, 5);
    expect(result).toMatchObject({ invalid: true, line: 5 });
    expect((result as { message: string }).message).toMatch(reason);
  });

  it('reports a duplicate id with the line that used it first', () => {
    const seen = new Map<string, number>();
    parse('{"id":"x","prompt":"a"}', 2, seen);
    expect(parse('{"id":"x","prompt":"b"}', 9, seen)).toMatchObject({ invalid: true, line: 9, message: 'duplicate id "x" (first used on line 2)' });
  });
});

describe('readInputFile', () => {
  it('streams items and bad lines with their line numbers, skipping blank lines', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moa-input-'));
    try {
      const path = join(dir, 'in.jsonl');
      writeFileSync(path, '{"id":"a","prompt":"1"}\n\n{bad\r\n{"prompt":"3"}\n');
      const entries = [];
      for await (const entry of readInputFile(path)) entries.push(entry);
      expect(entries).toMatchObject([
        { id: 'a', line: 1 },
        { invalid: true, line: 3 },
        { id: '4', line: 4 },
      ]);
      expect(await scanInputFile(path)).toMatchObject({ items: 2, invalid: [{ line: 3 }] });
      await expect(scanInputFile(join(dir, 'missing.jsonl'))).rejects.toThrow(/Input file not found/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
