/**
 * From CLI flags, the config file and the environment to the preset a command
 * runs: `--preset` (or the config's defaultPreset, or the machine's zero-key
 * default), reshaped by the quick flags (`--proposers`, `--aggregator`,
 * `--layers`, `--temperature`, `--max-tokens`, …).
 */
import { resolve as resolvePath } from 'node:path';
import type { AggregationInput, PresetInput } from '../core/config-schema.js';
import { loadConfig, type LoadedConfig } from '../node/load-config.js';
import { selfMoAPreset, type DefaultChoice } from '../core/machine-default.js';
import { choosePresetInput, type PresetChoiceOptions } from '../node/preset-choice.js';
import { resolvePreset, type ResolvedPreset } from '../core/resolve-preset.js';
import { ConfigError } from '../util/errors.js';
import { readTextFile } from '../node/read-text-file.js';

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
  aggregation?: AggregationInput;
  timeout?: number;
  maxRetries?: number;
}

export interface ChosenPreset {
  preset: ResolvedPreset;
  config: LoadedConfig;
  /** Set when no preset was named and the machine's default was picked (say so on stderr). */
  detected?: DefaultChoice;
}

function hasQuickModels(flags: PresetFlags): boolean {
  return flags.proposers !== undefined || flags.aggregator !== undefined || flags.layers !== undefined;
}

export interface ChooseOptions {
  /** Lists an Ollama server's models for the zero-key default (tests inject a fake). */
  listOllama?: PresetChoiceOptions['listOllama'];
}

export async function choosePreset(flags: PresetFlags, env: Record<string, string | undefined> = process.env, options: ChooseOptions = {}): Promise<ChosenPreset> {
  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env });
  const quick = hasQuickModels(flags);
  let name = flags.preset ?? config.defaultPreset;
  let base: PresetInput | undefined;
  let detected: DefaultChoice | undefined;
  if (name !== undefined || !quick) {
    const choice = await choosePresetInput(config, name, { env, ...(options.listOllama ? { listOllama: options.listOllama } : {}) });
    name = choice.name;
    base = choice.input;
    detected = choice.detected;
    // `--preset self-moa --aggregator M`: Self-MoA over M.
    if (name === 'self-moa' && flags.aggregator !== undefined && flags.proposers === undefined) {
      base = selfMoAPreset(flags.aggregator, (base.proposers ?? []).length || undefined);
    }
  }
  const withDetected = (chosen: { preset: ResolvedPreset; config: LoadedConfig }): ChosenPreset => (detected ? { ...chosen, detected } : chosen);

  const hasOverrides =
    quick ||
    flags.temperature !== undefined ||
    flags.maxTokens !== undefined ||
    flags.synthesisPrompt !== undefined ||
    flags.aggregation !== undefined ||
    flags.timeout !== undefined ||
    flags.maxRetries !== undefined;
  if (!hasOverrides && name !== undefined && base !== undefined) {
    const preset = config.presets[name] === base ? config.resolve(name) : resolvePreset(base, { name, baseDir: config.baseDir, readFile: readTextFile });
    return withDetected({ preset, config });
  }

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
    ...(flags.aggregation !== undefined ? { aggregation: flags.aggregation } : {}),
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
    readFile: readTextFile,
    source: 'the command-line flags',
  });
  for (const layer of preset.layers) {
    for (const agent of layer.agents) {
      if (flags.temperature !== undefined) agent.temperature = flags.temperature;
      if (flags.maxTokens !== undefined) agent.maxTokens = flags.maxTokens;
    }
  }
  return withDetected({ preset, config });
}
