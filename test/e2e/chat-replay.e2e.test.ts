// `moa chat` with piped stdin (history kept across turns, /reset) and `moa replay` of a `--trace` file.
import { beforeEach, describe, expect, it } from 'vitest';
import type { FakeLogEntry } from '../support/fake-llm-server.js';
import { conversation, describeRun, runCli, useCliSuite } from './run-cli.js';

const suite = useCliSuite({
  presets: { lite: { layers: 2, proposers: ['fake:a', 'fake:b'], aggregator: 'fake:agg', maxRetries: 0 } },
  defaultPreset: 'lite',
});

/** The last user message of a request. */
function lastUser(request: { messages: FakeLogEntry['messages'] }): string {
  return (
    conversation(request)
      .filter((message) => message.role === 'user')
      .at(-1)?.text ?? ''
  );
}

beforeEach(() => {
  suite.server.reset();
  suite.server.setBehavior('a', { text: (request) => `proposal A for ${lastUser(request)}` });
  suite.server.setBehavior('b', { text: (request) => `proposal B for ${lastUser(request)}` });
  suite.server.setBehavior('agg', { text: (request) => `ANSWER-TO(${lastUser(request)})`, tokenDelayMs: 2 });
});

describe('moa chat (piped stdin: one turn per line)', () => {
  it('answers each line and keeps the conversation history', async () => {
    const run = await runCli(['chat'], { cwd: suite.workspace.dir, stdin: 'first question\nsecond question\n' });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.split('\n').filter(Boolean)).toEqual(['ANSWER-TO(first question)', 'ANSWER-TO(second question)']);
    expect(suite.server.log).toHaveLength(6);
    const turn1 = suite.server.log.filter((entry) => lastUser(entry) === 'first question');
    const turn2 = suite.server.log.filter((entry) => lastUser(entry) === 'second question');
    expect(turn1).toHaveLength(3);
    expect(turn2).toHaveLength(3);
    for (const entry of turn1) expect(conversation(entry)).toEqual([{ role: 'user', text: 'first question' }]);
    for (const entry of turn2) {
      expect(conversation(entry)).toEqual([
        { role: 'user', text: 'first question' },
        { role: 'assistant', text: 'ANSWER-TO(first question)' },
        { role: 'user', text: 'second question' },
      ]);
    }
    // the second turn started after the first one was over
    expect(Math.min(...turn2.map((entry) => entry.startedAt))).toBeGreaterThanOrEqual(Math.max(...turn1.map((entry) => entry.endedAt!)));
  });

  it('/reset forgets the conversation', async () => {
    const run = await runCli(['chat'], { cwd: suite.workspace.dir, stdin: 'first question\n/reset\nsecond question\n' });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stderr).toContain('(conversation cleared)');
    expect(run.stdout.split('\n').filter(Boolean)).toEqual(['ANSWER-TO(first question)', 'ANSWER-TO(second question)']);
    const turn2 = suite.server.log.filter((entry) => lastUser(entry) === 'second question');
    expect(turn2).toHaveLength(3);
    for (const entry of turn2) expect(conversation(entry)).toEqual([{ role: 'user', text: 'second question' }]);
  });

  it('exits 1 when a turn fails, and leaves the failed turn out of the history', async () => {
    suite.server.setBehavior('agg', { failures: [{ status: 400, message: 'aggregator refuses turn one' }], text: (request) => `ANSWER-TO(${lastUser(request)})` });
    const run = await runCli(['chat'], { cwd: suite.workspace.dir, stdin: 'first question\nsecond question\n' });
    expect(run.code, describeRun(run)).toBe(1);
    expect(run.stderr).toContain('aggregator refuses turn one');
    expect(run.stdout.split('\n').filter(Boolean)).toEqual(['ANSWER-TO(second question)']);
    const turn2 = suite.server.log.filter((entry) => lastUser(entry) === 'second question');
    for (const entry of turn2) expect(conversation(entry)).toEqual([{ role: 'user', text: 'second question' }]);
  });
  it('SIGINT during a turn ends the chat with 130: the calls are cancelled and the next lines never sent', async () => {
    suite.server.setBehavior('a', { hang: true });
    const run = await runCli(['chat'], {
      cwd: suite.workspace.dir,
      stdin: 'first question\nsecond question\n',
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (!suite.server.log.some((entry) => entry.model === 'a')) return;
          clearInterval(poll);
          child.kill('SIGINT');
        }, 10);
        child.on('exit', () => clearInterval(poll));
      },
    });
    await suite.server.waitForIdle();
    expect(run.code, describeRun(run)).toBe(130);
    expect(suite.server.log.find((entry) => entry.model === 'a')?.outcome).toBe('aborted');
    expect(suite.server.log.some((entry) => lastUser(entry) === 'second question')).toBe(false);
  });
});

