// The API key is sent to the provider and never shown: not on stdout, stderr, in --json output or in a
// trace, even when the provider's error message echoes it back.
import { beforeEach, describe, expect, it } from 'vitest';
import { describeRun, makeWorkspace, runCli, SECRET, useCliSuite, type CliResult } from './run-cli.js';

const ECHO = `Incorrect API key provided: ${SECRET}. You can find your API key in your account settings.`;

const suite = useCliSuite({
  presets: { trio: { layers: 2, proposers: ['fake:a', 'fake:b', 'fake:c'], aggregator: 'fake:agg', maxRetries: 0 } },
  defaultPreset: 'trio',
});
beforeEach(() => {
  suite.server.reset();
  suite.server.setBehavior('a', { text: 'answer from a' });
  suite.server.setBehavior('b', { text: 'answer from b' });
  suite.server.setBehavior('c', { text: 'answer from c' });
  suite.server.setBehavior('agg', { text: 'the final answer', tokenDelayMs: 2 });
});

function expectNoSecret(where: string, text: string): void {
  expect(text, `${where} leaks the API key`).not.toContain(SECRET);
  expect(text, `${where} leaks part of the API key`).not.toContain('SECRET-1234567890');
}

function expectRunHidesSecret(run: CliResult): void {
  expectNoSecret('stdout', run.stdout);
  expectNoSecret('stderr', run.stderr);
}

function expectKeyWasSent(): void {
  expect(suite.server.log.length).toBeGreaterThan(0);
  for (const entry of suite.server.log) expect(entry.authorization).toBe(`Bearer ${SECRET}`);
}

describe('API keys never reach the output', () => {
  it('--json and --trace of a successful run hold no key', async () => {
    const trace = suite.workspace.path('ok.jsonl');
    const run = await runCli(['ask', '--json', '--trace', trace, 'hello'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ text: 'the final answer' });
    expectRunHidesSecret(run);
    expectNoSecret('the trace', suite.workspace.read('ok.jsonl'));
    expectKeyWasSent();
  });

  it('a provider error that echoes the key is redacted in stderr, --json and the trace', async () => {
    suite.server.setBehavior('b', { alwaysFail: { status: 401, message: ECHO } });
    const trace = suite.workspace.path('echo.jsonl');
    const json = await runCli(['ask', '--json', '--trace', trace, 'hello'], { cwd: suite.workspace.dir });
    expect(json.code, describeRun(json)).toBe(0);
    const result = JSON.parse(json.stdout) as { layers: Array<{ agents: Array<{ error?: { message: string } }> }>; warnings: Array<{ message: string }> };
    // the provider's message is kept, with the key masked
    expect(result.layers[0]!.agents[1]!.error!.message).toContain('Incorrect API key provided: [redacted]');
    expect(result.warnings[0]!.message).toContain('Incorrect API key provided');
    expectRunHidesSecret(json);
    const traceText = suite.workspace.read('echo.jsonl');
    expect(traceText).toContain('Incorrect API key provided');
    expectNoSecret('the trace', traceText);

    // the same failure with live progress and the streamed answer
    const streamed = await runCli(['ask', '--trace', suite.workspace.path('echo-streamed.jsonl'), 'hello'], { cwd: suite.workspace.dir });
    expect(streamed.code, describeRun(streamed)).toBe(0);
    expect(streamed.stdout.trim()).toBe('the final answer');
    expect(streamed.stderr).toMatch(/warning: .*Incorrect API key provided/);
    expectRunHidesSecret(streamed);
    expectNoSecret('the streamed trace', suite.workspace.read('echo-streamed.jsonl'));

    // and replaying the trace shows the message without the key
    const replay = await runCli(['replay', trace], { cwd: suite.workspace.dir });
    expect(replay.code, describeRun(replay)).toBe(0);
    expect(replay.stdout).toContain('Incorrect API key provided');
    expectRunHidesSecret(replay);
    expectKeyWasSent();
  });

  it('a failed run whose every error echoes the key exits 1 without showing it', async () => {
    for (const name of ['a', 'b', 'c']) suite.server.setBehavior(name, { alwaysFail: { status: 401, message: ECHO } });
    const trace = suite.workspace.path('failed.jsonl');
    const run = await runCli(['ask', '--trace', trace, 'hello'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(1);
    expect(run.stderr).toMatch(/moa: error: .*Incorrect API key provided: \[redacted\]/);
    expectRunHidesSecret(run);
    expectNoSecret('the trace', suite.workspace.read('failed.jsonl'));

    const json = await runCli(['ask', '--json', 'hello'], { cwd: suite.workspace.dir });
    expect(json.code, describeRun(json)).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ status: 'failed', error: { message: expect.stringContaining('Incorrect API key provided') } });
    expectRunHidesSecret(json);
    expectKeyWasSent();
  });

  it('a key pasted into the config as apiKeyEnv is not echoed by the config error', async () => {
    const pasted = makeWorkspace({
      providers: { fake: { type: 'openai-compatible', baseURL: suite.server.url, apiKeyEnv: SECRET } },
      presets: { quick: { layers: 2, proposers: ['fake:a'], aggregator: 'fake:agg' } },
    });
    try {
      const run = await runCli(['ask', '--preset', 'quick', 'hello'], { cwd: pasted.dir });
      expect(run.code, describeRun(run)).toBe(2);
      expect(run.stderr).toContain('providers.fake.apiKeyEnv');
      expect(run.stderr).toContain('not the key itself');
      expectRunHidesSecret(run);
      expect(suite.server.log).toHaveLength(0);
    } finally {
      pasted.remove();
    }
  });
});
