/**
 * What `moa ask`, `moa chat` and `moa serve` do before a run: choose the
 * preset, say on stderr which default was picked when none was named, and make
 * sure the default local model is on disk (asking on a TTY, `--yes`/MOA_YES=1
 * for scripts, else exit 2 with the exact pull command).
 */
import { existsSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import { DEFAULT_LOCAL_MODEL } from '../core/machine-default.js';
import type { ResolvedPreset } from '../core/resolve-preset.js';
import { resolveLocalModelPath } from '../models/local/models-dir.js';
import { ConfigError } from '../util/errors.js';
import { choosePreset, type ChooseOptions, type ChosenPreset, type PresetFlags } from './choose-preset.js';
import { pullWithProgress } from './pull-command.js';
import type { CliStreams } from './run-for-cli.js';
import { colorsFor } from './terminal.js';

export interface PrepareFlags extends PresetFlags {
  /** Download the default local model without asking. */
  yes?: boolean;
  quiet?: boolean;
}

export interface PrepareOptions extends ChooseOptions {
  /** Whether a person can answer a question (default: stdin and stderr are TTYs). */
  interactive?: boolean;
  /** Asks the question (tests inject an answer). */
  ask?: (question: string) => Promise<string>;
}

function usesDefaultLocalModel(preset: ResolvedPreset): boolean {
  const label = `local:${DEFAULT_LOCAL_MODEL.file}`;
  return preset.layers.some((layer) => layer.agents.some((agent) => agent.label === label || agent.fallbacks.includes(label)));
}

async function askOnTerminal(question: string, io: CliStreams): Promise<string> {
  const lines = createInterface({ input: process.stdin, output: io.stderr, terminal: true });
  try {
    return await lines.question(question);
  } finally {
    lines.close();
  }
}

/** Makes sure the default local model is downloaded; throws ConfigError (exit 2) when it may not be. */
export async function ensureDefaultLocalModel(flags: PrepareFlags, io: CliStreams, options: PrepareOptions = {}): Promise<void> {
  const path = resolveLocalModelPath(DEFAULT_LOCAL_MODEL.file, io.env);
  if (existsSync(path)) return;
  const pullCommand = `moa pull ${DEFAULT_LOCAL_MODEL.ref}`;
  let consent = Boolean(flags.yes) || io.env.MOA_YES === '1' || io.env.MOA_YES === 'true';
  if (!consent) {
    const interactive = options.interactive ?? Boolean(process.stdin.isTTY && io.stderr.isTTY);
    if (!interactive) {
      throw new ConfigError(
        `The default local model is not downloaded yet (${DEFAULT_LOCAL_MODEL.description}).\n` +
          `Download it with:\n  ${pullCommand}\n` +
          'or run again with --yes (or MOA_YES=1) to download it now. Or set an API key (e.g. OPENAI_API_KEY) or start Ollama to use those instead.',
        { code: 'model_not_downloaded', path: path },
      );
    }
    const answer = await (options.ask ?? ((question: string) => askOnTerminal(question, io)))(
      `No API key or Ollama server found. Download the default local model, ${DEFAULT_LOCAL_MODEL.description}, to ${path}? [Y/n] `,
    );
    consent = /^\s*(y|yes)?\s*$/i.test(answer);
    if (!consent) {
      throw new ConfigError(`Not downloading. To download it later: ${pullCommand}`, { code: 'model_not_downloaded' });
    }
  }
  await pullWithProgress(DEFAULT_LOCAL_MODEL.ref, { name: DEFAULT_LOCAL_MODEL.file, quiet: Boolean(flags.quiet) }, io);
}

export async function preparePreset(flags: PrepareFlags, io: CliStreams, options: PrepareOptions = {}): Promise<ChosenPreset> {
  const chosen = await choosePreset(flags, io.env, options);
  if (chosen.detected && !flags.quiet) io.stderr.write(colorsFor(io.stderr, io.env).dim(`moa: ${chosen.detected.notice}\n`));
  if (usesDefaultLocalModel(chosen.preset)) await ensureDefaultLocalModel(flags, io, options);
  return chosen;
}