describe('moa replay', () => {
  it('replays a --trace file to the same result object that --json printed', async () => {
    const trace = suite.workspace.path('json-run.jsonl');
    suite.server.setBehavior('b', { alwaysFail: { status: 400, message: 'b is unavailable' } });
    const run = await runCli(['ask', '--json', '--trace', trace, 'trace me'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    const printed: unknown = JSON.parse(run.stdout);
    expect(printed).toMatchObject({ text: 'ANSWER-TO(trace me)', status: 'done' });

    const replayed = await runCli(['replay', trace, '--json'], { cwd: suite.workspace.dir });
    expect(replayed.code, describeRun(replayed)).toBe(0);
    expect(JSON.parse(replayed.stdout)).toEqual(JSON.parse(JSON.stringify(printed)));

    const rendered = await runCli(['replay', trace], { cwd: suite.workspace.dir });
    expect(rendered.code, describeRun(rendered)).toBe(0);
    expect(rendered.stdout).toMatch(/Answer\nANSWER-TO\(trace me\)\n/);
    expect(rendered.stdout).toContain('trace me'); // the prompt
    expect(rendered.stdout).toContain('fake:a');
    expect(rendered.stdout).toContain('proposal A for trace me');
    expect(rendered.stdout).toMatch(/fake:b .*b is unavailable/);
    expect(rendered.stdout).toContain('warning:');
    expect(suite.server.log).toHaveLength(3); // replay makes no calls
  });

  it('replays a streamed run (the answer arrived as deltas) to the streamed answer', async () => {
    const trace = suite.workspace.path('streamed-run.jsonl');
    const run = await runCli(['ask', '--trace', trace, 'stream me'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.trim()).toBe('ANSWER-TO(stream me)');
    const events = suite.workspace
      .read('streamed-run.jsonl')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string });
    expect(events[0]!.type).toBe('run-start');
    expect(events.at(-1)!.type).toBe('run-end');
    expect(events.filter((event) => event.type === 'agent-delta').length).toBeGreaterThan(1);
    const replayed = await runCli(['replay', trace, '--json'], { cwd: suite.workspace.dir });
    expect(replayed.code, describeRun(replayed)).toBe(0);
    expect(JSON.parse(replayed.stdout)).toMatchObject({ status: 'done', text: 'ANSWER-TO(stream me)', stream: 'final' });
  });

  it('replays a failed run with exit 1', async () => {
    const trace = suite.workspace.path('failed-run.jsonl');
    suite.server.setBehavior('agg', { alwaysFail: { status: 400, message: 'aggregator is down' } });
    const run = await runCli(['ask', '--trace', trace, 'fail me'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(1);
    expect(run.stderr).toContain(`the trace of what was produced is in ${trace}`);
    const rendered = await runCli(['replay', trace], { cwd: suite.workspace.dir });
    expect(rendered.code, describeRun(rendered)).toBe(1);
    expect(rendered.stdout).toMatch(/The run failed: .*aggregator is down/);
  });
});
