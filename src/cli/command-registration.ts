/** What a command module gets to register itself on the `moa` program. */
import type { Command } from 'commander';
import type { CliStreams } from './run-for-cli.js';

export interface CommandRegistration {
  program: Command;
  io: CliStreams;
  /** Sets the process exit code the command ended with. */
  setExitCode: (code: number) => void;
}
