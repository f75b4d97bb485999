// createMoA: MoA presets as an AI SDK provider inside generateText / streamText, with the presets'
// models on the fake LLM server. A config object, a config file, the default preset.
import { generateObject, generateText, stepCountIs, streamText, tool } from 'ai';
import { z } from 'zod';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify as toYaml } from 'yaml';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { MoARunError } from '../../src/core/stream-moa.js';
import { createMoA, type MoAProvider } from '../../src/provider/index.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { aggregatorCalls, proposerCalls, proposersSawNoTools, WEATHER_TOOL_NAME, weatherAggregator } from '../clients/tool-fixtures.js';

const SECRET = 'sk-provider-SECRET-42';
let fake: FakeLLMServer;
let moa: MoAProvider;
const configOf = (url: string) => ({
  providers: { fake: { type: 'openai-compatible' as const, baseURL: url, apiKeyEnv: 'FAKE_KEY' } },
  presets: {
    duo: { layers: 2, proposers: ['fake:proposer-a', 'fake:proposer-b'], aggregator: 'fake:aggregator', temperature: 0.7 },
    solo: { aggregator: 'fake:aggregator' },
  },
  defaultPreset: 'duo',
});

beforeAll(async () => {
  fake = await startFakeLLMServer();
  moa = createMoA({ config: configOf(fake.url), env: { FAKE_KEY: SECRET }, retryBaseDelayMs: 1, retryMaxDelayMs: 5 });
});
beforeEach(() => {
  fake.reset();
  fake.setDefaultBehavior({ tokens: 6 });
});
afterAll(async () => {
  await moa?.close();
  await fake?.close();
});

