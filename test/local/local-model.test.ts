// The local: provider on a real GGUF (stories260K): load, generate, stream, abort, usage,
// parallel sequences of one shared model, unloading when the last registry closes.
import type { LanguageModelV3, LanguageModelV3CallOptions, LanguageModelV3StreamPart } from '@ai-sdk/provider';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { callModel } from '../../src/models/call-model.js';
import { createModelRegistry } from '../../src/models/registry.js';
import { createLocalModelFactory, localModelStats, type LocalModelFactory } from '../../src/models/local/index.js';
import { requireTestModel } from './test-model.js';

const modelPath = requireTestModel();
let modelsFolder: string;
let env: Record<string, string>;
let factory: LocalModelFactory;
const warnings: string[] = [];

beforeAll(() => {
  modelsFolder = mkdtempSync(join(tmpdir(), 'moa-local-models-'));
  // A link, not a copy: model files never go into the project tree, and the models folder is a temp dir.
  symlinkSync(modelPath, join(modelsFolder, 'stories.gguf'));
  env = { MOA_MODELS_DIR: modelsFolder };
  factory = createLocalModelFactory({ env, onWarning: (message) => warnings.push(message) });
});

afterAll(async () => {
  await factory?.close();
  rmSync(modelsFolder, { recursive: true, force: true });
});

function options(text: string, extra: Partial<LanguageModelV3CallOptions> = {}): LanguageModelV3CallOptions {
  return {
    prompt: [
      { role: 'system', content: 'Tell a story.' },
      { role: 'user', content: [{ type: 'text', text }] },
    ],
    maxOutputTokens: 24,
    temperature: 0,
    ...extra,
  };
}

async function readAll(model: LanguageModelV3, callOptions: LanguageModelV3CallOptions): Promise<LanguageModelV3StreamPart[]> {
  const { stream } = await model.doStream(callOptions);
  const parts: LanguageModelV3StreamPart[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return parts;
    parts.push(value);
  }
}

function deltas(parts: LanguageModelV3StreamPart[]): string[] {
  return parts.flatMap((part) => (part.type === 'text-delta' ? [part.delta] : []));
}

