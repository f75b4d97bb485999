import { describe, expect, it } from 'vitest';
import { loadConfig } from './load-config.js';
import { ConfigError } from '../util/errors.js';
import { choosePresetsForServer, createPresetCatalog, withAggregatorSettings } from './preset-catalog.js';

const presets = {
  duo: { layers: 2, proposers: ['lab:a', 'lab:b'], aggregator: 'lab:c', temperature: 0.5, maxTokens: 100 },
  solo: { aggregator: 'lab:c' },
};

describe('createPresetCatalog', () => {
  it('lists the default preset first and resolves each preset once', () => {
    const catalog = createPresetCatalog({ presets, defaultPreset: 'solo' });
    expect(catalog.names).toEqual(['solo', 'duo']);
    expect(catalog.defaultName).toBe('solo');
    expect(catalog.resolve('duo')).toBe(catalog.resolve('duo'));
    expect(() => catalog.resolve('gpt-4')).toThrow(ConfigError);
    expect(() => catalog.resolve('toString')).toThrow(expect.objectContaining({ code: 'unknown_preset' }));
  });

  it("lists the machine's default first and serves it by name, with self-moa bound to the machine's model", async () => {
    const config = loadConfig({ cwd: '/nonexistent-dir-for-test', env: {} });
    const machine = await choosePresetsForServer(config, { OPENAI_API_KEY: 'sk-test-123456' });
    expect(machine.defaultPreset?.name).toBeDefined();
    const catalog = createPresetCatalog(config, machine);
    expect(catalog.names[0]).toBe(machine.defaultPreset!.name);
    expect(catalog.defaultName).toBe(machine.defaultPreset!.name);
    const models = catalog.resolve(catalog.names[0]!).layers.flatMap((layer) => layer.agents.map((agent) => agent.label));
    expect(models.every((model) => model.startsWith('openai:'))).toBe(true);
    const selfMoA = catalog.resolve('self-moa').layers.flatMap((layer) => layer.agents.map((agent) => agent.label));
    expect(new Set(selfMoA).size).toBe(1);
    expect(selfMoA[0]).toMatch(/^openai:/);
    expect(createPresetCatalog(config).defaultName).toBeUndefined();
  });
});

describe('withAggregatorSettings', () => {
  it('changes only the final layer, on a copy', () => {
    const preset = createPresetCatalog({ presets }).resolve('duo');
    const before = JSON.stringify(preset);
    const changed = withAggregatorSettings(preset, { temperature: 0.1, maxTokens: 7 });
    expect(JSON.stringify(preset)).toBe(before);
    expect(changed.layers.map((layer) => layer.agents.map((agent) => [agent.temperature, agent.maxTokens]))).toEqual([
      [
        [0.5, 100],
        [0.5, 100],
      ],
      [[0.1, 7]],
    ]);
    expect(withAggregatorSettings(preset, {})).toBe(preset);
  });
});
