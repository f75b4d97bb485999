/**
 * From CLI flags, the config file and the environment to the preset a command
 * runs: `--preset` (or the config's defaultPreset), reshaped by the quick flags
 * (`--proposers`, `--aggregator`, `--layers`, `--temperature`, `--max-tokens`, …).
 */
import { resolve as resolvePath } from 'node:path';
import type { PresetInput } from '../core/config-schema.js';
import { loadConfig, type LoadedConfig } from '../core/load-config.js';
import { resolvePreset, type ResolvedPreset } from '../core/resolve-preset.js';
import { PROVIDER_KEY_ENVS } from '../models/provider-catalog.js';
import { ConfigError } from '../util/errors.js';

export interface PresetFlags {
  config?: string;
  preset?: string;
  proposers?: string[];
  aggregator?: string;
  layers?: number;
  temperature?: number;
  maxTokens?: number;
  /** A system message for the conversation (added by the command, not the preset). */
  system?: string;
  synthesisPrompt?: string;
  timeout?: number;
  maxRetries?: number;
}

export interface ChosenPreset {
  preset: ResolvedPreset;
  config: LoadedConfig;
}

/** The few lines a new user needs when nothing is configured. */
export const SETUP_HELP = `No provider is configured, so there is no model to ask.

Set up one of these, then run the command again:
  • an API key, e.g.  export TOGETHER_API_KEY=...   (or OPENAI_API_KEY, ANTHROPIC_API_KEY,
    GOOGLE_GENERATIVE_AI_API_KEY, GROQ_API_KEY, OPENROUTER_API_KEY) and pick models:
      moa ask --proposers openai:gpt-4o-mini,anthropic:claude-3-5-haiku-latest --aggregator openai:gpt-4o "..."
  • an OpenAI-compatible server you run (vLLM, llama.cpp, LM Studio, Ollama): describe it in
    ./moa.config.yaml, e.g.
      providers:
        mylab: { type: openai-compatible, baseURL: http://127.0.0.1:8000/v1 }
      presets:
        quick: { layers: 2, proposers: [mylab:model-a, mylab:model-b], aggregator: mylab:model-a }
      defaultPreset: quick
See "moa presets" for the built-in presets and the README for every setting.`;

function hasAnyKey(env: Record<string, string | undefined>): boolean {
  return PROVIDER_KEY_ENVS.some((name) => Boolean(env[name]));
}

export function choosePreset(flags: PresetFlags, env: Record<string, string | undefined> = process.env): ChosenPreset {
  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env });
  const quick = flags.proposers !== undefined || flags.aggregator !== undefined || flags.layers !== undefined;
  let name = flags.preset ?? config.defaultPreset;

  if (name === undefined && !quick) {
    if (!config.path && !hasAnyKey(env)) throw new ConfigError(SETUP_HELP, { code: 'no_provider' });
    if (env.TOGETHER_API_KEY) name = 'moa-open';
    else {
      throw new ConfigError(
        'No preset chosen. Pass --preset NAME (see "moa presets"), set defaultPreset in moa.config.yaml, ' +
          'or name models: --proposers provider:model-a,provider:model-b --aggregator provider:model-c',
        { code: 'no_preset' },
      );
    }
  }

  const base: PresetInput | undefined = name !== undefined ? config.presetInput(name) : undefined;
  const hasOverrides =
    quick ||
    flags.temperature !== undefined ||
    flags.maxTokens !== undefined ||
    flags.synthesisPrompt !== undefined ||
    flags.timeout !== undefined ||
    flags.maxRetries !== undefined;
  if (!hasOverrides && name !== undefined) return { preset: config.resolve(name), config };

  if (!base && flags.aggregator === undefined) {
    throw new ConfigError('--aggregator is required with --proposers/--layers when no --preset is given', {
      code: 'usage',
      path: '--aggregator',
    });
  }
  const input: PresetInput = {
    ...(base ?? { aggregator: flags.aggregator! }),
    ...(flags.proposers !== undefined ? { proposers: flags.proposers } : {}),
    ...(flags.aggregator !== undefined ? { aggregator: flags.aggregator } : {}),
    ...(flags.layers !== undefined ? { layers: flags.layers } : {}),
    // A file named on the command line is relative to the working directory; the preset's own to its config.
    ...(flags.synthesisPrompt !== undefined ? { synthesisPromptFile: resolvePath(flags.synthesisPrompt) } : {}),
    ...(flags.timeout !== undefined ? { timeoutMs: flags.timeout } : {}),
    ...(flags.maxRetries !== undefined ? { maxRetries: flags.maxRetries } : {}),
  };
  if (flags.proposers === undefined && flags.layers !== undefined && typeof input.layers === 'number' && input.layers > 1 && !input.proposers) {
    throw new ConfigError(`--layers ${flags.layers} needs proposers: pass --proposers a,b,c`, { code: 'usage', path: '--proposers' });
  }
  // Flags override every agent's own setting, not only the preset default.
  const preset = resolvePreset(input, {
    ...(name !== undefined ? { name } : { name: 'custom' }),
    baseDir: config.baseDir,
    source: 'the command-line flags',
  });
  for (const layer of preset.layers) {
    for (const agent of layer.agents) {
      if (flags.temperature !== undefined) agent.temperature = flags.temperature;
      if (flags.maxTokens !== undefined) agent.maxTokens = flags.maxTokens;
    }
  }
  return { preset, config };
}
