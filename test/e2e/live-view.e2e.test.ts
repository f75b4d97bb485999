// The live view of `moa ask` on a real pseudo-terminal: how it ends, and what TERM=dumb gets.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, useCliSuite } from './run-cli.js';
import { runInTerminal, type TerminalOptions, type TerminalSession } from './run-in-terminal.js';

const suite = useCliSuite({
  presets: { lite: { layers: 2, proposers: ['fake:a', 'fake:b'], aggregator: 'fake:agg', maxRetries: 0 } },
  defaultPreset: 'lite',
});

/** Cursor movement and erasing: up/down/forward/back, column, erase in display/line. */
const CURSOR_CODES = /\x1b\[\d*[ABCDGJK]/;
const ERASE_BELOW = '\x1b[0J';

/** What stays on the screen for good: everything after the live block's last in-place redraw. */
function afterLastRedraw(text: string): string {
  const redraw = text.lastIndexOf(ERASE_BELOW);
  return redraw < 0 ? text : text.slice(redraw + ERASE_BELOW.length);
}

let session: TerminalSession | undefined;
async function ask(
  prompt: string,
  options: Partial<Omit<TerminalOptions, 'env'>> & { env?: Record<string, string | undefined> } = {},
): Promise<{ code: number | null; screen: string }> {
  const { env, ...rest } = options;
  session = runInTerminal(['ask', prompt], { cwd: suite.workspace.dir, ...rest, env: cliEnv({ TERM: 'xterm-256color', ...env }) });
  const code = await session.exited;
  return { code, screen: session.output() };
}

beforeEach(() => {
  suite.server.reset();
  suite.server.setBehavior('a', { text: 'proposal A' });
  suite.server.setBehavior('b', { text: 'proposal B' });
  suite.server.setBehavior('agg', { text: 'THE FINAL ANSWER streams word by word', tokenDelayMs: 20 });
});
afterEach(async () => {
  await session?.close();
  session = undefined;
});

describe('the live view on a terminal', () => {
  it('ends with the aggregator done below the answer, never a frozen "streaming"', async () => {
    const { code, screen } = await ask('a question');
    expect(code, screen).toBe(0);
    const kept = afterLastRedraw(screen);
    expect(kept).toMatch(/layer 1\/2\r\n {2}✓ fake:a .*\r\n {2}✓ fake:b /);
    expect(kept).toMatch(/THE FINAL ANSWER streams word by word\r\naggregator\r\n {2}✓ fake:agg +\d+ ms · 7 tok\r\n/);
    expect(kept).not.toMatch(/streaming|running|waiting/);
  });

  it('ends with the aggregator failed when it fails', async () => {
    suite.server.setBehavior('agg', { alwaysFail: { status: 400, message: 'the aggregator refuses' } });
    const { code, screen } = await ask('a question');
    expect(code, screen).toBe(1);
    expect(afterLastRedraw(screen)).toMatch(/aggregator\r\n {2}✗ fake:agg .*the aggregator refuses/);
  });

  it('keeps redrawing to the end when the answer goes to a file instead of the screen', async () => {
    const answerFile = suite.workspace.path('answer.txt');
    const { code, screen } = await ask('a question', { stdoutFile: answerFile });
    expect(code, screen).toBe(0);
    expect(suite.workspace.read('answer.txt')).toBe('THE FINAL ANSWER streams word by word\n');
    expect(screen).not.toContain('THE FINAL ANSWER');
    const lastFrame = afterLastRedraw(screen);
    expect(lastFrame).toMatch(/aggregator\r\n {2}✓ fake:agg /);
    expect(lastFrame).not.toMatch(/streaming|running|waiting/);
  });

  it('TERM=dumb gets plain progress lines: no cursor movement, no colour under NO_COLOR', async () => {
    const { code, screen } = await ask('a question', { env: { TERM: 'dumb' } });
    expect(code, screen).toBe(0);
    expect(screen).not.toMatch(CURSOR_CODES);
    expect(screen).not.toContain('\x1b[');
    expect(screen).toContain('moa: layer 1/2: 2 proposers started\r\n');
    expect(screen).toContain('moa: aggregator: fake:agg started\r\n');
    expect(screen).toContain('THE FINAL ANSWER streams word by word\r\n');
  });

  it('TERM=dumb with FORCE_COLOR=1 gets colours, still no cursor movement', async () => {
    suite.server.setBehavior('b', { alwaysFail: { status: 400, message: 'b is down' } });
    const { code, screen } = await ask('a question', { env: { TERM: 'dumb', NO_COLOR: undefined, FORCE_COLOR: '1' } });
    expect(code, screen).toBe(0);
    expect(screen).not.toMatch(CURSOR_CODES);
    expect(screen).toMatch(/\x1b\[33mmoa: warning: .*b is down/); // the warning in yellow
  });
});
