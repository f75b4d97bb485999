// Nothing a client sends is silently dropped: every Chat Completions, Responses and Messages field
// this server does not apply is refused with a 400 that names it, before any model is called.
import { describe, expect, it } from 'vitest';
import { useServerSuite } from './server-suite.js';

const suite = useServerSuite({
  env: { FAKE_KEY: 'sk-upstream-SECRET-0987654321', MOA_MODELS_DIR: '/work/shared/models' },
  presets: { fallbacklocal: { layers: 2, proposers: ['fake:proposer-a'], aggregator: { model: 'fake:aggregator', fallbacks: ['local:stories260K.gguf'] } } },
});

async function refusal(path: string, body: Record<string, unknown>): Promise<{ status: number; param: string | null; code: string | null; message: string }> {
  const response = await fetch(`${suite.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await response.json()) as { error: { param?: string | null; code?: string | null; message: string } };
  return { status: response.status, param: json.error.param ?? null, code: json.error.code ?? null, message: json.error.message };
}

const chat = { model: 'duo', messages: [{ role: 'user', content: 'Hi' }] };
const chatRefusals: Array<[string, Record<string, unknown>, string]> = [
  ['functions', { functions: [{ name: 'f' }] }, 'functions'],
  ['function_call', { function_call: 'auto' }, 'function_call'],
  ['logprobs', { logprobs: true }, 'logprobs'],
  ['top_logprobs', { top_logprobs: 2 }, 'top_logprobs'],
  ['verbosity', { verbosity: 'low' }, 'verbosity'],
  ['service_tier', { service_tier: 'flex' }, 'service_tier'],
  ['prompt_cache_key', { prompt_cache_key: 'k' }, 'prompt_cache_key'],
  ['safety_identifier', { safety_identifier: 'u' }, 'safety_identifier'],
  ['metadata', { metadata: { a: 'b' } }, 'metadata'],
  ['store: true', { store: true }, 'store'],
  ['audio', { audio: { voice: 'alloy', format: 'mp3' } }, 'audio'],
  ['modalities with audio', { modalities: ['text', 'audio'] }, 'modalities[1]'],
  ['prediction', { prediction: { type: 'content', content: 'x' } }, 'prediction'],
  ['web_search_options', { web_search_options: {} }, 'web_search_options'],
  ['a participant name', { messages: [{ role: 'user', content: 'Hi', name: 'sam' }] }, 'messages[0].name'],
  ['tool_choice without tools', { tool_choice: 'required' }, 'tool_choice'],
  [
    'a tool_choice naming no tool',
    { tools: [{ type: 'function', function: { name: 'a' } }], tool_choice: { type: 'function', function: { name: 'b' } } },
    'tool_choice.function.name',
  ],
  ['an unknown field', { temperature_boost: 2 }, 'temperature_boost'],
  ['an unknown message field', { messages: [{ role: 'user', content: 'Hi', mood: 'happy' }] }, 'messages[0].mood'],
];

describe('Chat Completions fields that are not applied are refused by name', () => {
  for (const [name, fields, param] of chatRefusals) {
    it(`${name} → 400 naming ${param}`, async () => {
      const error = await refusal('/v1/chat/completions', { ...chat, ...fields });
      expect(error.status, error.message).toBe(400);
      expect(error.param).toBe(param);
      expect(error.message).toContain(param.replace(/\[\d+\]$/, ''));
      expect(suite.fake.log).toHaveLength(0);
    });
  }

  it('tools with a fallback that cannot call tools → 400 naming the fallback', async () => {
    const error = await refusal('/v1/chat/completions', { ...chat, model: 'fallbacklocal', tools: [{ type: 'function', function: { name: 'a' } }] });
    expect(error).toMatchObject({ status: 400, param: 'tools', code: 'tools_unsupported' });
    expect(error.message).toContain('local:stories260K.gguf');
    expect(error.message).toContain('fallbacks[0]');
    expect(suite.fake.log).toHaveLength(0);
  });

  it('null means "not sent", as OpenAI clients send it', async () => {
    const response = await fetch(`${suite.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ...chat, top_p: null, stop: null, tools: null, functions: null, metadata: null, user: null, n: null }),
    });
    expect(response.status).toBe(200);
  });
});

describe('Responses and Messages fields that are not applied are refused by name', () => {
  const responses = { model: 'duo', input: 'Hi' };
  const messages = { model: 'duo', max_tokens: 50, messages: [{ role: 'user', content: 'Hi' }] };
  const cases: Array<[string, string, Record<string, unknown>, string]> = [
    ['/v1/responses', 'conversation', { ...responses, conversation: 'conv_1' }, 'conversation'],
    ['/v1/responses', 'truncation auto', { ...responses, truncation: 'auto' }, 'truncation'],
    ['/v1/responses', 'include', { ...responses, include: ['reasoning.encrypted_content'] }, 'include[0]'],
    ['/v1/responses', 'an item_reference', { ...responses, input: [{ type: 'item_reference', id: 'msg_1' }] }, 'input[0].type'],
    ['/v1/responses', 'an orphan function_call_output', { ...responses, input: [{ type: 'function_call_output', call_id: 'c1', output: 'x' }] }, 'input[0].call_id'],
    ['/v1/responses', 'empty input', { ...responses, input: [] }, "'input'"],
    [
      '/v1/responses',
      'input ending with the assistant',
      {
        ...responses,
        input: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Hello' },
        ],
      },
      'input[1]',
    ],
    [
      '/v1/messages',
      'an assistant prefill',
      {
        ...messages,
        messages: [
          { role: 'user', content: 'Hi' },
          { role: 'assistant', content: 'Sure,' },
        ],
      },
      'messages[1].role',
    ],
    ['/v1/messages', 'inference_geo', { ...messages, inference_geo: 'eu' }, 'inference_geo'],
    ['/v1/messages', 'context_management', { ...messages, context_management: {} }, 'context_management'],
    [
      '/v1/messages',
      'an orphan tool_result',
      { ...messages, messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 't1', content: 'x' }] }] },
      'messages[0].content[0].tool_use_id',
    ],
  ];
  for (const [path, name, body, param] of cases) {
    it(`${path}: ${name} → 400 naming ${param}`, async () => {
      const response = await fetch(`${suite.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      const text = await response.text();
      expect(response.status, text).toBe(400);
      expect(text).toContain(param);
      expect(suite.fake.log).toHaveLength(0);
    });
  }
});
