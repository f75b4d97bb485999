// The AI SDK's tool loops and structured output through moa serve: `generateText` with a tool and
// `stopWhen`, `generateObject`, `streamText` with a tool, on `@ai-sdk/openai` (the Responses API
// by default, and `.chat()`) and `@ai-sdk/openai-compatible`.
import { createOpenAI } from '@ai-sdk/openai';
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { generateObject, generateText, stepCountIs, streamText, tool, type LanguageModel } from 'ai';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { useServerSuite } from '../server/server-suite.js';
import { aggregatorCalls, proposerCalls, proposersSawNoTools, WEATHER_TOOL_NAME, weatherAggregator } from './tool-fixtures.js';

const suite = useServerSuite();

const models: Record<string, () => LanguageModel> = {
  '@ai-sdk/openai openai(model) (Responses API)': () => createOpenAI({ baseURL: `${suite.url}/v1`, apiKey: 'unused' })('duo'),
  '@ai-sdk/openai openai.chat(model)': () => createOpenAI({ baseURL: `${suite.url}/v1`, apiKey: 'unused' }).chat('duo'),
  '@ai-sdk/openai-compatible': () => createOpenAICompatible({ name: 'moa', baseURL: `${suite.url}/v1`, apiKey: 'unused', supportsStructuredOutputs: true })('duo'),
};

const weather = tool({
  description: 'Weather in a city',
  inputSchema: z.object({ city: z.string() }),
  execute: async ({ city }) => `Sunny in ${city}`,
});

for (const [name, model] of Object.entries(models)) {
  describe(`${name}: tools and structured output through moa serve`, () => {
    it('generateText runs a tool loop to its answer; the proposers advise once, without tools', async () => {
      suite.fake.setBehavior('aggregator', weatherAggregator());
      const result = await generateText({
        model: model(),
        prompt: 'Weather in Paris?',
        tools: { [WEATHER_TOOL_NAME]: weather },
        stopWhen: stepCountIs(3),
        maxRetries: 0,
      });
      expect(result.text).toBe('The tool said: Sunny in Paris');
      expect(result.steps).toHaveLength(2);
      expect(result.steps[0]!.toolCalls.map((call) => [call.toolName, call.input])).toEqual([[WEATHER_TOOL_NAME, { city: 'Paris' }]]);
      expect(result.steps[0]!.finishReason).toBe('tool-calls');
      expect(aggregatorCalls(suite.fake.log)).toHaveLength(2);
      expect(aggregatorCalls(suite.fake.log).every((entry) => Array.isArray(entry.tools) && entry.tools.length === 1)).toBe(true);
      expect(proposerCalls(suite.fake.log)).toHaveLength(2); // the first step only
      expect(proposersSawNoTools(suite.fake.log)).toBe(true);
    });

    it('streamText with a tool: the tool call streams, the loop completes', async () => {
      suite.fake.setBehavior('aggregator', { ...weatherAggregator(), argumentChunks: 3 });
      const result = streamText({ model: model(), prompt: 'Weather in Paris?', tools: { [WEATHER_TOOL_NAME]: weather }, stopWhen: stepCountIs(3), maxRetries: 0 });
      const parts: string[] = [];
      for await (const part of result.fullStream) parts.push(part.type);
      expect(await result.text).toBe('The tool said: Sunny in Paris');
      expect(parts).toContain('tool-call');
      expect(parts).toContain('tool-result');
      expect(proposerCalls(suite.fake.log)).toHaveLength(2);
    });

    it('generateObject: the JSON answer, validated against the schema before it is returned', async () => {
      let attempts = 0;
      suite.fake.setBehavior('aggregator', { text: () => (++attempts === 1 ? '{"city": 3}' : '{"city":"Paris","celsius":21}') });
      const { object } = await generateObject({
        model: model(),
        prompt: 'Weather in Paris as JSON',
        schema: z.object({ city: z.string(), celsius: z.number() }),
        maxRetries: 0,
      });
      expect(object).toEqual({ city: 'Paris', celsius: 21 });
      expect(attempts).toBe(2); // the engine refused the first answer
      expect(aggregatorCalls(suite.fake.log)[0]!.responseFormat).toBeDefined();
      expect(proposersSawNoTools(suite.fake.log)).toBe(true);
    });
  });
}
