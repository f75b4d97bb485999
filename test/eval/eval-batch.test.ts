// The pieces every `moa eval` / `moa judge` command shares: reading the progress sidecar back,
// atomic writes, per-category temperature on a preset.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { contentId, progressPathFor, readProgressRecords, writeFileAtomically } from '../../src/cli/eval-batch.js';
import { presetAtTemperature } from '../../src/cli/eval-generate.js';
import { resolvePreset } from '../../src/core/resolve-preset.js';

let directory: string | undefined;
afterEach(() => {
  if (directory) rmSync(directory, { recursive: true, force: true });
  directory = undefined;
});
const temporary = (): string => (directory = mkdtempSync(join(tmpdir(), 'moa-eval-batch-')));

describe('readProgressRecords', () => {
  it('keeps finished records by id (the last line wins), skipping failed items and a torn last line', () => {
    const file = join(temporary(), 'out.json.progress.jsonl');
    writeFileSync(
      file,
      [
        JSON.stringify({ id: 'a', output: 'first' }),
        JSON.stringify({ id: 'b', error: { code: 'x', message: 'failed' } }),
        JSON.stringify({ id: 'a', output: 'second' }),
        JSON.stringify({ id: 'c', output: 'ok' }),
        '{"id":"d","output":"half',
      ].join('\n'),
    );
    const records = readProgressRecords<{ output: string }>(file);
    expect([...records.keys()]).toEqual(['a', 'c']);
    expect(records.get('a')?.output).toBe('second');
  });

  it('an absent file is no record', () => {
    expect(readProgressRecords(join(temporary(), 'none.jsonl')).size).toBe(0);
  });
});

describe('writeFileAtomically', () => {
  it('replaces the whole file and leaves no temporary file behind', () => {
    const dir = temporary();
    const file = join(dir, 'sub', 'model_outputs.json');
    writeFileAtomically(file, 'old');
    writeFileAtomically(file, '[]\n');
    expect(readFileSync(file, 'utf8')).toBe('[]\n');
    expect(readdirSync(join(dir, 'sub'))).toEqual(['model_outputs.json']);
  });
});

describe('ids and paths', () => {
  it('content ids are stable and change with any part', () => {
    expect(contentId('judge', 'prompt')).toBe(contentId('judge', 'prompt'));
    expect(contentId('judge', 'prompt')).not.toBe(contentId('judge', 'prompt2'));
    expect(contentId('ab', 'c')).not.toBe(contentId('a', 'bc'));
    expect(contentId('x')).toMatch(/^[0-9a-f]{16}$/);
    expect(progressPathFor('/x/answers.jsonl')).toBe('/x/answers.jsonl.progress.jsonl');
  });
});

describe('presetAtTemperature', () => {
  it('sets every agent of every layer, without touching the preset it was given', () => {
    const preset = resolvePreset({ layers: 3, proposers: ['a:x', 'b:y'], aggregator: 'c:z', temperature: 0.9 }, { name: 'p' });
    const cold = presetAtTemperature(preset, 0);
    expect(cold.layers.flatMap((layer) => layer.agents.map((agent) => agent.temperature))).toEqual([0, 0, 0, 0, 0]);
    expect(preset.layers.flatMap((layer) => layer.agents.map((agent) => agent.temperature))).toEqual([0.9, 0.9, 0.9, 0.9, 0.9]);
    expect(cold.name).toBe('p');
  });
});
