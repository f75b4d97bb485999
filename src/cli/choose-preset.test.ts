import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../util/errors.js';
import { choosePreset } from './choose-preset.js';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** A config in its own folder, with a synthesis prompt file named relative to it. */
function configElsewhere(): string {
  const folder = mkdtempSync(join(tmpdir(), 'moa-choose-'));
  folders.push(folder);
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
  it("reads a preset's synthesisPromptFile next to its config, also when flags reshape the preset", async () => {
    const config = configElsewhere();
    const plain = await choosePreset({ config, preset: 'quick' }, {});
    const reshaped = await choosePreset({ config, preset: 'quick', temperature: 0.2, maxTokens: 64 }, {});
    for (const { preset } of [plain, reshaped]) expect(preset.synthesisPrompt).toBe('MY OWN INSTRUCTION {{references}}');
    expect(reshaped.preset.layers.flatMap((layer) => layer.agents).map((agent) => [agent.temperature, agent.maxTokens])).toEqual([
      [0.2, 64],
      [0.2, 64],
    ]);
  });

  it('names the available presets for an unknown --preset', async () => {
    await expect(choosePreset({ config: configElsewhere(), preset: 'nope', temperature: 0.1 }, {})).rejects.toThrow(
      expect.objectContaining({ code: 'unknown_preset', message: expect.stringMatching(/Unknown preset "nope"\. Available presets: .*quick/) }),
    );
  });

  it('asks for --aggregator when proposers are named without a preset', async () => {
    await expect(choosePreset({ config: configElsewhere(), proposers: ['lab:a'] }, {})).rejects.toThrow(ConfigError);
  });

  it('asks for a preset when the config defines presets but names no defaultPreset', async () => {
    await expect(choosePreset({ config: configElsewhere() }, {}, { listOllama: noOllamaProbe })).rejects.toThrow(
      expect.objectContaining({ code: 'no_preset', message: expect.stringContaining('quick') }),
    );
  });
});

/** Fails the test if the zero-key default probes Ollama when it should not. */
const noOllamaProbe = async (): Promise<never> => {
  throw new Error('Ollama must not be probed when an API key is set');
};

const models = (chosen: Awaited<ReturnType<typeof choosePreset>>) => chosen.preset.layers.map((layer) => layer.agents.map((agent) => agent.label));

describe('the zero-key default (no config, no preset)', () => {
  const noConfig = { config: undefined };

  it('1. mixes the providers whose keys are set, the best-ranked one aggregating, without probing Ollama', async () => {
    const chosen = await choosePreset(noConfig, { ANTHROPIC_API_KEY: 'k1', GROQ_API_KEY: 'k2' }, { listOllama: noOllamaProbe });
    expect(chosen.detected?.source).toBe('keys');
    expect(chosen.detected?.notice).toMatch(/anthropic, groq/);
    const [proposers, aggregator] = models(chosen);
    expect(proposers!.some((model) => model.startsWith('anthropic:'))).toBe(true);
    expect(proposers!.some((model) => model.startsWith('groq:'))).toBe(true);
    expect(aggregator).toEqual(['anthropic:claude-sonnet-4-5']);
  });

  it("2. without keys, runs MoA over the Ollama server's chat models, the largest aggregating (embeddings skipped)", async () => {
    const listOllama = async () => [
      { name: 'llama3.2:3b', size: 2_000_000_000 },
      { name: 'nomic-embed-text:latest', size: 270_000_000 },
      { name: 'qwen2.5:7b', size: 4_700_000_000 },
    ];
    const chosen = await choosePreset(noConfig, {}, { listOllama });
    expect(chosen.detected?.source).toBe('ollama');
    expect(models(chosen)).toEqual([['ollama:llama3.2:3b', 'ollama:qwen2.5:7b'], ['ollama:qwen2.5:7b']]);
  });

  it('3. with neither, runs Self-MoA on the default local model', async () => {
    const chosen = await choosePreset(noConfig, {}, { listOllama: async () => undefined });
    expect(chosen.detected?.source).toBe('local');
    const local = 'local:qwen2.5-1.5b-instruct-q4_k_m.gguf';
    expect(models(chosen)).toEqual([[local, local, local, local], [local]]);
    expect(chosen.preset.layers[0]!.agents.every((agent) => agent.temperature === 0.7)).toBe(true);
  });

  it('an Ollama server with only embedding models counts as none', async () => {
    const chosen = await choosePreset(noConfig, {}, { listOllama: async () => [{ name: 'mxbai-embed-large' }] });
    expect(chosen.detected?.source).toBe('local');
  });

  it("self-moa samples the machine's best model, or the model given with --aggregator", async () => {
    const keyed = await choosePreset({ preset: 'self-moa' }, { OPENAI_API_KEY: 'k' }, { listOllama: noOllamaProbe });
    expect(models(keyed)).toEqual([Array(4).fill('openai:gpt-4.1'), ['openai:gpt-4.1']]);
    const named = await choosePreset({ preset: 'self-moa', aggregator: 'groq:llama-3.3-70b-versatile' }, { GROQ_API_KEY: 'k' });
    expect(models(named)).toEqual([Array(4).fill('groq:llama-3.3-70b-versatile'), ['groq:llama-3.3-70b-versatile']]);
  });

  it('a named preset is used as is, with no detection', async () => {
    const chosen = await choosePreset({ preset: 'moa-lite' }, {}, { listOllama: noOllamaProbe });
    expect(chosen.detected).toBeUndefined();
    expect(chosen.preset.name).toBe('moa-lite');
  });
});
