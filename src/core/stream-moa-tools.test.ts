// Tools, structured output and samples belong to the final aggregator: it gets the tools and the
// conversation's tool calls as such; every other agent advises in plain text. Inside a client's tool
// loop the proposers are not run again. JSON answers are checked before anyone sees them.
import { describe, expect, it } from 'vitest';
import type { LanguageModelV3CallOptions } from '@ai-sdk/provider';
import { mockModel, mockRegistry, systemText, turnsOf } from '../../test/support/engine-mocks.js';
import { providerCapabilities } from '../models/provider-capabilities.js';
import type { ResolvedModel } from '../models/registry.js';
import { ConfigError } from '../util/errors.js';
import type { ChatMessage, MoAEvent } from './events.js';
import { checkFinalTools } from './final-options.js';
import { createReferenceMemory } from './reference-memory.js';
import { reduceEvents } from './reducer.js';
import { resolvePreset } from './resolve-preset.js';
import { runMoA, streamMoA } from './stream-moa.js';

const ofType = <T extends MoAEvent['type']>(events: readonly MoAEvent[], type: T) =>
  events.filter((event): event is Extract<MoAEvent, { type: T }> => event.type === type);

const weatherTool = {
  name: 'get_weather',
  description: 'Current weather for a city',
  inputSchema: { type: 'object' as const, properties: { city: { type: 'string' as const } }, required: ['city'] },
};
const callWeather = { id: 'call_1', name: 'get_weather', arguments: '{"city":"Paris"}' };
const fast = { retryBaseDelayMs: 1, retryMaxDelayMs: 1, random: () => 0 };

function toolNames(options: LanguageModelV3CallOptions): string[] {
  return (options.tools ?? []).map((tool) => tool.name);
}

