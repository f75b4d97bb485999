import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAlpacaEvalAnnotations, loadGamedBaselineRows } from './alpaca-eval-data.js';
import { EvalDataError } from './eval-data-error.js';
import { loadMtBenchQuestions } from './mt-bench-data.js';

const directory = mkdtempSync(join(tmpdir(), 'moa-eval-files-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
const write = (name: string, text: string) => {
  const file = join(directory, name);
  writeFileSync(file, text);
  return file;
};

describe('benchmark file errors name the file, line and field', () => {
  it('JSON Lines: bad JSON, wrong turn count, wrong type', () => {
    const badJson = write('bad.jsonl', '{"question_id": 1, "category": "writing", "turns": ["a", "b"]}\n{oops\n');
    expect(() => loadMtBenchQuestions(badJson)).toThrow(new RegExp(`${badJson}:2: not valid JSON`));
    const oneTurn = write('one-turn.jsonl', '\n{"question_id": 1, "category": "writing", "turns": ["a"]}\n');
    expect(() => loadMtBenchQuestions(oneTurn, { turns: 2 })).toThrow(`${oneTurn}:2 (field "turns"): expected exactly 2 entries (found 1)`);
    const badId = write('bad-id.jsonl', '{"question_id": "81", "category": "writing", "turns": ["a", "b"]}\n');
    expect(() => loadMtBenchQuestions(badId)).toThrow(`${badId}:1 (field "question_id"): expected a number (found "81")`);
  });

  it('JSON arrays: the line where the bad record starts', () => {
    const record = (preference: unknown) => ({ instruction: 'i', output_1: 'a', generator_1: 'b', output_2: 'c', generator_2: 'm', preference });
    const file = write('annotations.json', JSON.stringify([record(1), record(2), record(7)], null, 2));
    let error: unknown;
    try {
      loadAlpacaEvalAnnotations(file);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(EvalDataError);
    expect((error as EvalDataError).line).toBe(18);
    expect((error as EvalDataError).field).toBe('preference');
    expect((error as Error).message).toMatch(/expected a number in \[1, 2\]/);
    expect(() => loadAlpacaEvalAnnotations(join(directory, 'nope.json'))).toThrow(/nope.json: file not found/);
    expect(() => loadAlpacaEvalAnnotations(write('object.json', '{"a": 1}'))).toThrow(/expected a JSON array/);
  });

  it('CSV: missing columns and non-numbers', () => {
    expect(() => loadGamedBaselineRows(write('gamed.csv', 'preference,index\n0.5,0\n'))).toThrow(/missing columns std_delta_len/);
    const bad = write('gamed2.csv', 'preference,index,std_delta_len,instruction_difficulty,not_gamed_baseline,model\n0.5,0,x,0.1,False,v\n');
    expect(() => loadGamedBaselineRows(bad)).toThrow(`${bad}:2 (field "std_delta_len"): expected a number (found "x")`);
  });
});
