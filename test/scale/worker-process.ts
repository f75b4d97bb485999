// `moa worker` as a child process of a test: started on a real Redis, ready once it says it is
// taking items; stopped (SIGTERM, then SIGKILL) by the test or, at the latest, by stopAllWorkers().
import { spawn, type ChildProcess } from 'node:child_process';
import { CLI_PATH } from '../e2e/run-cli.js';

export interface WorkerProcess {
  child: ChildProcess;
  pid: number;
  /** Everything it wrote to stderr so far. */
  stderr(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (items in flight finish), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const running = new Set<WorkerProcess>();

export async function startWorker(args: string[], options: { cwd: string; env: Record<string, string> }): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [CLI_PATH, 'worker', ...args], { cwd: options.cwd, env: options.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.setEncoding('utf8');
  child.stdout.resume();
  child.stderr.on('data', (text: string) => void (stderr += text));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const worker: WorkerProcess = {
    child,
    pid: child.pid!,
    stderr: () => stderr,
    exited,
    async stop(graceMs = 10_000) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const killer = setTimeout(() => child.kill('SIGKILL'), graceMs);
        const result = await exited;
        clearTimeout(killer);
        running.delete(worker);
        return result;
      }
      running.delete(worker);
      return exited;
    },
  };
  running.add(worker);
  // Ready: it has connected, read its config and subscribed.
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`moa worker did not start within 15 s:\n${stderr}`)), 15_000);
    const check = (): void => {
      if (/taking items from/.test(stderr)) {
        clearTimeout(timer);
        child.stderr.off('data', check);
        resolve();
      }
    };
    child.stderr.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`moa worker exited before it was ready (code ${code}, signal ${signal}):\n${stderr}`));
    });
    check();
  });
  return worker;
}

export async function stopAllWorkers(): Promise<void> {
  await Promise.all([...running].map((worker) => worker.stop(3_000)));
}
