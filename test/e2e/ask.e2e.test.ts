// `moa ask` end to end: the built CLI against the fake OpenAI-compatible server.
// Layer concurrency, layer ordering, references and streaming are checked from the server's own log.
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FakeLogEntry } from '../support/fake-llm-server.js';
import { conversation, describeRun, hasReferences, runCli, systemText, useCliSuite, words, type CliResult } from './run-cli.js';

const suite = useCliSuite({
  presets: {
    deep: { layers: 3, proposers: ['fake:a', 'fake:b', 'fake:c'], aggregator: 'fake:agg' },
    lite: { layers: 2, proposers: ['fake:a', 'fake:b'], aggregator: 'fake:agg', maxRetries: 0 },
  },
});
beforeEach(() => suite.server.reset());

const maxOf = (values: number[]): number => Math.max(...values);
const minOf = (values: number[]): number => Math.min(...values);
const ended = (entry: FakeLogEntry): number => entry.endedAt ?? Number.POSITIVE_INFINITY;

/** Proposer `name` answers FIRST-DRAFT-<name> in layer 1 and SECOND-DRAFT-<name> once it sees references. */
function drafter(name: string, delayMs = 300) {
  return { delayMs, text: (request: { messages: FakeLogEntry['messages'] }) => `${hasReferences(request) ? 'SECOND' : 'FIRST'}-DRAFT-${name} about the question` };
}

describe('a 3-layer run (3 proposers per layer, streamed aggregator)', () => {
  const finalText = words('FINAL-ANSWER', 30);
  let run: CliResult;
  let log: FakeLogEntry[]; // copied: the outer beforeEach resets the server before every test
  let layer1: FakeLogEntry[];
  let layer2: FakeLogEntry[];
  let aggregator: FakeLogEntry;

  beforeAll(async () => {
    suite.server.reset();
    for (const name of ['a', 'b', 'c']) suite.server.setBehavior(name, drafter(name.toUpperCase()));
    suite.server.setBehavior('agg', { text: finalText, tokenDelayMs: 40 });
    run = await runCli(['ask', '--preset', 'deep', 'Why is the sky blue?'], { cwd: suite.workspace.dir });
    await suite.server.waitForIdle();
    log = [...suite.server.log];
    layer1 = log.filter((entry) => !hasReferences(entry));
    layer2 = log.filter((entry) => hasReferences(entry) && entry.model !== 'agg');
    aggregator = log.find((entry) => entry.model === 'agg')!;
  });

  it('exits 0 with the aggregator answer on stdout and progress on stderr', () => {
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.trim()).toBe(finalText);
    expect(run.stderr).toMatch(/layer 1\/3: 3 proposers started/);
    expect(run.stderr).toMatch(/aggregator: fake:agg started/);
    // request order: layer 1, then layer 2, then the aggregator
    expect(log.map((entry) => entry.model)).toHaveLength(7);
    expect(log.slice(0, 3).every((entry) => !hasReferences(entry))).toBe(true);
    expect(log.slice(3, 6).every((entry) => hasReferences(entry) && entry.model !== 'agg')).toBe(true);
    expect(log[6]?.model).toBe('agg');
    expect(log.every((entry) => entry.outcome === 'ok')).toBe(true);
  });

  it('runs the proposers of a layer concurrently', () => {
    expect(layer1.map((entry) => entry.model).sort()).toEqual(['a', 'b', 'c']);
    expect(layer2.map((entry) => entry.model).sort()).toEqual(['a', 'b', 'c']);
    for (const layer of [layer1, layer2]) {
      // every request of the layer had arrived before any of them was answered (each takes ~300 ms)
      expect(maxOf(layer.map((entry) => entry.startedAt))).toBeLessThan(minOf(layer.map(ended)));
    }
  });

  it('starts a layer only after the previous one completed', () => {
    const layer1End = maxOf(layer1.map(ended));
    for (const entry of layer2) expect(entry.startedAt).toBeGreaterThanOrEqual(layer1End);
    const layer2End = maxOf(layer2.map(ended));
    expect(aggregator.startedAt).toBeGreaterThanOrEqual(layer2End);
  });

  it('gives every later-layer request all the previous layer answers in its system message', () => {
    for (const entry of layer1) expect(systemText(entry)).toBe('');
    for (const entry of layer2) {
      for (const name of ['A', 'B', 'C']) expect(systemText(entry)).toContain(`FIRST-DRAFT-${name} about the question`);
    }
    const aggregatorSystem = systemText(aggregator);
    for (const name of ['A', 'B', 'C']) expect(aggregatorSystem).toContain(`SECOND-DRAFT-${name} about the question`);
    expect(aggregatorSystem).not.toContain('FIRST-DRAFT'); // references come from the layer just before
    for (const entry of log) expect(conversation(entry)).toEqual([{ role: 'user', text: 'Why is the sky blue?' }]);
  });

  it('streams the answer: the aggregator call streams, proposers do not, stdout starts well before exit', () => {
    expect(aggregator.stream).toBe(true);
    for (const entry of [...layer1, ...layer2]) expect(entry.stream).toBe(false);
    expect(run.firstStdoutAt).toBeDefined();
    // 30 tokens 40 ms apart: the first bytes reach us while the server is still sending
    expect(run.firstStdoutAt!).toBeLessThan(ended(aggregator));
    expect(run.exitedAt - run.firstStdoutAt!).toBeGreaterThanOrEqual(500);
    expect(run.stdoutChunks.length).toBeGreaterThan(5);
  });
});