describe('createMoA inside generateText / streamText', () => {
  it('generateText: the aggregator answer, usage of every agent, what every layer did in providerMetadata.moa', async () => {
    fake.setBehavior('aggregator', { text: 'Rayleigh scattering.' });
    const result = await generateText({ model: moa('duo'), system: 'Be brief.', prompt: 'Why is the sky blue?', temperature: 0.2, maxOutputTokens: 40 });
    expect(result.text).toBe('Rayleigh scattering.');
    expect(result.finishReason).toBe('stop');
    expect(result.usage.outputTokens).toBe(6 + 6 + 2);
    const layers = (result.providerMetadata?.['moa'] as { layers: Array<{ agents: Array<{ model: string; status: string }> }> }).layers;
    expect(layers.map((layer) => layer.agents.map((agent) => `${agent.model}:${agent.status}`))).toEqual([
      ['fake:proposer-a:done', 'fake:proposer-b:done'],
      ['fake:aggregator:done'],
    ]);
    const byModel = Object.fromEntries(fake.log.map((entry) => [entry.model, entry]));
    expect(byModel['aggregator']).toMatchObject({ temperature: 0.2, maxTokens: 40 });
    expect(byModel['proposer-a']).toMatchObject({ temperature: 0.7 });
    expect(byModel['proposer-a']!.maxTokens).toBeUndefined();
    expect(JSON.stringify(byModel['proposer-a']!.messages)).toContain('Be brief.');
  });

  it('streamText: the aggregator streams, the deltas reassemble, only the aggregator call streamed upstream', async () => {
    fake.setBehavior('aggregator', { text: 'one two three four' });
    const result = streamText({ model: moa('duo'), prompt: 'Count' });
    const parts: string[] = [];
    for await (const part of result.textStream) parts.push(part);
    expect(parts).toEqual(['one ', 'two ', 'three ', 'four']);
    expect(await result.finishReason).toBe('stop');
    expect((await result.usage).outputTokens).toBe(6 + 6 + 4);
    expect(fake.log.filter((entry) => entry.stream).map((entry) => entry.model)).toEqual(['aggregator']);
  });

  it('moa() is the default preset; a multi-turn conversation reaches every agent', async () => {
    await generateText({
      model: moa(),
      messages: [
        { role: 'user', content: 'Hello' },
        { role: 'assistant', content: 'Hi!' },
        { role: 'user', content: 'And now?' },
      ],
    });
    expect(fake.log.map((entry) => entry.model).sort()).toEqual(['aggregator', 'proposer-a', 'proposer-b']);
    for (const entry of fake.log) {
      expect(entry.messages.filter((message) => message.role !== 'system').map((message) => message.content)).toEqual(['Hello', 'Hi!', 'And now?']);
    }
  });

  it('a failed run rejects with MoARunError once: the AI SDK does not rerun every proposer', async () => {
    fake.setBehavior('aggregator', { alwaysFail: { status: 500, message: 'upstream exploded' } });
    const error = await generateText({ model: moa('duo'), prompt: 'Hi', maxRetries: 2 }).catch((failure: unknown) => failure);
    expect(error).toBeInstanceOf(MoARunError);
    expect((error as Error).message).toContain('upstream exploded');
    // One run: the proposers were called once each (the engine retried only the aggregator).
    expect(fake.log.filter((entry) => entry.model === 'proposer-a')).toHaveLength(1);
  });

  it('cancels the run with the abort signal', async () => {
    fake.setBehavior('proposer-a', { hang: true });
    const controller = new AbortController();
    const call = generateText({ model: moa('duo'), prompt: 'Hi', abortSignal: controller.signal }).catch((failure: unknown) => failure);
    const deadline = Date.now() + 5_000;
    while (!fake.log.some((entry) => entry.model === 'proposer-a' && entry.outcome === 'pending')) {
      if (Date.now() > deadline) throw new Error('the proposer call did not start');
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    controller.abort();
    expect(await call).toBeInstanceOf(Error);
    await fake.waitForIdle();
    expect(fake.log.find((entry) => entry.model === 'proposer-a')!.outcome).toBe('aborted');
    expect(fake.log.some((entry) => entry.model === 'aggregator')).toBe(false);
  });

  it('refuses an unknown preset by name, before any call', () => {
    expect(() => moa('gpt-17')).toThrow(/No MoA preset "gpt-17"/);
    expect(moa.presets).toContain('duo');
    expect(moa.presets).toContain('moa'); // the built-ins are there too
  });

  it('reads a config file given by path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'moa-provider-'));
    try {
      const file = join(dir, 'lab.yaml');
      writeFileSync(file, toYaml(configOf(fake.url)));
      const fromFile = createMoA({ config: file, env: { FAKE_KEY: SECRET } });
      fake.setBehavior('aggregator', { text: 'from the file' });
      const result = await generateText({ model: fromFile('solo'), prompt: 'Hi' });
      expect(result.text).toBe('from the file');
      expect(fake.log[0]!.authorization).toBe(`Bearer ${SECRET}`);
      await fromFile.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses an invalid config object with the path of the bad field', () => {
    expect(() => createMoA({ config: { presets: { bad: { aggregator: 'no-provider' } } } as never })).toThrow(/presets\.bad\.aggregator/);
  });

  describe('tools and structured output', () => {
    const weather = tool({ description: 'Weather in a city', inputSchema: z.object({ city: z.string() }), execute: async ({ city }) => `Sunny in ${city}` });

    it('generateText runs a tool loop: the aggregator calls the tool, the proposers advise once and never see tools', async () => {
      fake.setBehavior('aggregator', weatherAggregator());
      const result = await generateText({ model: moa('duo'), prompt: 'Weather in Paris?', tools: { [WEATHER_TOOL_NAME]: weather }, stopWhen: stepCountIs(3) });
      expect(result.text).toBe('The tool said: Sunny in Paris');
      expect(result.steps.map((step) => step.finishReason)).toEqual(['tool-calls', 'stop']);
      expect(aggregatorCalls(fake.log)).toHaveLength(2);
      expect(proposerCalls(fake.log)).toHaveLength(2);
      expect(proposersSawNoTools(fake.log)).toBe(true);
      const layers = (result.steps[1]!.providerMetadata?.['moa'] as { layers: Array<{ agents: Array<{ status: string }> }> }).layers;
      expect(layers[0]!.agents.map((agent) => agent.status)).toEqual(['skipped', 'skipped']);
    });

    it('providerOptions.moa.toolLoop "rerun" reruns the proposers at each step', async () => {
      fake.setBehavior('aggregator', weatherAggregator());
      await generateText({
        model: moa('duo'),
        prompt: 'Weather in Paris?',
        tools: { [WEATHER_TOOL_NAME]: weather },
        stopWhen: stepCountIs(3),
        providerOptions: { moa: { toolLoop: 'rerun' } },
      });
      expect(proposerCalls(fake.log)).toHaveLength(4);
      expect(proposersSawNoTools(fake.log)).toBe(true);
    });

    it('streamText streams the tool call and completes the loop', async () => {
      fake.setBehavior('aggregator', { ...weatherAggregator(), argumentChunks: 3 });
      const result = streamText({ model: moa('duo'), prompt: 'Weather in Paris?', tools: { [WEATHER_TOOL_NAME]: weather }, stopWhen: stepCountIs(3) });
      const parts: string[] = [];
      for await (const part of result.fullStream) parts.push(part.type);
      expect(await result.text).toBe('The tool said: Sunny in Paris');
      expect(parts.filter((type) => type === 'tool-input-delta').length).toBeGreaterThanOrEqual(2);
      expect(parts).toContain('tool-call');
    });

    it('generateObject: the answer is checked against the schema (a bad one is asked again)', async () => {
      let attempts = 0;
      fake.setBehavior('aggregator', { text: () => (++attempts === 1 ? 'not json' : '{"city":"Paris","celsius":19}') });
      const { object } = await generateObject({ model: moa('duo'), prompt: 'Weather?', schema: z.object({ city: z.string(), celsius: z.number() }) });
      expect(object).toEqual({ city: 'Paris', celsius: 19 });
      expect(attempts).toBe(2);
    });

    it('sampling settings go to the aggregator only; an unknown moa option is refused', async () => {
      await generateText({ model: moa('duo'), prompt: 'Hi', stopSequences: ['END'], seed: 3, topP: 0.4, providerOptions: { fake: { user: 'u-1' } } });
      expect(aggregatorCalls(fake.log)[0]!.body).toMatchObject({ stop: ['END'], seed: 3, top_p: 0.4, user: 'u-1' });
      for (const entry of proposerCalls(fake.log)) expect(entry.body['stop']).toBeUndefined();
      await expect(generateText({ model: moa('duo'), prompt: 'Hi', providerOptions: { moa: { nope: true } } })).rejects.toThrow(/providerOptions\.moa\.nope/);
    });
  });
});