describe('local: provider on a real GGUF', () => {
  it('loads the model by bare name from the models folder and generates text with token usage', async () => {
    const model = factory('stories');
    expect(model.specificationVersion).toBe('v3');
    expect(model.provider).toBe('local');
    const result = await model.doGenerate(options('Once upon a time'));
    const text = result.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    expect(text.trim().length).toBeGreaterThan(0);
    expect(result.usage.inputTokens.total).toBeGreaterThan(0);
    expect(result.usage.outputTokens.total).toBeGreaterThan(0);
    expect(result.usage.outputTokens.total).toBeLessThanOrEqual(24);
    expect(['stop', 'length']).toContain(result.finishReason.unified);
    const stats = await localModelStats();
    const entry = stats.models.find((loaded) => loaded.path === join(modelsFolder, 'stories.gguf'));
    expect(entry?.chatTemplate).toBe('fallback');
    // On the CPU the thread count is set (never node-llama-cpp's default of 4 on any machine):
    // every available core, or 1 for a model this small (threads cost more than they give).
    if (entry?.gpu === false) expect(entry.threads).toBe(1);
  });

  it('says the file has no chat template: in the call warnings and once through the warning sink', async () => {
    const model = factory('stories');
    const first = await model.doGenerate(options('A cat'));
    await model.doGenerate(options('A dog'));
    expect(first.warnings).toContainEqual(expect.objectContaining({ type: 'compatibility', feature: 'chat template' }));
    const notes = warnings.filter((message) => message.includes('no chat template'));
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('stories.gguf');
  });

  it('streams several deltas whose concatenation is the generated text, then finish with usage', async () => {
    const model = factory(modelPath);
    const generated = await model.doGenerate(options('Once upon a time'));
    const parts = await readAll(model, options('Once upon a time'));
    const pieces = deltas(parts);
    expect(pieces.length).toBeGreaterThan(3);
    const generatedText = generated.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    // temperature 0: the same prompt gives the same text, streamed or not
    expect(pieces.join('')).toBe(generatedText);
    expect(parts[0]?.type).toBe('stream-start');
    const types = parts.map((part) => part.type);
    expect(types.indexOf('text-start')).toBeLessThan(types.indexOf('text-delta'));
    expect(types.at(-2)).toBe('text-end');
    const finish = parts.at(-1);
    expect(finish?.type).toBe('finish');
    if (finish?.type !== 'finish') throw new Error('no finish part');
    expect(finish.usage.outputTokens.total).toBeGreaterThan(0);
    expect(finish.usage.inputTokens.total).toBe(generated.usage.inputTokens.total);
    expect(finish.usage.outputTokens.total).toBe(generated.usage.outputTokens.total);
  });

  it('honours maxOutputTokens and stop sequences', async () => {
    const model = factory(modelPath);
    const long = await model.doGenerate(options('Once upon a time', { maxOutputTokens: 40 }));
    expect(long.usage.outputTokens.total).toBeLessThanOrEqual(40);
    const text = long.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    const words = text.split(/\s+/).filter((word) => /^[a-z]{3,}$/i.test(word));
    const stopWord = words[2] ?? words[0];
    if (!stopWord) throw new Error(`the model wrote no usable word: ${JSON.stringify(text)}`);
    const stopped = await model.doGenerate(options('Once upon a time', { maxOutputTokens: 40, stopSequences: [stopWord] }));
    const stoppedText = stopped.content.map((part) => (part.type === 'text' ? part.text : '')).join('');
    expect(stoppedText).not.toContain(stopWord);
    expect(text.startsWith(stoppedText.trimEnd())).toBe(true);
    expect(stopped.finishReason.unified).toBe('stop');
    expect(stopped.finishReason.raw).toBe('customStopTrigger');
  });

  it('aborting mid-stream stops generation at once: the read rejects with the abort reason, no more deltas, the sequence is free', async () => {
    const model = factory(modelPath);
    const controller = new AbortController();
    const { stream } = await model.doStream(options('Once upon a time', { maxOutputTokens: 1500, temperature: 0.8, abortSignal: controller.signal }));
    const reader = stream.getReader();
    let received = 0;
    const reason = new Error('stop now');
    let failure: unknown;
    for (;;) {
      try {
        const { done, value } = await reader.read();
        if (done) break;
        if (value.type === 'finish') throw new Error('the stream finished although it was aborted');
        if (value.type === 'text-delta') {
          received++;
          if (received === 3) controller.abort(reason);
          else if (received > 3) throw new Error('a delta arrived after the abort');
        }
      } catch (error) {
        failure = error;
        break;
      }
    }
    expect(received).toBe(3);
    expect(failure).toBe(reason);
    const stats = await localModelStats();
    const entry = stats.models.find((model) => model.path === modelPath);
    expect(entry?.busySequences).toBe(0);
  });

  it('a call whose signal is already aborted rejects without generating', async () => {
    const model = factory(modelPath);
    const controller = new AbortController();
    controller.abort(new Error('cancelled before start'));
    await expect(model.doGenerate(options('Once', { abortSignal: controller.signal }))).rejects.toThrow('cancelled before start');
  });

  it('runs concurrent agents on one model as parallel sequences of ONE loaded model', async () => {
    const localEnv = { MOA_MODELS_DIR: modelsFolder };
    const before = await localModelStats();
    // Two registries (as two runs of a server would have) naming the same file.
    const first = createModelRegistry({ env: localEnv });
    const second = createModelRegistry({ env: localEnv });
    const otherFile = join(modelsFolder, 'other-name.gguf');
    symlinkSync(modelPath, otherFile); // another path: its own model, so this test's counts are its own
    const order: string[] = [];
    const signal = new AbortController().signal;
    const call = (registry: typeof first, index: number) => {
      const resolved = registry.resolve(`local:${otherFile}`);
      let sawDelta = false;
      return callModel(resolved, {
        prompt: options(`Story ${index}`).prompt,
        maxTokens: 32,
        temperature: 0.8,
        signal,
        onDelta: () => {
          if (!sawDelta) order.push(`first-delta ${index}`);
          sawDelta = true;
        },
      }).then((result) => {
        order.push(`end ${index}`);
        return result;
      });
    };
    const results = await Promise.all([call(first, 0), call(first, 1), call(second, 2)]);
    for (const result of results) expect(result.usage.outputTokens).toBeGreaterThan(0);

    const after = await localModelStats();
    expect(after.totalLoads - before.totalLoads).toBe(1); // loaded once for three agents and two registries
    const entry = after.models.find((model) => model.path === otherFile);
    expect(entry?.references).toBe(2); // one per registry
    expect(entry?.peakBusySequences).toBe(3);
    // Overlap: every call had produced text before any of them finished (one after another would interleave ends).
    const lastFirstDelta = Math.max(...[0, 1, 2].map((index) => order.indexOf(`first-delta ${index}`)));
    const firstEnd = Math.min(...[0, 1, 2].map((index) => order.indexOf(`end ${index}`)));
    expect(lastFirstDelta, order.join(', ')).toBeLessThan(firstEnd);

    await first.close();
    expect((await localModelStats()).models.find((model) => model.path === otherFile)?.references).toBe(1);
    await second.close();
    expect((await localModelStats()).models.find((model) => model.path === otherFile)).toBeUndefined();
  });

  it('waits for a free sequence when more calls than sequences run at once', async () => {
    const localEnv = { MOA_MODELS_DIR: modelsFolder, MOA_LOCAL_SEQUENCES: '2' };
    const limitedFile = join(modelsFolder, 'two-sequences.gguf');
    symlinkSync(modelPath, limitedFile);
    const limited = createLocalModelFactory({ env: localEnv, onWarning: () => undefined });
    try {
      const model = limited(limitedFile);
      const results = await Promise.all([0, 1, 2, 3, 4].map((index) => model.doGenerate(options(`Tale ${index}`, { maxOutputTokens: 12 }))));
      for (const result of results) expect(result.usage.outputTokens.total).toBeGreaterThan(0);
      const entry = (await localModelStats()).models.find((model) => model.path === limitedFile);
      expect(entry?.sequences).toBe(2);
      expect(entry?.peakBusySequences).toBe(2);
    } finally {
      await limited.close();
    }
    expect((await localModelStats()).models.find((model) => model.path === limitedFile)).toBeUndefined();
  });

  it('rejects a missing file and a non-GGUF file when the model is resolved, naming the file', () => {
    const registry = createModelRegistry({ env });
    expect(() => registry.resolve('local:no-such-model.gguf', 'proposers[0]')).toThrow(
      new RegExp(`file not found: ${join(modelsFolder, 'no-such-model.gguf').replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}.*moa pull`),
    );
    expect(() => registry.resolve(`local:${join(process.cwd(), 'package.json')}`)).toThrow(/package\.json is not a GGUF file/);
  });
});
