// LangChain's ChatOpenAI (@langchain/openai) against moa serve, on Chat Completions and on the
// Responses API (useResponsesApi).
import { ChatOpenAI } from '@langchain/openai';
import { HumanMessage, SystemMessage } from '@langchain/core/messages';
import { describe, expect, it } from 'vitest';
import { systemOf, turns, useServerSuite } from '../server/server-suite.js';

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
  });
}
