// The AI SDK against moa serve: `@ai-sdk/openai`'s default model (the Responses API) and `.chat()`
// (Chat Completions), and `@ai-sdk/openai-compatible`, each through generateText and streamText.
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateText, streamText, type LanguageModel } from 'ai';
import { describe, expect, it } from 'vitest';
import { systemOf, turns, useServerSuite } from '../server/server-suite.js';

const API_KEY = 'moa-ai-sdk-key-123456';
const suite = useServerSuite({ apiKey: API_KEY });

const models: Record<string, () => LanguageModel> = {
  '@ai-sdk/openai openai(model) (Responses API)': () => createOpenAI({ baseURL: `${suite.url}/v1`, apiKey: API_KEY })('duo'),
  '@ai-sdk/openai openai.chat(model)': () => createOpenAI({ baseURL: `${suite.url}/v1`, apiKey: API_KEY }).chat('duo'),
  '@ai-sdk/openai-compatible': () => createOpenAICompatible({ name: 'moa', baseURL: `${suite.url}/v1`, apiKey: API_KEY, includeUsage: true })('duo'),
};

for (const [name, model] of Object.entries(models)) {
  describe(`${name} against moa serve`, () => {
    it('generateText: the aggregator answer, usage of every agent, system and turns reach every agent', async () => {
      suite.fake.setBehavior('aggregator', { text: 'Rayleigh scattering.' });
      const result = await generateText({
        model: model(),
        system: 'Be brief.',
        messages: [
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Hi!' },
          { role: 'user', content: 'Why is the sky blue?' },
        ],
        temperature: 0.3,
        maxOutputTokens: 50,
        maxRetries: 0,
      });
      expect(result.text).toBe('Rayleigh scattering.');
      expect(result.finishReason).toBe('stop');
      expect(result.usage.outputTokens).toBe(8 + 8 + 2);
      expect(suite.fake.log).toHaveLength(3);
      for (const entry of suite.fake.log) {
        expect(systemOf(entry)).toContain('Be brief.');
        expect(turns(entry)).toEqual([
          { role: 'user', content: 'Hello' },
          { role: 'assistant', content: 'Hi!' },
          { role: 'user', content: 'Why is the sky blue?' },
        ]);
      }
      expect(suite.fake.log.find((entry) => entry.model === 'aggregator')).toMatchObject({ temperature: 0.3, maxTokens: 50 });
    });

    it('streamText: the deltas reassemble to the answer, with the finish reason and usage', async () => {
      suite.fake.setBehavior('aggregator', { text: 'one two three four' });
      const result = streamText({ model: model(), prompt: 'Count', maxRetries: 0 });
      const parts: string[] = [];
      for await (const part of result.textStream) parts.push(part);
      expect(parts.join('')).toBe('one two three four');
      expect(parts.length).toBeGreaterThan(1);
      expect(await result.finishReason).toBe('stop');
      expect((await result.usage).outputTokens).toBe(8 + 8 + 4);
    });
  });
}
