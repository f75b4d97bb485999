/**
 * Find, parse and validate the configuration file, merge it over the built-in
 * presets, and resolve presets by name.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve as resolvePath } from 'node:path';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { BUILTIN_PROVIDERS } from '../models/provider-catalog.js';
import { ConfigError } from '../util/errors.js';
import { BUILTIN_PRESETS } from '../core/builtin-presets.js';
import { configFileSchema, presetSchema, providerSchema, type ConfigFile, type ModelPrice, type PresetInput, type ProviderSettings } from '../core/config-schema.js';
import { resolvePreset, type ResolvedPreset } from '../core/resolve-preset.js';
import { configError, schemaProblems, type ConfigProblem } from '../core/validate.js';
import { readTextFile } from './read-text-file.js';

export const CONFIG_FILE_NAMES = ['moa.config.yaml', 'moa.config.yml', 'moa.config.json'];

export interface LoadedConfig {
  /** The file read, or undefined when only the built-in presets are in use. */
  path?: string;
  providers: Record<string, ProviderSettings>;
  presets: Record<string, PresetInput>;
  /** Names defined by the config file (the rest are built in). */
  configPresetNames: string[];
  defaultPreset?: string;
  timeoutMs?: number;
  maxRetries?: number;
  /** USD per million input/output tokens, by "provider:model-id" (empty when the config gives none). */
  prices: Record<string, ModelPrice>;
  /** The config file's folder (the working directory without one): relative paths resolve here. */
  baseDir: string;
  /** A preset as written; throws ConfigError naming the available presets when there is none by that name. */
  presetInput(name: string): PresetInput;
  /** Resolve a preset by name (the config's defaultPreset when omitted). */
  resolve(name?: string): ResolvedPreset;
}

export interface LoadConfigOptions {
  configPath?: string;
  cwd?: string;
  env?: Record<string, string | undefined>;
}

export function findConfigFile(options: LoadConfigOptions = {}): string | undefined {
  const cwd = options.cwd ?? process.cwd();
  const env = options.env ?? process.env;
  const explicit = options.configPath ?? env.MOA_CONFIG;
  if (explicit) {
    const file = resolvePath(cwd, explicit);
    if (!existsSync(file)) {
      const from = options.configPath ? '--config' : 'MOA_CONFIG';
      throw new ConfigError(`Config file not found: ${file} (from ${from}). Check the path, or remove ${from} to use ./moa.config.yaml`, {
        code: 'config_not_found',
      });
    }
    return file;
  }
  return CONFIG_FILE_NAMES.map((name) => resolvePath(cwd, name)).find((file) => existsSync(file));
}

function parseFile(file: string): unknown {
  const text = readFileSync(file, 'utf8');
  const empty = (): ConfigError =>
    new ConfigError(
      `${file} holds no settings (${text.trim() ? 'only comments' : 'the file is empty'}). ` +
        'Add providers and presets (see "Configuration" in the README), or remove the file to use the built-in presets.',
      { code: 'config_empty' },
    );
  if (!text.trim()) throw empty();
  if (file.endsWith('.json')) {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new ConfigError(`${file} is not valid JSON: ${(error as Error).message}`, { code: 'config_syntax' });
    }
  }
  let value: unknown;
  try {
    value = parseYaml(text);
  } catch (error) {
    const where = error instanceof YAMLParseError && error.linePos ? ` (line ${error.linePos[0].line}, column ${error.linePos[0].col})` : '';
    throw new ConfigError(`${file} is not valid YAML${where}: ${(error as Error).message.split('\n')[0]}`, { code: 'config_syntax' });
  }
  if (value === null || value === undefined) throw empty();
  return value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The entries of a record that pass `schema` on their own (the others are reported already). */
function validEntries<T extends typeof providerSchema | typeof presetSchema>(value: unknown, schema: T): Record<string, ReturnType<T['parse']>> {
  const entries: Record<string, ReturnType<T['parse']>> = {};
  if (!isRecord(value)) return entries;
  for (const [name, entry] of Object.entries(value)) {
    const parsed = schema.safeParse(entry);
    if (parsed.success) entries[name] = parsed.data as ReturnType<T['parse']>;
  }
  return entries;
}

/**
 * The well-formed parts of a config that failed its schema, so the checks that need parsed
 * settings (provider base URLs, presets, model providers) still run and every problem is
 * reported in one go.
 */
function wellFormedParts(raw: unknown): ConfigFile {
  const record = isRecord(raw) ? raw : {};
  return {
    providers: validEntries(record.providers, providerSchema),
    presets: validEntries(record.presets, presetSchema),
    ...(typeof record.defaultPreset === 'string' ? { defaultPreset: record.defaultPreset } : {}),
  };
}

