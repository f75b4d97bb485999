// Configuration and usage errors end to end: exit code 2, and a message that says where the problem is.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { assertCliBuilt, describeRun, fakeProvider, makeWorkspace, runCli, SECRET, type Workspace } from './run-cli.js';

let server: FakeLLMServer;
const workspaces: Workspace[] = [];

function workspace(config: Record<string, unknown> | string | null): Workspace {
  const created = makeWorkspace(config);
  workspaces.push(created);
  return created;
}

beforeAll(async () => {
  assertCliBuilt();
  server = await startFakeLLMServer();
});
afterAll(async () => {
  await server?.close();
  for (const created of workspaces) created.remove();
});
beforeEach(() => server.reset());

const goodPreset = { layers: 2, proposers: ['fake:a', 'fake:b'], aggregator: 'fake:c' };

describe('configuration errors exit 2 and name the problem', () => {
  it('a bad proposer names its path: presets.quick.proposers[1]', async () => {
    const ws = workspace({ providers: fakeProvider(server.url), presets: { quick: { ...goodPreset, proposers: ['fake:a', 42] } } });
    const run = await runCli(['ask', '--preset', 'quick', 'hi'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toContain('presets.quick.proposers[1]');
    expect(run.stderr).toContain(ws.path('moa.config.yaml'));
    expect(run.stderr).toContain('provider:model-id');
    expect(run.stdout).toBe('');
    expect(server.log).toHaveLength(0);
  });

  it('an unknown field is named with its path', async () => {
    const ws = workspace({ providers: fakeProvider(server.url), presets: { quick: { ...goodPreset, temprature: 0.2 } } });
    const run = await runCli(['ask', '--preset', 'quick', 'hi'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toContain('presets.quick.temprature');
    expect(run.stderr).toMatch(/unknown field "temprature"/);
    expect(server.log).toHaveLength(0);
  });

  it('invalid YAML names the line', async () => {
    const ws = workspace(
      [
        'providers:',
        `  fake: { type: openai-compatible, baseURL: "${server.url}", apiKeyEnv: FAKE_KEY }`,
        'presets:',
        '  quick:',
        '    aggregator: fake:c: oops',
        '',
      ].join('\n'),
    );
    const run = await runCli(['ask', '--preset', 'quick', 'hi'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toContain('is not valid YAML');
    expect(run.stderr).toMatch(/line 5\b/);
    expect(server.log).toHaveLength(0);
  });

  it('an unknown --preset lists the presets there are', async () => {
    const ws = workspace({ providers: fakeProvider(server.url), presets: { quick: goodPreset } });
    const run = await runCli(['ask', '--preset', 'nope', 'hi'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toContain('Unknown preset "nope"');
    expect(run.stderr).toMatch(/Available presets: .*quick/);
    expect(server.log).toHaveLength(0);
  });

  it('a missing --config file is named', async () => {
    const ws = workspace(null);
    const run = await runCli(['ask', '--config', 'nowhere/moa.yaml', '--preset', 'quick', 'hi'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toContain('Config file not found');
    expect(run.stderr).toContain(ws.path('nowhere/moa.yaml'));
    expect(run.stderr).toContain('--config');
  });

  it('a key pasted as apiKey is refused with apiKeyEnv as the fix, and never printed', async () => {
    const ws = workspace({ providers: { fake: { type: 'openai-compatible', baseURL: server.url, apiKey: SECRET } }, presets: { quick: goodPreset } });
    const run = await runCli(['ask', '--preset', 'quick', 'hi'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toContain('providers.fake.apiKey');
    expect(run.stderr).toContain('apiKeyEnv');
    expect(run.stderr).toContain('keys never go in the file');
    expect(run.stderr + run.stdout).not.toContain(SECRET);
    expect(server.log).toHaveLength(0);
  });

  it('every problem of the file is listed in one run', async () => {
    const ws = workspace({
      providers: fakeProvider(server.url),
      presets: { quick: { ...goodPreset, proposers: ['fake:a', 42], temprature: 0.2 }, other: { aggregator: 'nowhere:x' } },
    });
    const run = await runCli(['ask', '--preset', 'quick', 'hi'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toContain(`Invalid configuration in ${ws.path('moa.config.yaml')}: 3 problems`);
    for (const path of ['presets.quick.proposers[1]', 'presets.quick.temprature', 'presets.other.aggregator']) expect(run.stderr).toContain(`  - ${path}: `);
    expect(run.stderr).not.toContain('more problem');
  });

  it('an empty config file (or one with only comments) is an error naming it, not silence', async () => {
    const ws = workspace('# to do: presets\n');
    const run = await runCli(['ask', 'hi'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toContain(`${ws.path('moa.config.yaml')} holds no settings (only comments)`);
  });

  it('an invalid option value is a usage error', async () => {
    const ws = workspace(null);
    const run = await runCli(['ask', '--layers', 'many', 'hi'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(2);
    expect(run.stderr).toContain('--layers must be a whole number');
  });
});

describe('moa presets', () => {
  it('--json lists the built-in presets and the config preset', async () => {
    const ws = workspace({ providers: fakeProvider(server.url), presets: { quick: { ...goodPreset, description: 'my quick one' } }, defaultPreset: 'quick' });
    const run = await runCli(['presets', '--json'], { cwd: ws.dir });
    expect(run.code, describeRun(run)).toBe(0);
    const rows = JSON.parse(run.stdout) as Array<{
      name: string;
      source: string;
      default: boolean;
      description?: string;
      layers: Array<{ aggregator: boolean; models: string[] }>;
    }>;
    const byName = new Map(rows.map((row) => [row.name, row]));
    for (const name of ['moa', 'moa-lite', 'moa-gpt4o', 'moa-open']) expect(byName.get(name)).toMatchObject({ source: 'built-in', default: false });
    expect(byName.get('quick')).toEqual({
      name: 'quick',
      source: 'config',
      default: true,
      description: 'my quick one',
      layers: [
        { aggregator: false, models: ['fake:a', 'fake:b'], fallbacks: [], minSuccessful: 1 },
        { aggregator: true, models: ['fake:c'], fallbacks: [], minSuccessful: 1 },
      ],
    });
    expect(byName.get('moa')!.layers).toHaveLength(3);
    expect(server.log).toHaveLength(0);
  });
});
