// The package as others get it: `npm pack`, then the installed `moa` command and
// `import … from 'moa-engine'` in another project, as the README tells.
//
// The tarball is installed the way npm lays it out (<prefix>/lib/node_modules/moa-engine, a
// <prefix>/bin/moa link to its bin), with its runtime dependencies — and only them, as
// `npm install --omit=dev --omit=optional` leaves it: no node-llama-cpp, no test tools — linked to this
// repository's node_modules instead of installed: an offline `npm install` of the tarball needs every
// dependency's registry metadata in the npm cache, which a fresh machine does not have (and a
// real install takes minutes). What packing can break is all still checked: the files list, the
// bin entry and its shebang, the exports map, the package.json the CLI reads at run time.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { assertCliBuilt, cliEnv } from './run-cli.js';

const repository = fileURLToPath(new URL('../..', import.meta.url));
const packageJson = JSON.parse(readFileSync(join(repository, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  bin: Record<string, string>;
  dependencies: Record<string, string>;
  optionalDependencies?: Record<string, string>;
};

let work: string;
let tarball: string;
let files: string[];
let installed: string;
let prefix: string;
let server: FakeLLMServer;

/** Runs a command to its end (asynchronously: the fake LLM server lives in this process). */
function run(
  command: string,
  args: string[],
  options: { cwd: string; env?: Record<string, string> },
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env ?? { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (text: string) => (stdout += text));
    child.stderr.setEncoding('utf8').on('data', (text: string) => (stderr += text));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  assertCliBuilt();
  server = await startFakeLLMServer();
  work = mkdtempSync(join(tmpdir(), 'moa-package-'));
  const packed = await run('npm', ['pack', '--json', '--pack-destination', work], { cwd: repository });
  expect(packed.status, packed.stderr).toBe(0);
  const [report] = JSON.parse(packed.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
  tarball = join(work, report!.filename);
  files = report!.files.map((file) => file.path);

  // npm install -g --prefix <prefix> ./moa-engine-<version>.tgz, laid out by hand (see above).
  prefix = join(work, 'prefix');
  installed = join(prefix, 'lib', 'node_modules', packageJson.name);
  mkdirSync(installed, { recursive: true });
  const extracted = await run('tar', ['-xzf', tarball, '-C', installed, '--strip-components=1'], { cwd: work });
  expect(extracted.status, extracted.stderr).toBe(0);
  // The runtime dependencies only (their own dependencies resolve from where the links point).
  for (const name of Object.keys(packageJson.dependencies)) {
    const link = join(installed, 'node_modules', name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(realpathSync(join(repository, 'node_modules', name)), link, 'dir');
  }
  mkdirSync(join(prefix, 'bin'));
  const binTarget = packageJson.bin['moa']!;
  chmodSync(join(installed, binTarget), 0o755); // npm makes a bin's target executable when it installs it
  symlinkSync(join('..', 'lib', 'node_modules', packageJson.name, binTarget), join(prefix, 'bin', 'moa'));
}, 120_000);

afterAll(async () => {
  await server?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('the packed package', () => {
  it(`is ${packageJson.name}-${packageJson.version}.tgz with the build, README and docs, and no sources or tests`, () => {
    expect(tarball.endsWith(`${packageJson.name}-${packageJson.version}.tgz`)).toBe(true);
    for (const needed of ['package.json', 'README.md', 'docs/local-models.md', 'dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js']) expect(files).toContain(needed);
    expect(files.filter((path) => /^(src|test|bench|scripts)\//.test(path) || path.endsWith('.test.js'))).toEqual([]);
  });

  it('is what the README tells to install and import', () => {
    const readme = readFileSync(join(repository, 'README.md'), 'utf8');
    const tarballName = `${packageJson.name}-${packageJson.version}.tgz`;
    expect(readme).toContain(`npm install -g ./${tarballName}`);
    expect(readme).toContain(`npm install /path/to/${tarballName}`);
    expect(readme).toContain(`import { runMoA } from '${packageJson.name}'`);
    // `npx moa` outside the checkout runs the registry's unrelated "moa" package.
    expect(readme).not.toMatch(/^npx moa /m);
  });

  it('installed, `moa --help` and `moa --version` run from <prefix>/bin', async () => {
    const env = cliEnv({ PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:${process.env.PATH ?? ''}` });
    const help = await run('moa', ['--help'], { cwd: work, env });
    expect(help.status, help.stderr).toBe(0);
    for (const command of ['ask', 'chat', 'presets', 'replay', 'serve', 'batch', 'pull']) expect(help.stdout).toMatch(new RegExp(`^ {2}${command}\\b`, 'm'));
    const version = await run('moa', ['--version'], { cwd: work, env });
    expect(version.stdout.trim()).toBe(packageJson.version);
  });

  it("another project imports { runMoA } from 'moa-engine' and gets an answer", async () => {
    server.setBehavior('p1', { text: 'first view' });
    server.setBehavior('p2', { text: 'second view' });
    server.setBehavior('agg', { text: 'the library answer' });
    const project = join(work, 'your-project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'your-project', private: true, type: 'module' }));
    symlinkSync(installed, join(project, 'node_modules', packageJson.name), 'dir');
    writeFileSync(
      join(project, 'index.js'),
      `import { runMoA } from 'moa-engine';
const result = await runMoA(
  { layers: 2, proposers: ['fake:p1', 'fake:p2'], aggregator: 'fake:agg' },
  'What is MoA?',
  { providers: { fake: { type: 'openai-compatible', baseURL: ${JSON.stringify(server.url)}, apiKeyEnv: 'FAKE_KEY' } }, env: { FAKE_KEY: 'sk-test' } },
);
console.log(JSON.stringify({ text: result.text, proposers: result.layers[0].agents.map((agent) => agent.status) }));
`,
    );
    const answer = await run(process.execPath, ['index.js'], { cwd: project });
    expect(answer.status, answer.stderr).toBe(0);
    expect(JSON.parse(answer.stdout)).toEqual({ text: 'the library answer', proposers: ['done', 'done'] });
    expect(server.log.map((entry) => entry.model).sort()).toEqual(['agg', 'p1', 'p2']);
  });

  it('every subpath export loads from another project; the root loads no server, database or native module', async () => {
    const project = join(work, 'your-project');
    mkdirSync(join(project, 'node_modules'), { recursive: true });
    if (!existsSync(join(project, 'node_modules', packageJson.name))) symlinkSync(installed, join(project, 'node_modules', packageJson.name), 'dir');
    writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'your-project', private: true, type: 'module' }));
    writeFileSync(
      join(project, 'subpaths.js'),
      `import { createRequire } from 'node:module';
const root = await import('moa-engine');
const loadedAfterRoot = Object.keys(createRequire(import.meta.url).cache ?? {});
const subpaths = {};
for (const [name, wanted] of [['node', 'loadConfig'], ['server', 'startServer'], ['batch', 'runBatch'], ['eval', 'judgeMtBench'], ['local', 'pullModel'], ['provider', 'createMoA']]) {
  subpaths[name] = typeof (await import('moa-engine/' + name))[wanted];
}
console.log(JSON.stringify({ root: typeof root.streamMoA, runBatchInRoot: 'runBatch' in root, loadedAfterRoot, subpaths }));
`,
    );
    const loaded = await run(process.execPath, ['subpaths.js'], { cwd: project });
    expect(loaded.status, loaded.stderr).toBe(0);
    const report = JSON.parse(loaded.stdout) as { root: string; runBatchInRoot: boolean; loadedAfterRoot: string[]; subpaths: Record<string, string> };
    expect(report.root).toBe('function');
    expect(report.runBatchInRoot).toBe(false);
    // better-sqlite3 is CommonJS: had the root loaded it, it would sit in the require cache.
    expect(report.loadedAfterRoot.filter((path) => /better-sqlite3|node-llama-cpp/.test(path))).toEqual([]);
    expect(report.subpaths).toEqual({ node: 'function', server: 'function', batch: 'function', eval: 'function', local: 'function', provider: 'function' });
  });

  it('works without the optional node-llama-cpp, and a local model then says how to add it (exit 2)', async () => {
    expect(Object.keys(packageJson.optionalDependencies ?? {})).toContain('node-llama-cpp');
    expect(Object.keys(packageJson.dependencies)).not.toContain('node-llama-cpp');
    const model = join(work, 'tiny.gguf');
    writeFileSync(model, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(60)]));
    const env = cliEnv({ PATH: `${join(prefix, 'bin')}:${dirname(process.execPath)}:${process.env.PATH ?? ''}` });
    const local = await run('moa', ['ask', '--aggregator', `local:${model}`, 'hi'], { cwd: work, env });
    expect(local.status, local.stderr).toBe(2);
    expect(local.stderr).toContain('need node-llama-cpp, which is not installed: run "npm install node-llama-cpp@3.21.1"');
  });
});