/** A ConfigError from resolving a preset, as a problem (its message without the "Invalid configuration at …:" lead). */
function problemOf(error: ConfigError, file: string | undefined): ConfigProblem {
  const path = error.path ?? '(top level)';
  let message = error.message;
  for (const lead of [`Invalid configuration at ${path}: `, `Invalid configuration in ${file} at ${path}: `]) {
    if (message.startsWith(lead)) message = message.slice(lead.length);
  }
  return { path, message, code: error.code };
}

export function loadConfig(options: LoadConfigOptions = {}): LoadedConfig {
  const file = findConfigFile(options);
  const raw = file ? parseFile(file) : {};
  // Every problem is collected and reported at once, not the first one alone.
  const problems: ConfigProblem[] = schemaProblems(configFileSchema, raw);
  const config: ConfigFile = problems.length === 0 ? configFileSchema.parse(raw) : wellFormedParts(raw);
  const providers = config.providers ?? {};
  const presets: Record<string, PresetInput> = { ...BUILTIN_PRESETS, ...(config.presets ?? {}) };
  const baseDir = file ? dirname(file) : (options.cwd ?? process.cwd());

  for (const [name, provider] of Object.entries(providers)) {
    if (provider.type === 'openai-compatible' && !provider.baseURL && !BUILTIN_PROVIDERS[name]?.baseURL) {
      problems.push({
        path: `providers.${name}.baseURL`,
        message: 'an openai-compatible provider needs a baseURL such as http://127.0.0.1:8000/v1',
      });
    }
  }

  const presetInput = (name: string): PresetInput => {
    const input = presets[name];
    if (!input) {
      throw new ConfigError(`Unknown preset "${name}". Available presets: ${Object.keys(presets).join(', ')}`, {
        code: 'unknown_preset',
        path: 'preset',
      });
    }
    return input;
  };
  const resolveNamed = (name: string): ResolvedPreset =>
    resolvePreset(presetInput(name), {
      name,
      path: ['presets', name],
      baseDir,
      readFile: readTextFile,
      ...(file && config.presets?.[name] ? { source: file } : {}),
    });

  // Check every preset the file defines now, so a typo surfaces with its path
  // even in a preset that is not used today. A provider entry that is itself invalid
  // still counts as defined (its own problem is reported).
  const rawProviders = isRecord(raw) && isRecord(raw.providers) ? Object.keys(raw.providers) : [];
  const known = new Set([...Object.keys(BUILTIN_PROVIDERS), ...Object.keys(providers), ...rawProviders]);
  for (const name of Object.keys(config.presets ?? {})) {
    let preset: ResolvedPreset;
    try {
      preset = resolveNamed(name);
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      problems.push(problemOf(error, file));
      continue;
    }
    for (const layer of preset.layers) {
      for (const agent of layer.agents) {
        for (const [index, model] of [agent.label, ...agent.fallbacks].entries()) {
          const provider = model.slice(0, model.indexOf(':'));
          if (!known.has(provider)) {
            problems.push({
              path: index === 0 ? agent.path : `${agent.path}.fallbacks[${index - 1}]`,
              message: `unknown provider "${provider}" in "${model}". Known providers: ${[...known].sort().join(', ')}; define it under "providers:"`,
              code: 'unknown_provider',
            });
          }
        }
      }
    }
  }
  const rawPresets = isRecord(raw) && isRecord(raw.presets) ? Object.keys(raw.presets) : [];
  if (config.defaultPreset !== undefined && !presets[config.defaultPreset] && !rawPresets.includes(config.defaultPreset)) {
    problems.push({
      path: 'defaultPreset',
      message: `no preset named "${config.defaultPreset}" (available: ${[...new Set([...Object.keys(presets), ...rawPresets])].join(', ')})`,
    });
  }
  if (problems.length > 0) throw configError(problems, file);

  return {
    ...(file ? { path: file } : {}),
    providers,
    presets,
    configPresetNames: Object.keys(config.presets ?? {}),
    ...(config.defaultPreset !== undefined ? { defaultPreset: config.defaultPreset } : {}),
    ...(config.timeoutMs !== undefined ? { timeoutMs: config.timeoutMs } : {}),
    ...(config.maxRetries !== undefined ? { maxRetries: config.maxRetries } : {}),
    prices: config.prices ?? {},
    baseDir,
    presetInput,
    resolve(name) {
      const chosen = name ?? config.defaultPreset;
      if (chosen === undefined) {
        throw new ConfigError('No preset chosen: pass --preset NAME, or set defaultPreset in moa.config.yaml', {
          code: 'no_preset',
        });
      }
      return resolveNamed(chosen);
    },
  };
}
