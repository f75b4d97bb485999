/** The `moa` commands: thin edges that parse, call the library, render and return an exit code. */
import { createInterface } from 'node:readline';
import type { ChatMessage } from '../core/events.js';
import type { PresetInput } from '../core/config-schema.js';
import { loadConfig } from '../node/load-config.js';
import { selfMoAPreset } from '../core/machine-default.js';
import { detectDefault } from '../node/preset-choice.js';
import { resolvePreset } from '../core/resolve-preset.js';
import { reduceEvents, type MoAResult } from '../core/reducer.js';
import { readTrace } from '../node/trace-file.js';
import { ConfigError } from '../util/errors.js';
import { createModelRegistry, type ModelRegistry } from '../models/registry.js';
import type { ChosenPreset } from './choose-preset.js';
import { preparePreset, type PrepareFlags } from './prepare-preset.js';
import { EXIT_INTERRUPTED, EXIT_OK, EXIT_RUN_FAILED, EXIT_USAGE } from './exit-codes.js';
import { summaryLine } from './progress-view.js';
import { createChatTerminal, type PromptAnswer } from './chat-terminal.js';
import { runForCli, type CliRunOutcome, type CliStreams } from './run-for-cli.js';
import { colorsFor, readStdin } from './terminal.js';
import { formatCount, formatDuration, plural } from '../util/format.js';
import { readTextFile } from '../node/read-text-file.js';
import '../models/local/register-local-provider.js'; // the local: provider (GGUF through node-llama-cpp) in this Node face's registries

export interface AskOptions extends PrepareFlags {
  json?: boolean;
  trace?: string;
  quiet?: boolean;
}

export async function askCommand(promptWords: string[], options: AskOptions, io: CliStreams): Promise<number> {
  // "-" alone means standard input, as for Unix tools (read even from a terminal, up to Ctrl-D).
  const fromStdin = promptWords.length === 1 && promptWords[0] === '-';
  let prompt = fromStdin ? '' : promptWords.join(' ');
  if (fromStdin || (!prompt.trim() && !process.stdin.isTTY)) prompt = await readStdin();
  if (!prompt.trim()) {
    throw new ConfigError('No prompt: pass it as an argument (moa ask "...") or on standard input (echo "..." | moa ask, or moa ask -)', {
      code: 'usage',
    });
  }
  const chosen = await preparePreset(options, io);
  const messages: ChatMessage[] = [];
  if (options.system) messages.push({ role: 'system', content: options.system });
  messages.push({ role: 'user', content: prompt.trim() });
  const { exitCode } = await runForCli(
    {
      chosen,
      messages,
      ...(options.json ? { json: true } : {}),
      ...(options.quiet ? { quiet: true } : {}),
      ...(options.trace ? { tracePath: options.trace } : {}),
    },
    io,
  );
  return exitCode;
}

export interface ChatOptions extends PrepareFlags {
  trace?: string;
  quiet?: boolean;
}

const CHAT_HELP = 'Commands: /reset forgets the conversation, /exit (or Ctrl-D) leaves. Ctrl-C cancels the answer being written; on an empty line it leaves.';

function answeredBy(result: MoAResult): string {
  return result.layers
    .map((layer) => {
      const names = layer.agents.map((agent) => `${agent.status === 'done' ? '✓' : '✗'} ${agent.model}`);
      return `${layer.aggregator ? 'aggregator' : `layer ${layer.index + 1}`}: ${names.join(', ')}`;
    })
    .join('\n');
}

/**
 * Multi-turn chat. On a terminal: a prompt, live progress, the answer streamed.
 * With piped stdin: one user turn per line, each answer printed after it.
 */
export async function chatCommand(options: ChatOptions, io: CliStreams): Promise<number> {
  const chosen = await preparePreset(options, io);
  // One registry for the whole chat: local models stay loaded between turns.
  const registry = createModelRegistry({ providers: chosen.config.providers, env: io.env });
  try {
    return await chatTurns(chosen, registry, options, io);
  } finally {
    await registry.close();
  }
}

