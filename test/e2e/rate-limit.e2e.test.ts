// A provider asking to wait an hour (429 + Retry-After: 3600) must not leave `moa ask` sitting
// silently until killed: that model is given up at once with a clear error, and a fallback takes over.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { assertCliBuilt, describeRun, fakeProvider, makeWorkspace, runCli, type Workspace } from './run-cli.js';

const suite = {} as { server: FakeLLMServer; workspace: Workspace };
beforeAll(async () => {
  assertCliBuilt();
  suite.server = await startFakeLLMServer();
  suite.workspace = makeWorkspace({
    // The fallback is another provider (served by the same fake): a 429's pause holds the provider that sent it.
    providers: { ...fakeProvider(suite.server.url), spare: { type: 'openai-compatible', baseURL: suite.server.url } },
    presets: {
      solo: { layers: 1, aggregator: 'fake:agg' },
      backed: { layers: 2, proposers: ['fake:a'], aggregator: { model: 'fake:agg', fallbacks: ['spare:backup'] } },
    },
    defaultPreset: 'solo',
  });
});
afterAll(async () => {
  await suite.server?.close();
  suite.workspace?.remove();
});
beforeEach(() => {
  suite.server.reset();
  suite.server.setBehavior('a', { text: 'answer from a' });
  suite.server.setBehavior('agg', { alwaysFail: { status: 429, retryAfter: 3600, message: 'Rate limit reached for requests' } });
  suite.server.setBehavior('backup', { text: 'answer from the backup' });
});

describe('moa ask and a one-hour Retry-After', () => {
  it('fails at once, exit 1, saying who rate-limited it and for how long', async () => {
    const run = await runCli(['ask', 'a question'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(1);
    expect(run.stderr).toContain('fake:agg: rate-limited by fake for 3600 s');
    expect(suite.server.log.filter((entry) => entry.model === 'agg')).toHaveLength(1);
  });

  it('goes to the fallback model and answers', async () => {
    const run = await runCli(['ask', '--preset', 'backed', 'a question'], { cwd: suite.workspace.dir });
    expect(run.code, describeRun(run)).toBe(0);
    expect(run.stdout.trim()).toBe('answer from the backup');
    expect(run.stderr).toMatch(/rate-limited by fake for 3600 s.*falling back to spare:backup/);
  });
});
