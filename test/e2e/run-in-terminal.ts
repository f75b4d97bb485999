// The built `moa` CLI on a real pseudo-terminal, for what only a terminal shows: raw-mode keys
// (Ctrl-C, Ctrl-D), the prompt, the live view. util-linux `script` allocates the pty, copies
// our writes to it as keystrokes and its output back to us (stdout and stderr interleaved, as
// a screen shows them).
import { spawn } from 'node:child_process';
import { CLI_PATH } from './run-cli.js';

export interface TerminalSession {
  /** Everything the terminal has shown so far (ANSI codes included). */
  output(): string;
  /** Keystrokes: "hi\r" is typed text and Enter, "\x03" Ctrl-C, "\x04" Ctrl-D. */
  type(keys: string): void;
  /** Waits until the output after offset `from` matches; resolves with the offset just after the match. */
  waitForOutput(pattern: RegExp, from?: number, timeoutMs?: number): Promise<number>;
  /** The CLI's exit code (a signal death is 128 + the signal number, as a shell reports it). */
  exited: Promise<number | null>;
  /** Kills the session if it is still running. */
  close(): Promise<void>;
}

/** The end of what the terminal showed, for failure messages. */
function tail(text: string): string {
  return JSON.stringify(text.length > 3_000 ? `…${text.slice(-3_000)}` : text);
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

export interface TerminalOptions {
  cwd: string;
  env: Record<string, string>;
  columns?: number;
  rows?: number;
  /** Redirect the CLI's stdout to this file (stderr stays on the terminal), as `moa ask … > file` does. */
  stdoutFile?: string;
}

export function runInTerminal(args: string[], options: TerminalOptions): TerminalSession {
  const command = [
    `stty cols ${options.columns ?? 100} rows ${options.rows ?? 40}`,
    `exec ${[process.execPath, CLI_PATH, ...args].map(shellQuote).join(' ')}${options.stdoutFile ? ` > ${shellQuote(options.stdoutFile)}` : ''}`,
  ].join('; ');
  const child = spawn('script', ['--quiet', '--flush', '--return', '--command', command, '/dev/null'], {
    cwd: options.cwd,
    env: { ...options.env, SHELL: '/bin/sh' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let text = '';
  let running = true;
  const waiters = new Set<() => void>();
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    text += chunk;
    notify();
  });
  child.stderr.setEncoding('utf8');
  child.stderr.on('data', (chunk: string) => {
    text += chunk; // script's own complaints, if any
    notify();
  });
  child.stdin.on('error', () => undefined);
  const exited = new Promise<number | null>((resolve) => {
    child.on('close', (code) => {
      running = false;
      notify();
      resolve(code);
    });
  });
  return {
    output: () => text,
    type(keys) {
      child.stdin.write(keys);
    },
    waitForOutput(pattern, from = 0, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const match = pattern.exec(text.slice(from));
          if (match) {
            done();
            resolve(from + match.index + match[0].length);
          } else if (!running) {
            done();
            reject(new Error(`the CLI exited before ${String(pattern)} appeared; the terminal showed:\n${tail(text.slice(from))}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`${String(pattern)} did not appear within ${timeoutMs} ms; the terminal showed:\n${tail(text.slice(from))}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    exited,
    async close() {
      if (running) child.kill('SIGKILL');
      await exited;
    },
  };
}
