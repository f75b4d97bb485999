// Failures end to end: a failing proposer, every proposer failing, hung proposers cut by the
// per-call timeout and by the straggler policy, and a 429 honoured through Retry-After.
import { beforeEach, describe, expect, it } from 'vitest';
import { performance } from 'node:perf_hooks';
import { describeRun, hasReferences, runCli, systemText, useCliSuite } from './run-cli.js';

const suite = useCliSuite({
  presets: {
    trio: { layers: 2, proposers: ['fake:a', 'fake:b', 'fake:c'], aggregator: 'fake:agg', maxRetries: 0 },
    retrying: { layers: 2, proposers: ['fake:a', 'fake:b'], aggregator: 'fake:agg' },
    quorum: {
      layers: [{ proposers: ['fake:a', 'fake:b', 'fake:stuck'], quorum: 2, graceMs: 100 }],
      aggregator: 'fake:agg',
    },
  },
  defaultPreset: 'trio',
});
beforeEach(() => {
  suite.server.reset();
  suite.server.setBehavior('a', { delayMs: 20, text: 'answer from a' });
  suite.server.setBehavior('b', { delayMs: 20, text: 'answer from b' });
  suite.server.setBehavior('c', { delayMs: 20, text: 'answer from c' });
  suite.server.setBehavior('agg', { text: 'FINAL aggregated answer' });
});

describe('moa ask when providers fail', () => {
  it('leaves a failing proposer out with a warning and still answers', async () => {
    suite.server.setBehavior('b', { alwaysFail: { status: 500, message: 'internal meltdown on model b' } });
    const run = await runCli(['ask', 'a question'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.trim()).toBe('FINAL aggregated answer');
    expect(run.stderr).toMatch(/warning: .*internal meltdown on model b/);
    expect(run.stderr).toContain('2/3 succeeded, 1 failed');
    const aggregator = suite.server.log.find((entry) => entry.model === 'agg')!;
    expect(systemText(aggregator)).toContain('answer from a');
    expect(systemText(aggregator)).toContain('answer from c');
    expect(systemText(aggregator)).not.toContain('meltdown');
    expect(suite.server.log.filter((entry) => entry.model === 'b')).toHaveLength(1); // maxRetries: 0
  });

  it("exits 1 with the provider's own message when every proposer fails", async () => {
    for (const name of ['a', 'b', 'c']) {
      suite.server.setBehavior(name, { alwaysFail: { status: 429, message: `quota exhausted for model ${name}` } });
    }
    const run = await runCli(['ask', 'a question'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/moa: error: .*only 0 of 3 agents succeeded in layer 1/);
    for (const name of ['a', 'b', 'c']) expect(run.stderr).toContain(`quota exhausted for model ${name}`);
    expect(suite.server.log.some((entry) => entry.model === 'agg')).toBe(false);
  });

  it('cuts a hung proposer at --timeout and answers without it', async () => {
    suite.server.setBehavior('c', { hang: true });
    const run = await runCli(['ask', '--timeout', '300', '--max-retries', '0', 'a question'], { cwd: suite.workspace.dir });
    await suite.server.waitForIdle();
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.trim()).toBe('FINAL aggregated answer');
    expect(run.stderr).toMatch(/warning: .*fake:c: no complete answer within 300 ms/);
    const hung = suite.server.log.filter((entry) => entry.model === 'c');
    expect(hung).toHaveLength(1);
    expect(hung[0]!.outcome).toBe('aborted');
    // the 300 ms clock starts in the CLI before the request is even sent, so measure from the spawn
    expect(hung[0]!.endedAt! - run.spawnedAt).toBeGreaterThanOrEqual(300);
    const aggregator = suite.server.log.find((entry) => entry.model === 'agg')!;
    expect(aggregator.startedAt).toBeGreaterThanOrEqual(hung[0]!.endedAt! - 50);
    expect(aggregator.outcome).toBe('ok');
  });

  it('cuts a hung proposer by the straggler policy (quorum 2, 100 ms grace)', async () => {
    suite.server.setBehavior('stuck', { hang: true });
    const run = await runCli(['ask', '--preset', 'quorum', 'a question'], { cwd: suite.workspace.dir });
    await suite.server.waitForIdle();
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.trim()).toBe('FINAL aggregated answer');
    expect(run.stderr).toMatch(/warning: layer 1: fake:stuck was cut after 100 ms of grace \(quorum of 2 reached\)/);
    expect(run.stderr).toContain('2/3 succeeded, 1 cut');
    const stuck = suite.server.log.filter((entry) => entry.model === 'stuck');
    expect(stuck).toHaveLength(1);
    expect(stuck[0]!.outcome).toBe('aborted');
    const answered = suite.server.log.filter((entry) => entry.model === 'a' || entry.model === 'b');
    const quorumAt = Math.max(...answered.map((entry) => entry.endedAt!));
    // cut after the grace period (not by a timeout: the run would still be waiting, 600 s by default)
    expect(stuck[0]!.endedAt! - quorumAt).toBeGreaterThanOrEqual(80);
    const aggregator = suite.server.log.find((entry) => entry.model === 'agg')!;
    expect(hasReferences(aggregator)).toBe(true);
    expect(systemText(aggregator)).toContain('answer from a');
    expect(systemText(aggregator)).toContain('answer from b');
  });

  it('retries a 429 after the Retry-After the provider asked for', async () => {
    suite.server.setBehavior('a', { delayMs: 20, text: 'answer from a', failures: [{ status: 429, retryAfter: 1, message: 'slow down please' }] });
    const run = await runCli(['ask', '--preset', 'retrying', 'a question'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.trim()).toBe('FINAL aggregated answer');
    expect(run.stderr).toMatch(/slow down please; retrying in 1\.0 s/);
    const calls = suite.server.log.filter((entry) => entry.model === 'a');
    expect(calls.map((entry) => [entry.status, entry.outcome])).toEqual([
      [429, 'failed'],
      [200, 'ok'],
    ]);
    expect(calls[1]!.startedAt - calls[0]!.endedAt!).toBeGreaterThanOrEqual(950);
    expect(systemText(suite.server.log.find((entry) => entry.model === 'agg')!)).toContain('answer from a');
  });

  it('Ctrl-C (SIGINT) cancels the calls in flight and exits 130', async () => {
    suite.server.setBehavior('c', { hang: true });
    let interruptedAt = 0;
    const run = await runCli(['ask', 'a question'], {
      cwd: suite.workspace.dir,
      onSpawn: (child) => {
        // interrupt once the hung request has reached the server
        const poll = setInterval(() => {
          if (!suite.server.log.some((entry) => entry.model === 'c')) return;
          clearInterval(poll);
          interruptedAt = performance.now();
          child.kill('SIGINT');
        }, 10);
        child.on('exit', () => clearInterval(poll));
      },
    });
    await suite.server.waitForIdle();
    expect(run.code, describeRun(run)).toBe(130);
    expect(run.stderr).toContain('The run was cancelled');
    expect(run.timedOut).toBe(false);
    expect(run.exitedAt).toBeGreaterThanOrEqual(interruptedAt);
    expect(suite.server.log.find((entry) => entry.model === 'c')?.outcome).toBe('aborted');
    expect(suite.server.log.some((entry) => entry.model === 'agg')).toBe(false);
  });
});
