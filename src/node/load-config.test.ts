import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeEach, describe, it, expect } from 'vitest';
import { ConfigError } from '../util/errors.js';
import { loadConfig, type LoadConfigOptions } from './load-config.js';

const root = mkdtempSync(join(tmpdir(), 'moa-config-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

let dir: string;
let counter = 0;
beforeEach(() => {
  dir = join(root, `case-${counter++}`);
  mkdirSync(dir);
});

/** Write `text` as `name` in this test's folder and return its path. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

/** Load with an empty environment, so the real MOA_CONFIG or keys never leak in. */
const load = (options: LoadConfigOptions = {}) => loadConfig({ cwd: dir, env: {}, ...options });

function loadError(options: LoadConfigOptions = {}): ConfigError {
  try {
    load(options);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

const CUSTOM = `
providers:
  local:
    type: openai-compatible
    baseURL: http://127.0.0.1:8000/v1
    apiKeyEnv: LOCAL_KEY
    maxConcurrency: 2
presets:
  quick:
    description: two local models
    layers: 2
    proposers: [local:small, "local:medium"]
    aggregator: { model: local:large, temperature: 0.2 }
    maxTokens: 256
defaultPreset: quick
timeoutMs: 30000
`;

describe('loadConfig', () => {
  it('loads a custom provider and preset from ./moa.config.yaml and uses defaultPreset', () => {
    const path = file('moa.config.yaml', CUSTOM);
    const config = load();

    expect(config.path).toBe(path);
    expect(config.providers.local).toMatchObject({ type: 'openai-compatible', baseURL: 'http://127.0.0.1:8000/v1', apiKeyEnv: 'LOCAL_KEY', maxConcurrency: 2 });
    expect(config.configPresetNames).toEqual(['quick']);
    expect(config.defaultPreset).toBe('quick');
    expect(config.timeoutMs).toBe(30000);

    const preset = config.resolve();
    expect(preset.name).toBe('quick');
    expect(preset.layers.map((layer) => layer.agents.map((agent) => agent.label))).toEqual([['local:small', 'local:medium'], ['local:large']]);
    expect(preset.layers[1]!.agents[0]).toMatchObject({ temperature: 0.2, maxTokens: 256, path: 'presets.quick.aggregator' });
    expect(config.resolve('moa').name).toBe('moa');
  });

  it('reads JSON too, and keeps the built-in presets next to the file’s', () => {
    file('moa.config.json', JSON.stringify({ presets: { mine: { aggregator: 'openai:gpt-4o-mini' } } }));
    const config = load();
    for (const name of ['moa', 'moa-lite', 'moa-gpt4o', 'moa-open', 'mine']) expect(config.presets[name]).toBeDefined();
    expect(config.resolve('mine').layers).toHaveLength(1);
  });

  it('offers the built-in presets without a config file, and asks for a preset when none is chosen', () => {
    const config = load();
    expect(config.path).toBeUndefined();
    expect(Object.keys(config.presets).sort()).toEqual(['moa', 'moa-gpt4o', 'moa-lite', 'moa-open', 'self-moa']);
    expect(config.resolve('moa').layers).toHaveLength(3);
    expect(config.resolve('moa-lite').layers).toHaveLength(2);
    expect(config.resolve('moa-gpt4o').layers[2]!.agents[0]!.label).toBe('openai:gpt-4o');
    expect(config.resolve('moa-open').layers[0]!.agents).toHaveLength(4);
    expect(() => config.resolve()).toThrow(expect.objectContaining({ code: 'no_preset' }));
    expect(() => config.resolve('nope')).toThrow(expect.objectContaining({ code: 'unknown_preset', message: expect.stringContaining('moa-lite') }));
  });

  it('lets a config preset override a built-in name', () => {
    file('moa.config.yaml', 'presets:\n  moa:\n    aggregator: openai:gpt-4o\n');
    expect(
      load()
        .resolve('moa')
        .layers.map((layer) => layer.agents[0]!.label),
    ).toEqual(['openai:gpt-4o']);
  });
});

describe('loadConfig: errors', () => {
  it('names the line of a YAML syntax error', () => {
    const path = file('moa.config.yaml', 'presets:\n  quick:\n    aggregator: "openai:gpt-4o\n    layers: 1\n');
    const error = loadError();
    expect(error.code).toBe('config_syntax');
    expect(error.message).toContain(path);
    expect(error.message).toMatch(/line \d+, column \d+/);
  });

  it('names the exact line for a bad indentation', () => {
    file('moa.config.yaml', 'presets:\n  quick:\n    aggregator: openai:gpt-4o\n   layers: 1\n');
    expect(loadError().message).toContain('(line 4,');
  });

  it('reports invalid JSON with the file name', () => {
    const path = file('moa.config.json', '{ "presets": { ');
    const error = loadError();
    expect(error.code).toBe('config_syntax');
    expect(error.message).toContain(path);
  });

  it('gives the path of a model whose provider is unknown', () => {
    file('moa.config.yaml', 'presets:\n  quick:\n    proposers: [openai:gpt-4o, nowhere:model-x]\n    aggregator: openai:gpt-4o\n');
    const error = loadError();
    expect(error.code).toBe('unknown_provider');
    expect(error.path).toBe('presets.quick.proposers[1]');
    expect(error.message).toContain('"nowhere"');
  });

  it('gives the path of an unknown provider in a fallback', () => {
    file('moa.config.yaml', 'presets:\n  quick:\n    aggregator: { model: openai:gpt-4o, fallbacks: [openai:gpt-4o-mini, nowhere:x] }\n');
    expect(loadError().path).toBe('presets.quick.aggregator.fallbacks[1]');
  });

  it('gives the path of an invalid field in the file', () => {
    const path = file('moa.config.yaml', 'providers:\n  local:\n    type: openai-compatible\n    baseURL: not a url\n');
    const error = loadError();
    expect(error.path).toBe('providers.local.baseURL');
    expect(error.message).toContain(path);
  });

  it('requires a baseURL for a custom openai-compatible provider', () => {
    file('moa.config.yaml', 'providers:\n  local:\n    apiKeyEnv: LOCAL_KEY\n');
    expect(loadError().path).toBe('providers.local.baseURL');
  });

  it('rejects a defaultPreset that does not exist', () => {
    file('moa.config.yaml', 'defaultPreset: qiuck\npresets:\n  quick:\n    aggregator: openai:gpt-4o\n');
    const error = loadError();
    expect(error.path).toBe('defaultPreset');
    expect(error.message).toContain('"qiuck"');
  });

  it('explains a MOA_CONFIG that points nowhere', () => {
    file('moa.config.yaml', CUSTOM); // present, but MOA_CONFIG wins
    const error = loadError({ env: { MOA_CONFIG: 'missing/moa.yaml' } });
    expect(error.code).toBe('config_not_found');
    expect(error.message).toContain(join(dir, 'missing/moa.yaml'));
    expect(error.message).toContain('MOA_CONFIG');
  });

  it('explains an explicit configPath that does not exist', () => {
    const error = loadError({ configPath: 'nope.yaml', env: { MOA_CONFIG: 'other.yaml' } });
    expect(error.code).toBe('config_not_found');
    expect(error.message).toContain(join(dir, 'nope.yaml'));
    expect(error.message).toContain('--config');
  });

  it('loads the file MOA_CONFIG names', () => {
    const path = file('elsewhere.yml', 'presets:\n  env-preset:\n    aggregator: openai:gpt-4o\n');
    const config = load({ env: { MOA_CONFIG: path } });
    expect(config.path).toBe(path);
    expect(config.configPresetNames).toEqual(['env-preset']);
  });
});

describe('loadConfig: reporting', () => {
  it("answers an apiKey field with apiKeyEnv (the variable's name), never echoing the key", () => {
    file('moa.config.yaml', 'providers:\n  mylab:\n    baseURL: http://127.0.0.1:8000/v1\n    apiKey: sk-live-PASTED-0123456789\n');
    const error = loadError();
    expect(error.path).toBe('providers.mylab.apiKey');
    expect(error.message).toContain('unknown field "apiKey"');
    expect(error.message).toMatch(/use apiKeyEnv with the NAME of the environment variable/);
    expect(error.message).toContain('keys never go in the file');
    expect(error.message).not.toContain('sk-live-PASTED');
  });

  it('reports every problem of the file at once, each with its path', () => {
    const path = file(
      'moa.config.yaml',
      [
        'providers:',
        '  lab: { apiKeyEnv: LAB_KEY }', // no baseURL
        '  other: { type: openai-compatible, baseURL: http://127.0.0.1:9/v1, apiKey: sk-x }',
        'presets:',
        '  quick:',
        '    proposers: [openai:gpt-4o, 42]',
        '    aggregator: openai:gpt-4o',
        '    temprature: 0.2',
        '  elsewhere:',
        '    aggregator: nowhere:model-x',
        'defaultPreset: qiuck',
        '',
      ].join('\n'),
    );
    const error = loadError();
    const paths = [
      'providers.other.apiKey',
      'presets.quick.proposers[1]',
      'presets.quick.temprature',
      'providers.lab.baseURL',
      'presets.elsewhere.aggregator',
      'defaultPreset',
    ];
    expect(error.message).toContain(`Invalid configuration in ${path}: ${paths.length} problems`);
    for (const problemPath of paths) expect(error.message).toContain(`  - ${problemPath}: `);
    expect(error.message).not.toMatch(/more problem/);
    expect(paths).toContain(error.path);
  });

  it('keeps the one-line form, and the specific code, for a single problem', () => {
    file('moa.config.yaml', 'presets:\n  quick:\n    aggregator: nowhere:model-x\n');
    const error = loadError();
    expect(error.message).toMatch(/^Invalid configuration in .* at presets\.quick\.aggregator: unknown provider "nowhere"/);
    expect(error.message.split('\n')).toHaveLength(1);
    expect(error.code).toBe('unknown_provider');
  });

  it('an empty config file, or one with only comments, is an error naming the file', () => {
    for (const [name, text, why] of [
      ['moa.config.yaml', '', 'the file is empty'],
      ['moa.config.yaml', '\n  \n', 'the file is empty'],
      ['moa.config.yaml', '# my presets, one day\n\n# more later\n', 'only comments'],
      ['moa.config.json', ' \n', 'the file is empty'],
    ] as const) {
      const path = file(name, text);
      const error = loadError();
      expect(error.code, JSON.stringify(text)).toBe('config_empty');
      expect(error.message).toContain(`${path} holds no settings (${why})`);
      rmSync(path);
    }
  });
});
