import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../util/errors.js';
import { choosePreset } from './choose-preset.js';

/** A config in its own folder, with a synthesis prompt file named relative to it. */
function configElsewhere(): string {
  const folder = mkdtempSync(join(tmpdir(), 'moa-choose-'));
  writeFileSync(join(folder, 'synthesis.txt'), 'MY OWN INSTRUCTION {{references}}');
  writeFileSync(
    join(folder, 'moa.config.yaml'),
    `providers:
  lab: { type: openai-compatible, baseURL: http://127.0.0.1:8000/v1 }
presets:
  quick: { layers: 2, proposers: [lab:a], aggregator: lab:b, synthesisPromptFile: synthesis.txt }
`,
  );
  return join(folder, 'moa.config.yaml');
}

describe('choosePreset', () => {
  it("reads a preset's synthesisPromptFile next to its config, also when flags reshape the preset", () => {
    const config = configElsewhere();
    const plain = choosePreset({ config, preset: 'quick' }, {});
    const reshaped = choosePreset({ config, preset: 'quick', temperature: 0.2, maxTokens: 64 }, {});
    for (const { preset } of [plain, reshaped]) expect(preset.synthesisPrompt).toBe('MY OWN INSTRUCTION {{references}}');
    expect(reshaped.preset.layers.flatMap((layer) => layer.agents).map((agent) => [agent.temperature, agent.maxTokens])).toEqual([
      [0.2, 64],
      [0.2, 64],
    ]);
  });

  it('names the available presets for an unknown --preset', () => {
    expect(() => choosePreset({ config: configElsewhere(), preset: 'nope', temperature: 0.1 }, {})).toThrow(
      expect.objectContaining({ code: 'unknown_preset', message: expect.stringMatching(/Unknown preset "nope"\. Available presets: .*quick/) }),
    );
  });

  it('asks for --aggregator when proposers are named without a preset', () => {
    expect(() => choosePreset({ config: configElsewhere(), proposers: ['lab:a'] }, {})).toThrow(ConfigError);
  });
});
