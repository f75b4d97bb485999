/**
 * A real `redis-server` (Debian's package, /usr/bin/redis-server) for tests and benches: started
 * on a free loopback port with its own temporary folder, nothing persisted, stopped (and the folder
 * removed) by `stop()`. Never a mock: the queue and the shared limits are tested against the
 * server users run.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const REDIS_SERVER_BINARY = process.env['MOA_REDIS_SERVER'] ?? '/usr/bin/redis-server';

export interface TestRedisServer {
  /** redis://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The server's process id (a test may SIGSTOP or kill it). */
  pid: number;
  /** SIGTERM, wait for the exit, remove the folder. Safe to call twice. */
  stop(): Promise<void>;
}

/** A port nobody listens on right now (the kernel's choice for port 0, released at once). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen({ port: 0, host: '127.0.0.1' }, () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function waitForReady(child: ChildProcess, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => fail(new Error(`redis-server on port ${port} was not ready within 10 s:\n${output}`)), 10_000);
    const fail = (error: Error): void => {
      clearTimeout(timer);
      child.stdout?.removeAllListeners('data');
      reject(error);
    };
    child.once('error', (error) => fail(new Error(`cannot start ${REDIS_SERVER_BINARY} (install Debian's redis-server): ${error.message}`)));
    child.once('exit', (code, signal) => fail(new Error(`redis-server on port ${port} exited early (code ${code}, signal ${signal}):\n${output}`)));
    child.stdout?.setEncoding('utf8');
    child.stdout?.on('data', (data: string) => {
      output += data;
      if (output.includes('Ready to accept connections')) {
        clearTimeout(timer);
        child.removeAllListeners('exit');
        child.removeAllListeners('error');
        child.stdout?.removeAllListeners('data');
        child.stdout?.resume(); // keep draining its log so it never blocks on a full pipe
        resolve();
      }
    });
  });
}

/** Starts redis-server on a free loopback port (retried on the rare race for the port). */
export async function startRedisServer(options: { extraArgs?: string[] } = {}): Promise<TestRedisServer> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freeLoopbackPort();
    const directory = mkdtempSync(join(tmpdir(), 'moa-redis-'));
    const child = spawn(
      REDIS_SERVER_BINARY,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--dir',
        directory,
        '--save',
        '',
        '--appendonly',
        'no',
        // BullMQ needs every key kept: a queue loses jobs if Redis evicts them.
        '--maxmemory-policy',
        'noeviction',
        '--loglevel',
        'notice',
        ...(options.extraArgs ?? []),
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    child.stderr?.resume();
    try {
      await waitForReady(child, port);
    } catch (error) {
      lastError = error;
      child.kill('SIGKILL');
      rmSync(directory, { recursive: true, force: true });
      continue;
    }
    let stopped: Promise<void> | undefined;
    return {
      url: `redis://127.0.0.1:${port}`,
      port,
      pid: child.pid!,
      stop() {
        stopped ??= new Promise<void>((resolve) => {
          const finish = (): void => {
            clearTimeout(killer);
            rmSync(directory, { recursive: true, force: true });
            resolve();
          };
          const killer = setTimeout(() => child.kill('SIGKILL'), 5_000);
          if (child.exitCode !== null || child.signalCode !== null) finish();
          else {
            child.once('exit', finish);
            child.kill('SIGTERM');
          }
        });
        return stopped;
      },
    };
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
