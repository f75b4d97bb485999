// LangChain's ChatOpenAI (@langchain/openai) against moa serve, on Chat Completions and on the
// Responses API (useResponsesApi).
import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { systemOf, turns, useServerSuite } from '../server/server-suite.js';
import { aggregatorCalls, proposerCalls, proposersSawNoTools, WEATHER_TOOL_NAME, weatherAggregator } from './tool-fixtures.js';

const API_KEY = 'moa-langchain-key-123456';
const suite = useServerSuite({ apiKey: API_KEY });

function chat(options: { useResponsesApi?: boolean; streaming?: boolean } = {}): ChatOpenAI {
  return new ChatOpenAI({ model: 'duo', apiKey: API_KEY, configuration: { baseURL: `${suite.url}/v1` }, maxRetries: 0, ...options });
}

for (const useResponsesApi of [false, true]) {
  describe(`ChatOpenAI${useResponsesApi ? ' with useResponsesApi' : ''} against moa serve`, () => {
    it('invokes: the aggregator answer, with system and user messages at every agent', async () => {
      suite.fake.setBehavior('aggregator', { text: 'Rayleigh scattering.' });
      const reply = await chat({ useResponsesApi }).invoke([new SystemMessage('Be brief.'), new HumanMessage('Why is the sky blue?')]);
      expect(reply.text).toBe('Rayleigh scattering.');
      expect(suite.fake.log).toHaveLength(3);
      for (const entry of suite.fake.log) {
        expect(systemOf(entry)).toContain('Be brief.');
        expect(turns(entry)).toEqual([{ role: 'user', content: 'Why is the sky blue?' }]);
      }
    });

    it('streams the answer in chunks', async () => {
      suite.fake.setBehavior('aggregator', { text: 'one two three' });
      const chunks: string[] = [];
      for await (const chunk of await chat({ useResponsesApi }).stream('Count')) chunks.push(chunk.text);
      expect(chunks.join('')).toBe('one two three');
      expect(chunks.filter(Boolean).length).toBeGreaterThan(1);
    });

    it('bindTools: the aggregator calls the tool, the answer comes back from its result; proposers advise without tools, once', async () => {
      suite.fake.setBehavior('aggregator', weatherAggregator());
      const weather = tool(async ({ city }: { city: string }) => `Sunny in ${city}`, {
        name: WEATHER_TOOL_NAME,
        description: 'Weather in a city',
        schema: z.object({ city: z.string() }),
      });
      const model = chat({ useResponsesApi }).bindTools([weather]);
      const question = new HumanMessage('Weather in Paris?');
      const first = await model.invoke([question]);
      expect(first.tool_calls?.map((call) => [call.name, call.args])).toEqual([[WEATHER_TOOL_NAME, { city: 'Paris' }]]);
      const result = await weather.invoke(first.tool_calls![0]!);
      const second = await model.invoke([question, first, result]);
      expect(second.text).toBe('The tool said: Sunny in Paris');
      expect(aggregatorCalls(suite.fake.log)).toHaveLength(2);
      expect(proposerCalls(suite.fake.log)).toHaveLength(2);
      expect(proposersSawNoTools(suite.fake.log)).toBe(true);
    });

    it('withStructuredOutput: a parsed object, validated by the engine', async () => {
      suite.fake.setBehavior('aggregator', { text: '{"city":"Rome","celsius":30}' });
      const structured = chat({ useResponsesApi }).withStructuredOutput(z.object({ city: z.string(), celsius: z.number() }), { name: 'weather' });
      expect(await structured.invoke('Weather in Rome?')).toEqual({ city: 'Rome', celsius: 30 });
      expect(proposersSawNoTools(suite.fake.log)).toBe(true);
    });
  });
}
