// Helpers for end-to-end tests of the built `moa` CLI: spawn `node dist/cli/main.js` in a temp
// workspace, feed stdin, collect stdout/stderr with timestamps, and kill it on a timeout.
// Timestamps are performance.now() in the test process, the same clock as the fake server's log.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { stringify as toYaml } from 'yaml';
import { PROVIDER_KEY_ENVS } from '../../src/models/provider-catalog.js';
import { afterAll, beforeAll } from 'vitest';
import { startFakeLLMServer, type FakeLLMServer, type FakeLogEntry } from '../support/fake-llm-server.js';

export const CLI_PATH = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** The API key the CLI gets for the fake provider; it must never show up in any output. */
export const SECRET = 'sk-fake-SECRET-1234567890';

/** Fail early, with the fix, when the CLI has not been built. */
export function assertCliBuilt(): void {
  if (!existsSync(CLI_PATH)) {
    throw new Error(`${CLI_PATH} is missing: run "npm run build" first (npm test builds before running vitest)`);
  }
}

let modelsDir: string | undefined;
/** One empty models folder per test file, so no real download counts as present. */
function emptyModelsDir(): string {
  modelsDir ??= mkdtempSync(join(tmpdir(), 'moa-e2e-models-'));
  return modelsDir;
}
// Removed after the tests of the file that imported this module (a CLI may have written into it).
afterAll(() => {
  if (modelsDir) rmSync(modelsDir, { recursive: true, force: true });
  modelsDir = undefined;
});

/** A minimal environment: no provider keys or MOA_* settings, no colours, the fake key set. */
export function cliEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of ['PATH', 'HOME', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'LC_ALL', 'SYSTEMROOT']) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  for (const name of PROVIDER_KEY_ENVS) delete env[name];
  env.NO_COLOR = '1';
  // The zero-key default probes Ollama and the models folder: neither may depend on this machine.
  env.OLLAMA_HOST = 'http://127.0.0.1:9';
  env.MOA_MODELS_DIR = emptyModelsDir();
  env.FAKE_KEY = SECRET;
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

export interface Workspace {
  dir: string;
  /** Absolute path of a file in the workspace. */
  path(name: string): string;
  read(name: string): string;
  write(name: string, text: string): string;
  remove(): void;
}

/**
 * A fresh temp directory; `config` (an object written as YAML, or raw text) becomes
 * its moa.config.yaml unless it is null.
 */
export function makeWorkspace(config: Record<string, unknown> | string | null): Workspace {
  const dir = mkdtempSync(join(tmpdir(), 'moa-e2e-'));
  const workspace: Workspace = {
    dir,
    path: (name) => join(dir, name),
    read: (name) => readFileSync(join(dir, name), 'utf8'),
    write: (name, text) => {
      writeFileSync(join(dir, name), text);
      return join(dir, name);
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
  if (config !== null) workspace.write('moa.config.yaml', typeof config === 'string' ? config : toYaml(config));
  return workspace;
}

/** The `fake` provider pointing at the fake server, keyed by $FAKE_KEY. */
export function fakeProvider(baseURL: string): Record<string, unknown> {
  return { fake: { type: 'openai-compatible', baseURL, apiKeyEnv: 'FAKE_KEY' } };
}

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  /** Every stdout 'data' event with its arrival time. */
  stdoutChunks: Array<{ at: number; text: string }>;
  spawnedAt: number;
  firstStdoutAt?: number;
  /** When the process exited ('exit' event). */
  exitedAt: number;
  timedOut: boolean;
}

export interface RunCliOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Written to stdin, which is then closed (stdin is always closed, so the CLI never waits on it). */
  stdin?: string;
  /** Kill the CLI (SIGKILL) after this long; default 20 s. */
  timeoutMs?: number;
  /** Called once the child is spawned, e.g. to send it a signal later. */
  onSpawn?: (child: ChildProcess) => void;
}

export function runCli(args: string[], options: RunCliOptions): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const spawnedAt = performance.now();
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
      cwd: options.cwd,
      env: options.env ?? cliEnv(),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const stdoutChunks: CliResult['stdoutChunks'] = [];
    const stderrChunks: string[] = [];
    let exitedAt: number | undefined;
    let timedOut = false;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (text: string) => stdoutChunks.push({ at: performance.now(), text }));
    child.stderr.on('data', (text: string) => stderrChunks.push(text));
    child.stdin.on('error', () => undefined); // the CLI may exit without reading stdin
    child.stdin.end(options.stdin ?? '');
    options.onSpawn?.(child);
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, options.timeoutMs ?? 20_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('exit', () => {
      exitedAt = performance.now();
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({
        code,
        signal,
        stdout: stdoutChunks.map((chunk) => chunk.text).join(''),
        stderr: stderrChunks.join(''),
        stdoutChunks,
        spawnedAt,
        ...(stdoutChunks[0] ? { firstStdoutAt: stdoutChunks[0].at } : {}),
        exitedAt: exitedAt ?? performance.now(),
        timedOut,
      });
    });
  });
}

/** For assertion messages: everything the CLI said. */
export function describeRun(result: CliResult): string {
  return `exit ${String(result.code)}${result.timedOut ? ' (killed: timeout)' : ''}\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`;
}

/** Text of a message's content: a string, or its text parts joined. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Array<{ text?: unknown }>).map((part) => (typeof part.text === 'string' ? part.text : '')).join('');
}

/** The system message of a logged request ('' when there is none). */
export function systemText(entry: Pick<FakeLogEntry, 'messages'>): string {
  return entry.messages
    .filter((message) => message.role === 'system')
    .map((message) => contentText(message.content))
    .join('\n');
}

/** True when a request carries the previous layer's answers (the synthesis instruction with references). */
export function hasReferences(entry: Pick<FakeLogEntry, 'messages'>): boolean {
  return /\[1\]\n/.test(systemText(entry));
}

/** The request's conversation (system message dropped) as role/text pairs. */
export function conversation(entry: Pick<FakeLogEntry, 'messages'>): Array<{ role: string; text: string }> {
  return entry.messages.filter((message) => message.role !== 'system').map((message) => ({ role: message.role, text: contentText(message.content) }));
}

/** `n` words: the first is `head`, the rest w1 w2 … (the fake server streams one word per chunk). */
export function words(head: string, n: number): string {
  return [head, ...Array.from({ length: n - 1 }, (_, index) => `w${index + 1}`)].join(' ');
}

/**
 * One test file's fixtures: a fake server, and a workspace whose moa.config.yaml
 * adds the `fake` provider (pointing at that server) to `config`.
 */
export function useCliSuite(config: Record<string, unknown>): { readonly server: FakeLLMServer; readonly workspace: Workspace } {
  const suite = {} as { server: FakeLLMServer; workspace: Workspace };
  beforeAll(async () => {
    assertCliBuilt();
    suite.server = await startFakeLLMServer();
    suite.workspace = makeWorkspace({ providers: fakeProvider(suite.server.url), ...config });
  });
  afterAll(async () => {
    await suite.server?.close();
    suite.workspace?.remove();
  });
  return suite;
}
