import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, it, expect } from 'vitest';
import { mockModel } from '../../test/support/engine-mocks.js';
import { ConfigError } from '../util/errors.js';
import { DEFAULT_TEMPERATURE, planLayers, resolvePreset, type ResolveOptions } from './resolve-preset.js';
import { DEFAULT_SYNTHESIS_PROMPT } from './synthesis-prompt.js';
import { readTextFile } from '../node/read-text-file.js';

/** The ConfigError `resolvePreset` throws (the test fails if it does not throw one). */
function resolveError(input: unknown, options?: ResolveOptions): ConfigError {
  try {
    resolvePreset(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected resolvePreset to throw');
}

const labels = (input: unknown) => resolvePreset(input).layers.map((layer) => layer.agents.map((agent) => agent.label));

describe('resolvePreset: layers', () => {
  it('defaults to 3 layers (2 proposer layers + aggregator) when there are proposers', () => {
    const preset = resolvePreset({ proposers: ['p:a', 'p:b'], aggregator: 'p:agg' });
    expect(preset.layers.map((layer) => layer.aggregator)).toEqual([false, false, true]);
    expect(labels({ proposers: ['p:a', 'p:b'], aggregator: 'p:agg' })).toEqual([['p:a', 'p:b'], ['p:a', 'p:b'], ['p:agg']]);
    expect(preset.synthesisPrompt).toBe(DEFAULT_SYNTHESIS_PROMPT);
  });

  it('defaults to the aggregator alone without proposers', () => {
    expect(labels({ aggregator: 'p:agg' })).toEqual([['p:agg']]);
  });

  it('counts the aggregator in a numeric layers', () => {
    expect(labels({ layers: 1, proposers: ['p:a'], aggregator: 'p:agg' })).toEqual([['p:agg']]);
    expect(labels({ layers: 4, proposers: ['p:a'], aggregator: 'p:agg' })).toEqual([['p:a'], ['p:a'], ['p:a'], ['p:agg']]);
  });

  it('takes per-layer proposer lists, falling back to the preset list for a layer without one', () => {
    const input = {
      layers: [{ proposers: ['x:1', 'x:2', 'x:3'] }, {}, { proposers: ['z:1'], minSuccessful: 1 }],
      proposers: ['y:default'],
      aggregator: 'p:agg',
    };
    expect(labels(input)).toEqual([['x:1', 'x:2', 'x:3'], ['y:default'], ['z:1'], ['p:agg']]);
    expect(resolvePreset(input).layers[0]!.agents[2]!.path).toBe('layers[0].proposers[2]');
    expect(resolvePreset(input).layers[1]!.agents[0]!.path).toBe('proposers[0]');
  });

  it('carries minSuccessful, quorum and graceMs per layer into the plan', () => {
    const preset = resolvePreset({
      layers: [
        { proposers: ['a:1', 'a:2', 'a:3'], quorum: 2, graceMs: 500 },
        { proposers: ['b:1', 'b:2'], minSuccessful: 2 },
      ],
      quorum: 1,
      aggregator: 'p:agg',
    });
    expect(planLayers(preset)).toEqual([
      { agents: [{ model: 'a:1' }, { model: 'a:2' }, { model: 'a:3' }], aggregator: false, kind: 'propose', minSuccessful: 1, quorum: 2, graceMs: 500 },
      { agents: [{ model: 'b:1' }, { model: 'b:2' }], aggregator: false, kind: 'synthesize', minSuccessful: 2, quorum: 1, graceMs: 0 },
      { agents: [{ model: 'p:agg' }], aggregator: true, kind: 'synthesize', minSuccessful: 1 },
    ]);
  });

  it('labels a model object "provider:modelId" and keeps the object', () => {
    const model = mockModel('acme:tiny-1', 'x');
    const preset = resolvePreset({ layers: 1, aggregator: model });
    expect(preset.layers[0]!.agents[0]).toMatchObject({ label: 'acme:tiny-1', model, path: 'aggregator' });
  });
});

describe('resolvePreset: agent settings', () => {
  it('applies the preset temperature, maxTokens and system to every agent, and per-agent values win', () => {
    const preset = resolvePreset({
      layers: 2,
      proposers: ['p:plain', { model: 'p:custom', name: 'critic', temperature: 0.1, maxTokens: 64, system: 'Be a harsh critic.' }],
      aggregator: { model: 'p:agg', temperature: 0 },
      temperature: 1.2,
      maxTokens: 1000,
      system: 'Answer in French.',
    });
    const [plain, custom] = preset.layers[0]!.agents;
    expect(plain).toMatchObject({ label: 'p:plain', temperature: 1.2, maxTokens: 1000, system: 'Answer in French.', fallbacks: [] });
    expect(custom).toMatchObject({ label: 'p:custom', name: 'critic', temperature: 0.1, maxTokens: 64, system: 'Be a harsh critic.' });
    expect(preset.layers[1]!.agents[0]).toMatchObject({ label: 'p:agg', temperature: 0, maxTokens: 1000, system: 'Answer in French.' });
  });

  it('uses the default temperature and no token limit when nothing is set', () => {
    const agent = resolvePreset({ aggregator: { model: 'p:agg', fallbacks: ['q:backup'] } }).layers[0]!.agents[0]!;
    expect(agent.temperature).toBe(DEFAULT_TEMPERATURE);
    expect(agent.maxTokens).toBeUndefined();
    expect(agent.system).toBeUndefined();
    expect(agent.fallbacks).toEqual(['q:backup']);
  });

  it('passes timeoutMs and maxRetries through', () => {
    expect(resolvePreset({ aggregator: 'p:agg', timeoutMs: 1234, maxRetries: 0 })).toMatchObject({ timeoutMs: 1234, maxRetries: 0 });
  });
});

describe('resolvePreset: errors name the exact path', () => {
  const quick: ResolveOptions = { path: ['presets', 'quick'] };

  it('names the bad proposer', () => {
    const error = resolveError({ proposers: ['ok:a', 42], aggregator: 'ok:b' }, quick);
    expect(error.path).toBe('presets.quick.proposers[1]');
    expect(error.message).toContain('presets.quick.proposers[1]');
    expect(error.message).toContain('found 42');
  });

  it('rejects a model name without a provider prefix', () => {
    const error = resolveError({ proposers: ['ok:a'], aggregator: 'gpt-4o' }, quick);
    expect(error.path).toBe('presets.quick.aggregator');
    expect(error.message).toContain('provider:model-id');
    expect(resolveError({ layers: [{ proposers: ['ok:a', 'nocolon'] }], aggregator: 'ok:b' }).path).toBe('layers[0].proposers[1]');
    expect(resolveError({ aggregator: { model: 'ok:b', fallbacks: ['bad'] } }).path).toBe('aggregator.fallbacks[0]');
  });

  it('rejects an unknown field, naming it', () => {
    const error = resolveError({ aggregator: 'ok:b', temprature: 0.5 }, quick);
    expect(error.path).toBe('presets.quick.temprature');
    expect(error.message).toContain('unknown field "temprature"');
    expect(resolveError({ aggregator: { model: 'ok:b', sytem: 'x' } }).path).toBe('aggregator.sytem');
  });

  it('rejects a missing aggregator and out-of-range values', () => {
    expect(resolveError({ proposers: ['ok:a'] }, quick).path).toBe('presets.quick.aggregator');
    expect(resolveError({ aggregator: 'ok:b', temperature: 3 }, quick).path).toBe('presets.quick.temperature');
    expect(resolveError({ aggregator: 'ok:b', layers: 0 }, quick).path).toBe('presets.quick.layers');
    expect(resolveError({ aggregator: { model: 'ok:b', maxTokens: 1.5 } }).path).toBe('aggregator.maxTokens');
    expect(resolveError({ aggregator: { model: 42 } }).path).toBe('aggregator.model');
  });

  it('points inside a per-agent object rather than at the list that holds it', () => {
    const error = resolveError({ layers: [{ proposers: ['ok:a', { model: 'ok:c', temperature: '0.5' }] }], aggregator: 'ok:b' }, quick);
    expect(error.path).toBe('presets.quick.layers[0].proposers[1].temperature');
    expect(error.message).toContain('expected a number between 0 and 2 (found "0.5")');
  });

  it('rejects layers that need proposers but have none', () => {
    expect(resolveError({ layers: 2, aggregator: 'ok:b' }, quick).path).toBe('presets.quick.proposers');
  });

  it('rejects minSuccessful or quorum larger than the layer', () => {
    const error = resolveError({ proposers: ['ok:a', 'ok:b'], aggregator: 'ok:c', minSuccessful: 3 }, quick);
    expect(error.path).toBe('presets.quick.minSuccessful');
    expect(error.message).toContain('3 is more than the layer');
    expect(resolveError({ layers: [{ proposers: ['ok:a'] }, { proposers: ['ok:a'], quorum: 2 }], aggregator: 'ok:c' }, quick).path).toBe(
      'presets.quick.layers[1].quorum',
    );
    // Without a prefix (a preset passed from code) the path has no leading dot.
    expect(resolveError({ proposers: ['ok:a'], aggregator: 'ok:c', minSuccessful: 2 }).path).toBe('minSuccessful');
  });

  it('rejects graceMs without a quorum', () => {
    const error = resolveError({ layers: [{ proposers: ['ok:a', 'ok:b'], graceMs: 100 }], aggregator: 'ok:c' }, quick);
    expect(error.path).toBe('presets.quick.layers[0].graceMs');
    expect(error.message).toContain('needs a quorum');
  });
});

describe('resolvePreset: synthesisPromptFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'moa-resolve-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('reads the file relative to baseDir', () => {
    writeFileSync(join(dir, 'synth.md'), 'Merge these answers:\n{{references}}\n');
    const preset = resolvePreset({ aggregator: 'ok:b', synthesisPromptFile: 'synth.md' }, { baseDir: dir, readFile: readTextFile });
    expect(preset.synthesisPrompt).toBe('Merge these answers:\n{{references}}\n');
  });

  it('uses an inline synthesisPrompt', () => {
    expect(resolvePreset({ aggregator: 'ok:b', synthesisPrompt: 'Combine.' }).synthesisPrompt).toBe('Combine.');
  });

  it('names the path and the file when it is missing or empty', () => {
    const missing = resolveError({ aggregator: 'ok:b', synthesisPromptFile: 'nope.md' }, { ...{ path: ['presets', 'quick'] }, baseDir: dir, readFile: readTextFile });
    expect(missing.path).toBe('presets.quick.synthesisPromptFile');
    expect(missing.message).toContain(join(dir, 'nope.md'));
    expect(missing.message).toContain('ENOENT');

    writeFileSync(join(dir, 'empty.md'), '  \n');
    const empty = resolveError({ aggregator: 'ok:b', synthesisPromptFile: 'empty.md' }, { baseDir: dir, readFile: readTextFile });
    expect(empty.path).toBe('synthesisPromptFile');
    expect(empty.message).toContain('is empty');
  });

  it('without a file reader (the engine does no I/O: a browser, an edge runtime) says how to give the prompt instead', () => {
    const error = resolveError({ aggregator: 'ok:b', synthesisPromptFile: 'synth.md' }, { baseDir: dir });
    expect(error.path).toBe('synthesisPromptFile');
    expect(error.message).toMatch(/the engine reads no files; give the prompt's text as synthesisPrompt.*moa-engine\/node/);
  });

  it('an absolute path is not joined to baseDir', () => {
    const file = join(dir, 'synth.md');
    const read: string[] = [];
    resolvePreset({ aggregator: 'ok:b', synthesisPromptFile: file }, { baseDir: '/elsewhere', readFile: (path) => (read.push(path), 'Merge.') });
    expect(read).toEqual([file]);
  });
});