describe('moa ask', () => {
  it('--json prints the whole result object', async () => {
    suite.server.setBehavior('a', { text: 'alpha answer' });
    suite.server.setBehavior('b', { alwaysFail: { status: 400, message: 'model b rejects this request' } });
    suite.server.setBehavior('agg', { text: 'the combined answer' });
    const run = await runCli(['ask', '--preset', 'lite', '--json', 'hello'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    const result = JSON.parse(run.stdout) as {
      text: string;
      status: string;
      preset: string;
      usage: { inputTokens: number; outputTokens: number };
      latencyMs: number;
      warnings: Array<{ code: string; message: string }>;
      layers: Array<{ aggregator: boolean; agents: Array<Record<string, unknown>> }>;
    };
    expect(result).toMatchObject({ text: 'the combined answer', status: 'done', preset: 'lite' });
    expect(result.latencyMs).toBeGreaterThan(0);
    expect(result.usage.outputTokens).toBe(2 + 3); // "alpha answer" + "the combined answer"
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(result.layers.map((layer) => layer.aggregator)).toEqual([false, true]);
    const [alpha, beta] = result.layers[0]!.agents;
    expect(alpha).toMatchObject({ model: 'fake:a', status: 'done', text: 'alpha answer', attempts: 1, usage: { outputTokens: 2 } });
    expect(alpha!.latencyMs).toEqual(expect.any(Number));
    expect(beta).toMatchObject({ model: 'fake:b', status: 'failed', attempts: 1 });
    expect((beta!.error as { message: string }).message).toContain('model b rejects this request');
    expect(beta!.usage).toEqual({ inputTokens: 0, outputTokens: 0 });
    expect(beta!.latencyMs).toEqual(expect.any(Number));
    expect(result.layers[1]!.agents[0]).toMatchObject({ model: 'fake:agg', status: 'done', text: 'the combined answer', attempts: 1 });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings[0]!.message).toContain('model b rejects this request');
    // --json waits for the whole answer: nothing streams
    expect(suite.server.log.find((entry) => entry.model === 'agg')?.stream).toBe(false);
  });

  it('reads the prompt from stdin when none is given', async () => {
    suite.server.setBehavior('agg', { text: 'stdin answer' });
    const run = await runCli(['ask', '--preset', 'lite'], { cwd: suite.workspace.dir, stdin: 'what is on stdin?\n' });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.trim()).toBe('stdin answer');
    expect(suite.server.log).toHaveLength(3);
    for (const entry of suite.server.log) expect(conversation(entry)).toEqual([{ role: 'user', text: 'what is on stdin?' }]);
  });

  it('"moa ask -" reads the prompt from stdin instead of sending "-"; a "-" among other words stays a word', async () => {
    const dash = await runCli(['ask', '--preset', 'lite', '-'], { cwd: suite.workspace.dir, stdin: 'the question on stdin\n' });
    expect(dash.code, describeRun(dash)).toBe(0);
    expect(suite.server.log).toHaveLength(3);
    for (const entry of suite.server.log) expect(conversation(entry)).toEqual([{ role: 'user', text: 'the question on stdin' }]);

    suite.server.reset();
    const words = await runCli(['ask', '--preset', 'lite', 'what', 'is', '5', '-', '3'], { cwd: suite.workspace.dir, stdin: 'not this\n' });
    expect(words.code, describeRun(words)).toBe(0);
    for (const entry of suite.server.log) expect(conversation(entry)).toEqual([{ role: 'user', text: 'what is 5 - 3' }]);

    const empty = await runCli(['ask', '--preset', 'lite', '-'], { cwd: suite.workspace.dir, stdin: '' });
    expect(empty.code, describeRun(empty)).toBe(2);
    expect(empty.stderr).toContain('No prompt');
  });

  it('runs the quick flags --proposers/--aggregator/--layers without a preset', async () => {
    suite.server.setBehavior('a', { text: 'quick A' });
    suite.server.setBehavior('b', { text: 'quick B' });
    suite.server.setBehavior('c', { text: 'quick final from c' });
    const run = await runCli(['ask', '--proposers', 'fake:a,fake:b', '--aggregator', 'fake:c', '--layers', '2', 'quick question'], {
      cwd: suite.workspace.dir,
    });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.trim()).toBe('quick final from c');
    expect(
      suite.server.log
        .map((entry) => entry.model)
        .slice(0, 2)
        .sort(),
    ).toEqual(['a', 'b']);
    const final = suite.server.log[2]!;
    expect(final).toMatchObject({ model: 'c', stream: true });
    expect(systemText(final)).toContain('quick A');
    expect(systemText(final)).toContain('quick B');
    expect(suite.server.log).toHaveLength(3);
  });
});
