// `moa chat` on a real pseudo-terminal: the keys a person presses. Readline holds the terminal
// in raw mode, so Ctrl-C reaches the CLI as a key, never as a signal; these tests type it.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { FakeLogEntry } from '../support/fake-llm-server.js';
import { cliEnv, conversation, useCliSuite, words } from './run-cli.js';
import { runInTerminal, type TerminalSession } from './run-in-terminal.js';

const suite = useCliSuite({
  presets: { lite: { layers: 2, proposers: ['fake:a', 'fake:b'], aggregator: 'fake:agg', maxRetries: 0 } },
  defaultPreset: 'lite',
});

const PROMPT = /you › /;
const CTRL_C = '\x03';
const CTRL_D = '\x04';

function lastUser(request: { messages: FakeLogEntry['messages'] }): string {
  return (
    conversation(request)
      .filter((message) => message.role === 'user')
      .at(-1)?.text ?? ''
  );
}

/** Resolves once `condition` holds (checked every 10 ms); the message says what never happened. */
async function until(condition: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

let session: TerminalSession | undefined;
function chat(): TerminalSession {
  session = runInTerminal(['chat'], { cwd: suite.workspace.dir, env: cliEnv({ TERM: 'xterm-256color' }) });
  return session;
}

beforeEach(() => {
  suite.server.reset();
  suite.server.setBehavior('a', { text: (request) => `proposal A for ${lastUser(request)}` });
  suite.server.setBehavior('b', { text: (request) => `proposal B for ${lastUser(request)}` });
  suite.server.setBehavior('agg', { text: (request) => `ANSWER-TO(${lastUser(request)})` });
});
afterEach(async () => {
  await session?.close();
  session = undefined;
});

describe('moa chat on a terminal', () => {
  it('Ctrl-C during a turn cancels its calls and returns to the prompt; Ctrl-C at the empty prompt leaves with 130', async () => {
    suite.server.setBehavior('a', { hangTimes: 1, text: (request) => `proposal A for ${lastUser(request)}` });
    const terminal = chat();
    let at = await terminal.waitForOutput(PROMPT);
    terminal.type('first question\r');
    await until(() => suite.server.log.some((entry) => entry.model === 'a' && entry.outcome === 'pending'), 'the hanging proposer is called');
    terminal.type(CTRL_C);
    at = await terminal.waitForOutput(/turn cancelled; it was not added to the conversation/, at);
    at = await terminal.waitForOutput(PROMPT, at);
    await suite.server.waitForIdle();
    const firstTurn = suite.server.log.filter((entry) => lastUser(entry) === 'first question');
    expect(firstTurn.find((entry) => entry.model === 'a')?.outcome).toBe('aborted');
    expect(firstTurn.some((entry) => entry.model === 'agg')).toBe(false);

    // The chat goes on, without the cancelled turn in its history.
    terminal.type('second question\r');
    at = await terminal.waitForOutput(/ANSWER-TO\(second question\)/, at);
    await terminal.waitForOutput(PROMPT, at);
    const secondTurn = suite.server.log.filter((entry) => lastUser(entry) === 'second question');
    expect(secondTurn.map((entry) => entry.model).sort()).toEqual(['a', 'agg', 'b']);
    for (const entry of secondTurn) expect(conversation(entry)).toEqual([{ role: 'user', text: 'second question' }]);

    terminal.type(CTRL_C);
    expect(await terminal.exited).toBe(130);
  });

  it('Ctrl-C while the answer streams stops the aggregator mid-answer; Ctrl-D at the empty prompt leaves with 0', async () => {
    suite.server.setBehavior('agg', { text: words('STREAMING', 2_000), tokenDelayMs: 5 });
    const terminal = chat();
    let at = await terminal.waitForOutput(PROMPT);
    terminal.type('tell me a long story\r');
    at = await terminal.waitForOutput(/STREAMING w1 w2/, at);
    terminal.type(CTRL_C);
    at = await terminal.waitForOutput(/turn cancelled/, at);
    await terminal.waitForOutput(PROMPT, at);
    await suite.server.waitForIdle();
    const aggregator = suite.server.log.filter((entry) => entry.model === 'agg');
    expect(aggregator).toHaveLength(1);
    expect(aggregator[0]!.outcome).toBe('aborted');
    expect(terminal.output()).not.toContain('w1999');

    terminal.type(CTRL_D);
    expect(await terminal.exited).toBe(0);
  });

  it('Ctrl-C with text on the line drops the text and prompts again, sending nothing', async () => {
    const terminal = chat();
    let at = await terminal.waitForOutput(PROMPT);
    terminal.type('half a thought');
    at = await terminal.waitForOutput(/half a thought/, at);
    terminal.type(CTRL_C);
    at = await terminal.waitForOutput(/\^C/, at);
    await terminal.waitForOutput(PROMPT, at);
    terminal.type('/exit\r');
    expect(await terminal.exited).toBe(0);
    expect(suite.server.log).toHaveLength(0);
  });

  it('keeps what is typed while an answer is written and sends it as the next turn', async () => {
    suite.server.setBehavior('agg', {
      text: (request) => (lastUser(request) === 'first' ? words('FIRST-ANSWER', 60) : `ANSWER-TO(${lastUser(request)})`),
      tokenDelayMs: 10,
    });
    const terminal = chat();
    let at = await terminal.waitForOutput(PROMPT);
    terminal.type('first\r');
    at = await terminal.waitForOutput(/FIRST-ANSWER w1 /, at);
    terminal.type('typed ahead\r');
    at = await terminal.waitForOutput(/ANSWER-TO\(typed ahead\)/, at);
    await terminal.waitForOutput(PROMPT, at);
    const second = suite.server.log.filter((entry) => lastUser(entry) === 'typed ahead');
    expect(second).toHaveLength(3);
    expect(conversation(second.find((entry) => entry.model === 'agg')!).map((message) => message.role)).toEqual(['user', 'assistant', 'user']);
    terminal.type(CTRL_D);
    expect(await terminal.exited).toBe(0);
  });
});
