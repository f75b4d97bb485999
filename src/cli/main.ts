#!/usr/bin/env node
/** `moa`: Mixture-of-Agents from the command line. */
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { MoAError } from '../util/errors.js';
import { registerBatchCommand } from './batch-command.js';
import { askCommand, chatCommand, presetsCommand, replayCommand, type AskOptions, type ChatOptions } from './commands.js';
import type { CommandRegistration } from './command-registration.js';
import { registerEvalCommands } from './eval-command.js';
import { registerMcpCommand } from './mcp-command.js';
import { registerPullCommand } from './pull-command.js';
import { registerQueueCommand } from './queue-command.js';
import { registerReportCommand } from './report-command.js';
import { registerServeCommand } from './serve-command.js';
import { registerWorkerCommand } from './worker-command.js';
import { EXIT_USAGE, exitCodeFor } from './exit-codes.js';
import type { CliStreams } from './run-for-cli.js';
import { addPresetOptions } from './options.js';
import { colorsFor } from './terminal.js';

const packageJson = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

export function buildProgram(io: CliStreams): { program: Command; exitCode: () => number } {
  let code = 0;
  const program = new Command('moa')
    .description('Mixture-of-Agents: one better answer from several LLMs')
    .version(packageJson.version)
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) });

  addPresetOptions(
    program
      .command('ask')
      .description('answer one prompt (argument or stdin); the final answer streams to stdout')
      .argument('[prompt...]', 'the prompt (read from stdin when omitted, or when it is "-")'),
  )
    .option('--json', 'print the result object (answer, every layer and agent, usage, timing) as JSON')
    .option('--trace <file>', 'write the run\'s event stream as JSONL (replay it with "moa replay")')
    .option('-q, --quiet', 'no progress or summary on stderr')
    .option('-y, --yes', 'download the default local model without asking when it is needed (also MOA_YES=1)')
    .action(async (prompt: string[], options: AskOptions) => {
      code = await askCommand(prompt, options, io);
    });

  addPresetOptions(program.command('chat').description('interactive multi-turn chat (or one turn per line of piped stdin)'))
    .option('--trace <file>', "write each turn's event stream as <file>.turnN.jsonl")
    .option('-q, --quiet', 'no progress on stderr')
    .option('-y, --yes', 'download the default local model without asking when it is needed (also MOA_YES=1)')
    .action(async (options: ChatOptions) => {
      code = await chatCommand(options, io);
    });

  program
    .command('presets')
    .description('list the presets (built-in and from the config) with their layers and models')
    .option('-c, --config <file>', 'config file')
    .option('--json', 'machine-readable output')
    .action(async (options: Parameters<typeof presetsCommand>[0]) => {
      code = await presetsCommand(options, io);
    });

  program
    .command('replay')
    .description('render a saved trace (JSONL event stream) as the run happened')
    .argument('<trace>', 'trace file written by --trace')
    .addOption(new Option('--json', 'print the result reduced from the trace'))
    .option('--full', 'show every proposer answer in full')
    .action(async (file: string, options: Parameters<typeof replayCommand>[1]) => {
      code = await replayCommand(file, options, io);
    });

  const registration: CommandRegistration = { program, io, setExitCode: (exitCode) => void (code = exitCode) };
  registerServeCommand(registration);
  registerMcpCommand(registration);
  registerBatchCommand(registration);
  registerEvalCommands(registration);
  registerPullCommand(registration);
  registerReportCommand(registration);
  registerWorkerCommand(registration);
  registerQueueCommand(registration);

  return { program, exitCode: () => code };
}

export async function main(argv: string[], io: CliStreams): Promise<number> {
  const { program, exitCode } = buildProgram(io);
  if (argv.length <= 2) {
    program.outputHelp();
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    return exitCode();
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 || error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? 0 : EXIT_USAGE;
    }
    const colors = colorsFor(io.stderr, io.env);
    const message = error instanceof MoAError ? error.message : error instanceof Error ? (error.stack ?? error.message) : String(error);
    io.stderr.write(colors.red(`moa: ${message}\n`));
    return exitCodeFor(error);
  }
}

// A closed pipe (`moa presets | head`) is a normal way for output to end.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw error;
  });
}
const io: CliStreams = { stdout: process.stdout, stderr: process.stderr, env: process.env };
main(process.argv, io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`moa: unexpected error: ${String(error)}\n`);
    process.exitCode = 1;
  },
);