async function chatTurns(chosen: ChosenPreset, registry: ModelRegistry, options: ChatOptions, io: CliStreams): Promise<number> {
  const colors = colorsFor(io.stderr, io.env);
  const interactive = Boolean(process.stdin.isTTY && io.stdout.isTTY);
  const history: ChatMessage[] = options.system ? [{ role: 'system', content: options.system }] : [];
  const layerCount = chosen.preset.layers.length;
  const proposerCount = chosen.preset.layers[0]?.agents.length ?? 0;
  if (interactive) {
    io.stderr.write(
      colors.bold(
        `MoA chat · preset ${chosen.preset.name ?? 'custom'} · ${plural(layerCount, 'layer')}, ${layerCount > 1 ? plural(proposerCount, 'proposer') : 'aggregator only'}\n`,
      ) + colors.dim(`${CHAT_HELP}\n\n`),
    );
  }
  // A terminal gets a prompt with line editing and Ctrl-C handling; piped input one turn per line.
  const terminal = interactive ? createChatTerminal(process.stdin, io.stderr, colors.cyan('you › ')) : undefined;
  const pipedLines = interactive ? undefined : createInterface({ input: process.stdin, terminal: false });
  const pipedIterator = pipedLines?.[Symbol.asyncIterator]();
  const nextLine = async (): Promise<PromptAnswer> => {
    if (terminal) return terminal.prompt();
    const next = await pipedIterator!.next();
    return next.done ? { kind: 'end' } : { kind: 'line', text: String(next.value) };
  };
  let failures = 0;
  let turn = 0;
  try {
    for (;;) {
      const answer = await nextLine();
      if (answer.kind === 'end') break;
      if (answer.kind === 'interrupt') return EXIT_INTERRUPTED; // Ctrl-C at an empty prompt
      const text = answer.text.trim();
      if (!text) continue;
      if (text === '/exit' || text === '/quit') break;
      if (text === '/reset') {
        history.splice(options.system ? 1 : 0);
        io.stderr.write(colors.dim('(conversation cleared)\n'));
        continue;
      }
      if (text === '/help') {
        io.stderr.write(`${CHAT_HELP}\n`);
        continue;
      }
      turn++;
      const messages: ChatMessage[] = [...history, { role: 'user', content: text }];
      const watch = terminal?.watchTurn();
      let outcome: CliRunOutcome;
      try {
        outcome = await runForCli(
          {
            chosen,
            messages,
            registry,
            quiet: Boolean(options.quiet),
            ...(watch ? { signal: watch.signal } : {}),
            ...(options.trace ? { tracePath: options.trace.replace(/(\.jsonl)?$/, `.turn${turn}$1`) } : {}),
          },
          io,
        );
      } finally {
        watch?.stop();
      }
      const { exitCode, result } = outcome;
      if (exitCode === EXIT_OK) {
        history.push({ role: 'user', content: text }, { role: 'assistant', content: result.text });
        if (interactive) io.stderr.write(colors.dim(`${answeredBy(result)}\n\n`));
        else io.stdout.write('\n');
      } else if (outcome.interrupted && !watch?.signal.aborted) {
        return EXIT_INTERRUPTED; // SIGINT / SIGTERM sent to the process: the chat ends
      } else {
        failures++;
        if (interactive) io.stderr.write(colors.dim(`(${watch?.signal.aborted ? 'turn cancelled; it was' : 'this turn was'} not added to the conversation)\n\n`));
      }
    }
  } finally {
    terminal?.close();
    pipedLines?.close();
  }
  return failures > 0 && !interactive ? EXIT_RUN_FAILED : EXIT_OK;
}

