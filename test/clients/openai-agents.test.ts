// `@openai/agents` (the OpenAI Agents SDK) with moa as its model: an agent with a function tool
// runs its loop to the end through moa serve, on the Responses API (its default) and on Chat Completions.
import { Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, run, setTracingDisabled, tool } from '@openai/agents';
import OpenAI from 'openai';
import { z } from 'zod';
import { beforeAll, describe, expect, it } from 'vitest';
import { useServerSuite } from '../server/server-suite.js';
import { aggregatorCalls, proposerCalls, proposersSawNoTools, WEATHER_TOOL_NAME, weatherAggregator } from './tool-fixtures.js';

const suite = useServerSuite();

// The SDK would otherwise send traces to OpenAI: tests never leave 127.0.0.1.
beforeAll(() => setTracingDisabled(true));

const models = {
  'the Responses API (default)': () => new OpenAIResponsesModel(new OpenAI({ baseURL: `${suite.url}/v1`, apiKey: 'unused', maxRetries: 0 }), 'duo'),
  'Chat Completions': () => new OpenAIChatCompletionsModel(new OpenAI({ baseURL: `${suite.url}/v1`, apiKey: 'unused', maxRetries: 0 }), 'duo'),
};

for (const [name, model] of Object.entries(models)) {
  describe(`@openai/agents on ${name} through moa serve`, () => {
    it('an agent with a function tool completes its loop; the proposers advise once, without tools', async () => {
      suite.fake.setBehavior('aggregator', weatherAggregator());
      const calls: string[] = [];
      const weather = tool({
        name: WEATHER_TOOL_NAME,
        description: 'Weather in a city',
        parameters: z.object({ city: z.string() }),
        execute: async ({ city }) => {
          calls.push(city);
          return `Sunny in ${city}`;
        },
      });
      const agent = new Agent({ name: 'Forecaster', instructions: 'Answer with the weather tool.', model: model(), tools: [weather] });
      const result = await run(agent, 'What is the weather in Paris?');
      expect(calls).toEqual(['Paris']);
      expect(result.finalOutput).toBe('The tool said: Sunny in Paris');
      expect(aggregatorCalls(suite.fake.log)).toHaveLength(2);
      expect(proposerCalls(suite.fake.log)).toHaveLength(2);
      expect(proposersSawNoTools(suite.fake.log)).toBe(true);
      // The agent's instructions reached every agent of the ensemble.
      for (const entry of suite.fake.log) expect(JSON.stringify(entry.messages)).toContain('Answer with the weather tool.');
    });
  });
}
