/**
 * What every bench does with child processes: start the project's fake
 * OpenAI-compatible server (test/support/fake-llm-server-main.ts) in its own
 * process, so its CPU is not counted, wait for a line a child prints, stop it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BenchLogEntry } from './fake-provider-main.js';

export type { BenchLogEntry };

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const FAKE_MAIN = resolve(ROOT, 'test/support/fake-llm-server-main.ts');
const BENCH_FAKE_MAIN = resolve(ROOT, 'bench/support/fake-provider-main.ts');

/** Resolves with the first capture group of `pattern` once the child printed it; rejects if it exits or stays silent for 20 s. */
export function waitForLine(child: ChildProcess, stream: 'stdout' | 'stderr', pattern: RegExp, what: string): Promise<string> {
  return new Promise((resolveLine, reject) => {
    let buffered = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start within 20 s:\n${buffered}`)), 20_000);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited early (code ${code}, signal ${signal}):\n${buffered}`));
    });
    const source = child[stream]!;
    source.setEncoding('utf8');
    source.on('data', (data: string) => {
      buffered += data;
      const match = pattern.exec(buffered);
      if (match) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        resolveLine(match[1]!);
      }
    });
  });
}

/** The fake server in a child process, configured like FAKE_LLM_CONFIG ({ behaviors, defaultBehavior }). */
export async function startFakeServerProcess(config: Record<string, unknown>): Promise<{ child: ChildProcess; url: string }> {
  const env: NodeJS.ProcessEnv = { ...process.env, FAKE_LLM_CONFIG: JSON.stringify(config) };
  delete env['NODE_OPTIONS']; // a --cpu-prof meant for the bench should not profile the server too
  const child = spawn(process.execPath, ['--import', 'tsx', FAKE_MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
  return { child, url: await waitForLine(child, 'stdout', /FAKE_LLM_URL=(\S+)/, 'the fake LLM server') };
}

/** The bench's fake provider (fake-provider-main.ts): continuing answers, and its request log over IPC. */
export interface FakeProvider {
  child: ChildProcess;
  url: string;
  /** Every request the server received since the last `clearLog`. */
  log(): Promise<BenchLogEntry[]>;
  clearLog(): Promise<void>;
}

export async function startFakeProvider(config: Record<string, unknown>): Promise<FakeProvider> {
  const env: NodeJS.ProcessEnv = { ...process.env, FAKE_LLM_CONFIG: JSON.stringify(config) };
  delete env['NODE_OPTIONS'];
  const child = spawn(process.execPath, ['--import', 'tsx', BENCH_FAKE_MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit', 'ipc'] });
  const url = await waitForLine(child, 'stdout', /FAKE_LLM_URL=(\S+)/, 'the fake provider');
  const ask = <T>(type: string, answer: string, pick: (message: Record<string, unknown>) => T): Promise<T> =>
    new Promise((resolveAnswer, reject) => {
      const onMessage = (message: Record<string, unknown>): void => {
        if (message['type'] !== answer) return;
        child.off('message', onMessage);
        child.off('exit', onExit);
        resolveAnswer(pick(message));
      };
      const onExit = (): void => reject(new Error('the fake provider exited'));
      child.on('message', onMessage);
      child.once('exit', onExit);
      child.send({ type });
    });
  return {
    child,
    url,
    log: () => ask('log', 'log', (message) => message['entries'] as BenchLogEntry[]),
    clearLog: () => ask('clear', 'cleared', () => undefined),
  };
}

function isAlive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** SIGTERM, then SIGKILL after `graceMs`; done when the process is gone ('exit', or its pid no longer exists). */
export function stopChild(child: ChildProcess, graceMs = 3_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolveStop) => {
    const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    const poll = setInterval(() => {
      if (!isAlive(child.pid)) done();
    }, 100);
    const done = (): void => {
      clearTimeout(killer);
      clearInterval(poll);
      resolveStop();
    };
    child.once('exit', done);
    child.kill('SIGTERM');
  });
}