export async function presetsCommand(options: { config?: string; json?: boolean }, io: CliStreams): Promise<number> {
  const config = loadConfig({ ...(options.config !== undefined ? { configPath: options.config } : {}), env: io.env });
  const colors = colorsFor(io.stdout, io.env);
  // With no defaultPreset, show what a run without --preset would use on this machine.
  const machineDefault = config.defaultPreset === undefined && config.configPresetNames.length === 0 ? await detectDefault({ env: io.env }) : undefined;
  const entries: Array<[string, PresetInput, string]> = Object.entries(config.presets).map(([name, input]) => [
    name,
    name === 'self-moa' && machineDefault && !config.configPresetNames.includes(name) ? selfMoAPreset(machineDefault.primaryModel) : input,
    config.configPresetNames.includes(name) ? 'config' : 'built-in',
  ]);
  if (machineDefault) entries.unshift([machineDefault.name, machineDefault.preset, `detected: ${machineDefault.source}`]);
  const rows = entries.map(([name, input, source]) => {
    const preset = config.presets[name] === input ? config.resolve(name) : resolvePreset(input, { name, baseDir: config.baseDir, readFile: readTextFile });
    return {
      name,
      source,
      default: config.defaultPreset === name || machineDefault?.name === name,
      description: input.description,
      layers: preset.layers.map((layer) => ({
        aggregator: layer.aggregator,
        models: layer.agents.map((agent) => agent.label),
        fallbacks: layer.aggregator ? layer.agents[0]!.fallbacks : [],
        minSuccessful: layer.minSuccessful,
        ...(layer.quorum !== undefined ? { quorum: layer.quorum, graceMs: layer.graceMs } : {}),
      })),
    };
  });
  if (options.json) {
    io.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    return EXIT_OK;
  }
  for (const row of rows) {
    io.stdout.write(`${colors.bold(row.name)}${row.default ? colors.green(' (default)') : ''} ${colors.dim(`[${row.source}] ${plural(row.layers.length, 'layer')}`)}\n`);
    if (row.description) io.stdout.write(`  ${colors.dim(row.description)}\n`);
    row.layers.forEach((layer, index) => {
      const label = (layer.aggregator ? 'aggregator' : `layer ${index + 1}`).padEnd(10);
      const extra = layer.fallbacks.length ? colors.dim(` (fallbacks: ${layer.fallbacks.join(', ')})`) : '';
      io.stdout.write(`  ${label}  ${layer.models.join(', ')}${extra}\n`);
    });
    io.stdout.write('\n');
  }
  if (config.path) io.stdout.write(colors.dim(`config: ${config.path}\n`));
  return EXIT_OK;
}

function indent(text: string, prefix = '    '): string {
  return text
    .split('\n')
    .map((line) => `${prefix}${line}`)
    .join('\n');
}

function clip(text: string, maxLines: number): string {
  const lines = text.split('\n');
  return lines.length <= maxLines ? text : `${lines.slice(0, maxLines).join('\n')}\n… (${lines.length - maxLines} more lines; --full shows all)`;
}

export async function replayCommand(file: string, options: { json?: boolean; full?: boolean }, io: CliStreams): Promise<number> {
  const { events, warnings } = readTrace(file);
  const result = reduceEvents(events);
  const colors = colorsFor(io.stdout, io.env);
  for (const warning of warnings) io.stderr.write(colorsFor(io.stderr, io.env).yellow(`moa: warning: ${warning}\n`));
  if (options.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return result.status === 'failed' ? EXIT_RUN_FAILED : EXIT_OK;
  }
  const out: string[] = [];
  out.push(
    colors.bold(`Run ${result.runId}`) +
      colors.dim(`${result.preset ? ` · preset ${result.preset}` : ''} · ${plural(result.layers.length, 'layer')} · ${plural(events.length, 'event')}`),
  );
  const lastUser = [...result.messages].reverse().find((message) => message.role === 'user');
  if (lastUser) out.push('', colors.bold('Prompt'), indent(clip(lastUser.content, options.full ? Infinity : 12), '  '));
  for (const layer of result.layers) {
    out.push('', colors.bold(layer.aggregator ? 'Aggregator' : `Layer ${layer.index + 1}`));
    for (const agent of layer.agents) {
      const mark =
        agent.status === 'done' ? colors.green('✓') : agent.status === 'cut' ? colors.yellow('✂') : agent.status === 'failed' ? colors.red('✗') : colors.dim('…');
      const stats =
        agent.status === 'done'
          ? `${formatDuration(agent.latencyMs ?? 0)} · ${formatCount(agent.usage.inputTokens)} in / ${formatCount(agent.usage.outputTokens)} out${agent.attempts > 1 ? ` · ${agent.attempts} attempts` : ''}`
          : (agent.error?.message ?? agent.status);
      out.push(`  ${mark} ${agent.model} ${colors.dim(stats)}`);
      if (agent.text && !layer.aggregator) out.push(colors.dim(indent(clip(agent.text, options.full ? Infinity : 6))));
    }
  }
  for (const warning of result.warnings) out.push(colors.yellow(`warning: ${warning.message}`));
  out.push('');
  if (result.status === 'done') {
    out.push(colors.bold('Answer'), result.text, '', summaryLine(result, colors));
  } else if (result.status === 'failed') {
    out.push(colors.red(`The run failed: ${result.error?.message ?? 'unknown error'}`), summaryLine(result, colors));
  } else {
    out.push(colors.yellow('The run did not finish.'));
  }
  io.stdout.write(`${out.join('\n')}\n`);
  return result.status === 'failed' ? EXIT_RUN_FAILED : EXIT_OK;
}

export { EXIT_USAGE };
