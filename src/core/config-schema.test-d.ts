// The config contract users write against (PresetInput), checked by the compiler.
import { describe, expectTypeOf, it } from 'vitest';
import { MockLanguageModelV3 } from 'ai/test';
import type { PresetInput } from './config-schema.js';

describe('PresetInput', () => {
  it('takes model names, agent objects and AI SDK models', () => {
    expectTypeOf<{ layers: 2; proposers: ['openai:gpt-4o-mini', { model: 'groq:llama'; temperature: 0.2 }]; aggregator: 'openai:gpt-4o' }>().toExtend<PresetInput>();
    expectTypeOf<{ aggregator: MockLanguageModelV3 }>().toExtend<PresetInput>();
    expectTypeOf<{ aggregator: { model: 'a:b'; fallbacks: ['c:d']; window: 4 } }>().toExtend<PresetInput>();
  });

  it('takes the aggregation policies, layer kinds and stopWhen', () => {
    expectTypeOf<{ aggregator: 'a:b'; aggregation: 'barrier' }>().toExtend<PresetInput>();
    expectTypeOf<{ aggregator: 'a:b'; aggregation: { mode: 'early'; after: 2; deadlineMs: 500; maxRestarts: 1 } }>().toExtend<PresetInput>();
    expectTypeOf<{ aggregator: 'a:b'; aggregation: { mode: 'staircase'; chunkTokens: 32 } }>().toExtend<PresetInput>();
    expectTypeOf<{ layers: [{ proposers: ['a:1'] }, { kind: 'rank' }]; aggregator: 'a:b'; stopWhen: { agreement: 0.9 } }>().toExtend<PresetInput>();
  });

  it('refuses what is not part of the contract', () => {
    expectTypeOf<{ aggregator: 'a:b'; aggregation: { mode: 'sometimes' } }>().not.toExtend<PresetInput>();
    expectTypeOf<{ layers: [{ kind: 'vote' }]; aggregator: 'a:b' }>().not.toExtend<PresetInput>();
    expectTypeOf<{ proposers: ['a:1'] }>().not.toExtend<PresetInput>(); // the aggregator is required
  });
});