describe('tools go to the final aggregator only', () => {
  it('the aggregator gets the tools and answers with a tool call; proposers get none and are told they advise', async () => {
    const a = mockModel('mock:a', 'Check the weather service for Paris.');
    const b = mockModel('mock:b', 'Call get_weather with city Paris.');
    const agg = mockModel('mock:agg', { text: '', toolCalls: [callWeather] });
    const run = streamMoA({ layers: 2, proposers: [a, b], aggregator: agg }, 'What is the weather in Paris?', {
      final: { tools: [weatherTool], toolChoice: 'auto' },
    });
    const result = await run.result;

    expect(result).toMatchObject({ status: 'done', text: '', finishReason: 'tool-calls', toolCalls: [callWeather] });
    for (const proposer of [a, b]) {
      expect(proposer.calls[0]!.options.tools).toBeUndefined();
      expect(systemText(proposer.calls[0]!.options)).toContain('You cannot call tools');
    }
    const aggregatorCall = agg.calls[0]!.options;
    expect(toolNames(aggregatorCall)).toEqual(['get_weather']);
    expect(aggregatorCall.toolChoice).toEqual({ type: 'auto' });
    expect(systemText(aggregatorCall)).not.toContain('You cannot call tools');
    expect(systemText(aggregatorCall)).toContain('Call get_weather with city Paris.');
    expect(ofType(run.events, 'agent-end').at(-1)).toMatchObject({ finishReason: 'tool-calls', toolCalls: [callWeather] });
    expect(reduceEvents(run.events)).toEqual(result);
  });

  it('streams a tool call as agent-tool-call-delta events the reducer joins', async () => {
    const agg = mockModel('mock:agg', { text: 'Let me look.', toolCalls: [callWeather, { id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' }] });
    const run = streamMoA({ layers: 1, aggregator: agg }, 'Weather in Paris and Rome?', { final: { tools: [weatherTool] }, stream: 'final' });
    const result = await run.result;
    const deltas = ofType(run.events, 'agent-tool-call-delta');
    expect(deltas.map((delta) => [delta.index, delta.toolCallId])).toEqual([
      [0, 'call_1'],
      [0, 'call_1'],
      [1, 'call_2'],
      [1, 'call_2'],
    ]);
    expect(
      deltas
        .filter((delta) => delta.index === 0)
        .map((delta) => delta.argumentsDelta)
        .join(''),
    ).toBe('{"city":"Paris"}');
    expect(result.text).toBe('Let me look.');
    expect(result.toolCalls).toEqual([callWeather, { id: 'call_2', name: 'get_weather', arguments: '{"city":"Rome"}' }]);
    expect(reduceEvents(run.events).layers[0]!.agents[0]!.toolCalls).toEqual(result.toolCalls);
  });

  it('sends stop sequences, seed, top-p, penalties and provider options to the aggregator alone', async () => {
    const a = mockModel('mock:a', 'A');
    const agg = mockModel('mock:agg', 'final');
    await runMoA({ layers: 2, proposers: [a], aggregator: agg }, 'Q', {
      final: { stopSequences: ['END'], seed: 7, topP: 0.9, presencePenalty: 0.5, frequencyPenalty: 0.25, providerOptions: { openai: { user: 'u-1' } } },
    });
    expect(agg.calls[0]!.options).toMatchObject({
      stopSequences: ['END'],
      seed: 7,
      topP: 0.9,
      presencePenalty: 0.5,
      frequencyPenalty: 0.25,
      providerOptions: { openai: { user: 'u-1' } },
    });
    expect(a.calls[0]!.options).not.toHaveProperty('seed');
    expect(a.calls[0]!.options).not.toHaveProperty('stopSequences');
  });

  it('refuses before any call when a model that may write the answer cannot take tools', () => {
    const preset = resolvePreset({ layers: 1, aggregator: { model: 'good:agg', fallbacks: ['local:tiny.gguf'] } });
    const resolved = (label: string, type: 'openai' | 'local'): ResolvedModel =>
      ({ label, provider: label.split(':')[0]!, modelId: label.split(':')[1]!, capabilities: providerCapabilities(type, label.split(':')[0]!) }) as ResolvedModel;
    const models = new Map([
      ['good:agg', resolved('good:agg', 'openai')],
      ['local:tiny.gguf', resolved('local:tiny.gguf', 'local')],
    ]);
    const error = (() => {
      try {
        checkFinalTools(preset, models);
      } catch (caught) {
        return caught as ConfigError;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error).toMatchObject({ code: 'tools_unsupported', path: 'aggregator.fallbacks[0]' });
    expect(error!.message).toContain('local:tiny.gguf at aggregator.fallbacks[0] cannot call tools');
  });
});

describe('a conversation with tool calls', () => {
  const longResult = `BEGIN ${'x'.repeat(10_000)} END`;
  const conversation: ChatMessage[] = [
    { role: 'user', content: 'What is the weather in Paris?' },
    { role: 'assistant', content: '', toolCalls: [callWeather] },
    { role: 'tool', toolCallId: 'call_1', toolName: 'get_weather', content: longResult },
  ];

  it('the aggregator with tools sees tool calls and results as such; proposers see them as text, long results cut', async () => {
    const a = mockModel('mock:a', 'It is sunny, say so.');
    const agg = mockModel('mock:agg', 'It is sunny in Paris.');
    await runMoA({ layers: 2, proposers: [a], aggregator: agg }, conversation, { final: { tools: [weatherTool] }, referenceMemory: createReferenceMemory() });

    const aggregatorPrompt = agg.calls[0]!.options.prompt;
    expect(aggregatorPrompt.map((message) => message.role)).toEqual(['system', 'user', 'assistant', 'tool']);
    expect(aggregatorPrompt[2]!.content).toEqual([{ type: 'tool-call', toolCallId: 'call_1', toolName: 'get_weather', input: { city: 'Paris' } }]);
    expect(aggregatorPrompt[3]!.content).toEqual([{ type: 'tool-result', toolCallId: 'call_1', toolName: 'get_weather', output: { type: 'text', value: longResult } }]);

    const proposerTurns = turnsOf(a.calls[0]!.options);
    expect(proposerTurns.map((turn) => turn.role)).toEqual(['user', 'assistant', 'user']);
    expect(proposerTurns[1]!.text).toBe('[called tool get_weather with {"city":"Paris"}]');
    expect(proposerTurns[2]!.text).toMatch(/^Tool results:\n\n\[get_weather returned\]\nBEGIN x+\n… \[\d+ characters left out\] …\nx+ END$/);
    expect(proposerTurns[2]!.text.length).toBeLessThan(4_200);
    expect(a.calls[0]!.options.prompt.some((message) => message.role === 'tool')).toBe(false);
  });

  it('inside a tool loop the proposers are not run again: the aggregator reuses the references of the user turn', async () => {
    const memory = createReferenceMemory();
    const a = mockModel('mock:a', 'Proposer A: use the tool.');
    const b = mockModel('mock:b', 'Proposer B: ask for Paris.');
    const agg = mockModel('mock:agg', ({ index }) => (index === 0 ? { text: '', toolCalls: [callWeather] } : 'It is sunny in Paris.'));
    const preset = { layers: 2, proposers: [a, b], aggregator: agg };
    const options = { final: { tools: [weatherTool] }, referenceMemory: memory };

    const first = await runMoA(preset, 'What is the weather in Paris?', options);
    expect(first.toolCalls).toEqual([callWeather]);
    const step = streamMoA(preset, [...conversation.slice(0, 2), { role: 'tool', toolCallId: 'call_1', toolName: 'get_weather', content: 'sunny, 21 °C' }], options);
    const second = await step.result;

    expect(second.text).toBe('It is sunny in Paris.');
    expect(a.calls).toHaveLength(1);
    expect(b.calls).toHaveLength(1);
    expect(ofType(step.events, 'layer-skipped')).toEqual([expect.objectContaining({ layer: 0, reason: 'tool-loop' })]);
    expect(second.layers[0]).toMatchObject({ status: 'skipped', skipped: { reason: 'tool-loop' } });
    expect(second.layers[0]!.agents.every((agent) => agent.status === 'skipped')).toBe(true);
    expect(systemText(agg.calls[1]!.options)).toContain('Proposer A: use the tool.');
    expect(systemText(agg.calls[1]!.options)).toContain('Proposer B: ask for Paris.');

    // toolLoop: 'rerun' asks the proposers again at every step.
    await runMoA(preset, [...conversation.slice(0, 2), { role: 'tool', toolCallId: 'call_1', toolName: 'get_weather', content: 'sunny' }], {
      ...options,
      toolLoop: 'rerun',
    });
    expect(a.calls).toHaveLength(2);
  });
});

describe('structured output', () => {
  const schema = { type: 'object' as const, properties: { city: { type: 'string' as const }, celsius: { type: 'number' as const } }, required: ['city', 'celsius'] };

  it('an answer that does not match the schema fails its attempt and is retried; a fenced answer is unfenced', async () => {
    const agg = mockModel('mock:agg', ({ index }) => (index === 0 ? '{"city": "Paris"}' : '```json\n{"city": "Paris", "celsius": 21}\n```'));
    const run = streamMoA({ layers: 1, aggregator: agg }, 'Weather as JSON', { ...fast, stream: 'final', final: { responseFormat: { type: 'json', schema } } });
    const result = await run.result;

    expect(result.text).toBe('{"city": "Paris", "celsius": 21}');
    expect(agg.calls.map((call) => call.mode)).toEqual(['generate', 'generate']); // held back, then shown whole
    expect(agg.calls[0]!.options.responseFormat).toEqual({ type: 'json', schema });
    // Said in the instruction too, for providers that cannot enforce a schema.
    expect(systemText(agg.calls[0]!.options)).toContain(`matches this JSON Schema:\n${JSON.stringify(schema)}`);
    const [retry] = ofType(run.events, 'agent-retry');
    expect(retry!.error).toMatchObject({ code: 'invalid_output' });
    expect(retry!.error.message).toContain('does not match the response schema at celsius');
    expect(ofType(run.events, 'agent-delta').map((event) => event.delta)).toEqual(['{"city": "Paris", "celsius": 21}']);
  });

  it('json without a schema must at least be a JSON object', async () => {
    const agg = mockModel('mock:agg', ({ index }) => (index === 0 ? 'sure! here it is' : '{"ok": true}'));
    const result = await runMoA({ layers: 1, aggregator: agg }, 'JSON please', { ...fast, final: { responseFormat: { type: 'json' } } });
    expect(result.text).toBe('{"ok": true}');
    expect(result.layers[0]!.agents[0]!.errors[0]!.message).toContain('not valid JSON');
  });
});

describe('samples', () => {
  it('n answers over one set of references: the final layer runs n times, each a choice', async () => {
    const a = mockModel('mock:a', 'ref A');
    const agg = mockModel('mock:agg', ({ index }) => `answer ${index + 1}`);
    const run = streamMoA({ layers: 2, proposers: [a], aggregator: agg }, 'Q', { final: { samples: 3 } });
    const result = await run.result;
    expect(a.calls).toHaveLength(1);
    expect(agg.calls).toHaveLength(3);
    expect(new Set(agg.calls.map((call) => systemText(call.options))).size).toBe(1);
    expect(result.choices?.map((choice) => [choice.index, choice.text]).sort()).toEqual(
      [
        [0, 'answer 1'],
        [1, 'answer 2'],
        [2, 'answer 3'],
      ].sort(),
    );
    expect(result.text).toBe(result.choices![0]!.text);
  });

  it('refuses a samples count outside 1..16', () => {
    expect(() => streamMoA({ layers: 1, aggregator: mockModel('mock:agg', 'x') }, 'Q', { final: { samples: 0 } })).toThrow(/final.samples/);
  });
});

describe('a provider that drops tool calls when streaming (Ollama)', () => {
  it('is called without streaming when it has tools, and its answer still reaches the watcher', async () => {
    const agg = mockModel('ollama:llama3.2', { text: 'Calling.', toolCalls: [callWeather] });
    const registry = mockRegistry({ 'ollama:llama3.2': agg });
    const original = registry.resolve.bind(registry);
    registry.resolve = (model, path) => ({ ...original(model, path), capabilities: providerCapabilities('ollama', 'ollama') });
    const run = streamMoA({ layers: 1, aggregator: 'ollama:llama3.2' }, 'Weather?', { registry, stream: 'final', final: { tools: [weatherTool] } });
    const result = await run.result;
    expect(agg.calls.map((call) => call.mode)).toEqual(['generate']);
    expect(ofType(run.events, 'agent-delta').map((event) => event.delta)).toEqual(['Calling.']);
    expect(ofType(run.events, 'agent-tool-call-delta')).toEqual([expect.objectContaining({ index: 0, toolCallId: 'call_1', argumentsDelta: '{"city":"Paris"}' })]);
    expect(result.toolCalls).toEqual([callWeather]);
  });
});
