// The built-in `anthropic` and `google` providers over real HTTP: the project's registry builds
// @ai-sdk/anthropic and @ai-sdk/google clients from ANTHROPIC_* / GOOGLE_GENERATIVE_AI_* variables,
// pointed at wire-level fakes of the Messages API and the Gemini API. What each vendor receives
// (keys, system prompt, turns, sampling), what comes back (text, deltas, usage), and how the
// vendors' own errors are retried, honoured and reported — without ever echoing a key.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  buildSynthesisSystem,
  DEFAULT_SYNTHESIS_PROMPT,
  MoARunError,
  runMoA,
  streamMoA,
  type ChatMessage,
  type MoAEvent,
  type MoAResult,
  type PresetInput,
  type RunOptions,
} from '../../src/index.js';
import { startFakeAnthropic, type AnthropicLogEntry, type FakeAnthropicServer } from '../support/fake-anthropic-server.js';
import { startFakeGoogle, type FakeGoogleServer, type GoogleLogEntry } from '../support/fake-google-server.js';

const ANTHROPIC_KEY = 'sk-ant-api03-FAKE-anthropic-SECRET-0123456789';
const GOOGLE_KEY = 'AIzaSy-FAKE-google-SECRET-0123456789';

const CLAUDE = 'claude-sonnet-4-5';
const HAIKU = 'claude-haiku-4-5';
const FLASH = 'gemini-2.5-flash';
const PRO = 'gemini-2.5-pro';

let anthropic: FakeAnthropicServer;
let google: FakeGoogleServer;

beforeAll(async () => {
  [anthropic, google] = await Promise.all([startFakeAnthropic(), startFakeGoogle()]);
});
afterAll(async () => {
  await Promise.all([anthropic?.close(), google?.close()]);
});
beforeEach(() => {
  anthropic.reset();
  google.reset();
});

function env(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    ANTHROPIC_API_KEY: ANTHROPIC_KEY,
    ANTHROPIC_BASE_URL: anthropic.baseURL,
    GOOGLE_GENERATIVE_AI_API_KEY: GOOGLE_KEY,
    GOOGLE_GENERATIVE_AI_BASE_URL: google.baseURL,
    ...overrides,
  };
}

/** Fast backoff (1 ms steps, no jitter) so only a provider's Retry-After makes a retry wait. */
function options(extra: RunOptions = {}): RunOptions {
  return { env: env(), retryBaseDelayMs: 1, random: () => 0, ...extra };
}

/** One call as either vendor received it, in the engine's terms. */
interface VendorCall {
  vendor: 'anthropic' | 'google';
  model: string;
  systemText: string;
  turns: Array<{ role: string; text: string }>;
  temperature: unknown;
  maxTokens: unknown;
  stream: boolean;
  usage?: { inputTokens: number; outputTokens: number };
  answer?: string;
  status?: number;
}

function fromAnthropic(entry: AnthropicLogEntry): VendorCall {
  return {
    vendor: 'anthropic',
    model: `anthropic:${entry.model}`,
    systemText: entry.systemText,
    turns: entry.messages,
    temperature: entry.temperature,
    maxTokens: entry.maxTokens,
    stream: entry.stream,
    ...(entry.usage ? { usage: { inputTokens: entry.usage.input_tokens, outputTokens: entry.usage.output_tokens } } : {}),
    ...(entry.answer !== undefined ? { answer: entry.answer } : {}),
    ...(entry.status !== undefined ? { status: entry.status } : {}),
  };
}

function fromGoogle(entry: GoogleLogEntry): VendorCall {
  return {
    vendor: 'google',
    model: `google:${entry.model}`,
    systemText: entry.systemText,
    // Gemini calls the assistant "model".
    turns: entry.contents.map((content) => ({ role: content.role === 'model' ? 'assistant' : content.role, text: content.text })),
    temperature: entry.generationConfig?.temperature,
    maxTokens: entry.generationConfig?.maxOutputTokens,
    stream: entry.stream,
    ...(entry.usage ? { usage: { inputTokens: entry.usage.promptTokenCount, outputTokens: entry.usage.candidatesTokenCount } } : {}),
    ...(entry.answer !== undefined ? { answer: entry.answer } : {}),
    ...(entry.status !== undefined ? { status: entry.status } : {}),
  };
}

function calls(model: string): VendorCall[] {
  return [...anthropic.log.map(fromAnthropic), ...google.log.map(fromGoogle)].filter((call) => call.model === model);
}

function onlyCall(model: string): VendorCall {
  const found = calls(model);
  expect(found, `calls to ${model}`).toHaveLength(1);
  return found[0]!;
}

/** Neither key may show up anywhere a caller can see: events, result, error. */
function expectNoKeys(...values: unknown[]): void {
  for (const value of values) {
    const text = typeof value === 'string' ? value : value instanceof Error ? `${value.message} ${value.stack ?? ''}` : JSON.stringify(value);
    expect(text).not.toContain(ANTHROPIC_KEY);
    expect(text).not.toContain(GOOGLE_KEY);
  }
}

async function collect(run: ReturnType<typeof streamMoA>): Promise<{ events: MoAEvent[]; result: MoAResult | undefined; error: unknown }> {
  const events: MoAEvent[] = [];
  for await (const event of run) events.push(event);
  try {
    return { events, result: await run.result, error: undefined };
  } catch (error) {
    return { events, result: (error as MoARunError).result, error };
  }
}

const conversation: ChatMessage[] = [
  { role: 'system', content: 'Answer in one paragraph.' },
  { role: 'user', content: 'Why is the sky blue?' },
  { role: 'assistant', content: 'Because air scatters sunlight.' },
  { role: 'user', content: 'Why blue and not violet?' },
];
const expectedTurns = [
  { role: 'user', text: 'Why is the sky blue?' },
  { role: 'assistant', text: 'Because air scatters sunlight.' },
  { role: 'user', text: 'Why blue and not violet?' },
];

describe.each([
  { aggregatorVendor: 'anthropic', aggregator: `anthropic:${HAIKU}` },
  { aggregatorVendor: 'google', aggregator: `google:${PRO}` },
] as const)('2-layer MoA with an anthropic and a google proposer and the $aggregatorVendor aggregator', ({ aggregator }) => {
  const preset: PresetInput = {
    layers: 2,
    proposers: [`anthropic:${CLAUDE}`, `google:${FLASH}`],
    aggregator,
    temperature: 0.3,
    maxTokens: 300,
  };

  it('sends each vendor its key, the conversation, the sampling settings, and the aggregator the references', async () => {
    const run = streamMoA(preset, conversation, options({ stream: 'none' }));
    const { events, result, error } = await collect(run);
    expect(error).toBeUndefined();
    expect(result!.status).toBe('done');

    // Keys: Anthropic's x-api-key + anthropic-version, Google's x-goog-api-key; nothing in the URL, no bearer.
    expect(anthropic.log.length).toBeGreaterThan(0);
    for (const entry of anthropic.log) {
      expect(entry.path).toBe('/v1/messages');
      expect(entry.apiKey).toBe(ANTHROPIC_KEY);
      expect(entry.version).toBe('2023-06-01');
      expect(entry.headers.authorization).toBeUndefined();
      expect(entry.headers['x-goog-api-key']).toBeUndefined();
    }
    expect(google.log.length).toBeGreaterThan(0);
    for (const entry of google.log) {
      expect(entry.path).toBe(`/v1beta/models/${entry.model}:generateContent`);
      expect(entry.query).toBe('');
      expect(entry.apiKey).toBe(GOOGLE_KEY);
      expect(entry.headers['x-api-key']).toBeUndefined();
      expect(entry.headers.authorization).toBeUndefined();
    }

    // Layer 1: each proposer gets the user's system prompt alone and every turn, sampling mapped.
    const claude = onlyCall(`anthropic:${CLAUDE}`);
    const flash = onlyCall(`google:${FLASH}`);
    for (const proposer of [claude, flash]) {
      expect(proposer.systemText).toBe('Answer in one paragraph.');
      expect(proposer.turns).toEqual(expectedTurns);
      expect(proposer.temperature).toBe(0.3);
      expect(proposer.maxTokens).toBe(300);
      expect(proposer.stream).toBe(false);
    }
    // The vendors' own shapes: Anthropic's system as text blocks, Gemini's as systemInstruction parts.
    expect(anthropic.log.find((entry) => entry.model === CLAUDE)!.system).toEqual([{ type: 'text', text: 'Answer in one paragraph.' }]);
    expect(google.log.find((entry) => entry.model === FLASH)!.systemInstruction).toEqual({ parts: [{ text: 'Answer in one paragraph.' }] });
    expect(google.log.find((entry) => entry.model === FLASH)!.contents.map((content) => content.role)).toEqual(['user', 'model', 'user']);

    // Layer 2: the synthesis instruction with both answers as [1], [2] in the system prompt, after the user's.
    const final = onlyCall(aggregator);
    expect(final.systemText).toBe(`Answer in one paragraph.\n\n${buildSynthesisSystem(DEFAULT_SYNTHESIS_PROMPT, [claude.answer!, flash.answer!])}`);
    expect(final.systemText).toContain(`[1]\n${claude.answer!.trim()}`);
    expect(final.systemText).toContain(`[2]\n${flash.answer!.trim()}`);
    expect(final.turns).toEqual(expectedTurns);
    expect(final.temperature).toBe(0.3);
    expect(final.maxTokens).toBe(300);
    if (final.vendor === 'anthropic') {
      expect(anthropic.log.find((entry) => entry.model === HAIKU)!.system).toEqual([{ type: 'text', text: final.systemText }]);
    } else {
      expect(google.log.find((entry) => entry.model === PRO)!.systemInstruction).toEqual({ parts: [{ text: final.systemText }] });
    }

    // Answers and usage as the vendors reported them, summed over every agent.
    expect(result!.text).toBe(final.answer);
    const agents = result!.layers.flatMap((layer) => layer.agents);
    expect(agents.map((agent) => [agent.model, agent.text, agent.usage])).toEqual([claude, flash, final].map((call) => [call.model, call.answer, call.usage]));
    expect(agents.every((agent) => agent.finishReason === 'stop')).toBe(true);
    expect(result!.usage).toEqual({
      inputTokens: claude.usage!.inputTokens + flash.usage!.inputTokens + final.usage!.inputTokens,
      outputTokens: claude.usage!.outputTokens + flash.usage!.outputTokens + final.usage!.outputTokens,
    });
    expect(result!.usage.inputTokens).toBeGreaterThan(0);
    expectNoKeys(events, result);
  });

  it('streams the final answer as several deltas that add up to the text, with the streamed usage', async () => {
    const { events, result, error } = await collect(streamMoA(preset, conversation, options()));
    expect(error).toBeUndefined();
    const final = onlyCall(aggregator);
    expect(final.stream).toBe(true);
    if (final.vendor === 'google') expect(google.log.find((entry) => entry.model === PRO)!.path).toBe(`/v1beta/models/${PRO}:streamGenerateContent`);
    if (final.vendor === 'google') expect(google.log.find((entry) => entry.model === PRO)!.query).toBe('alt=sse');
    expect(calls(`anthropic:${CLAUDE}`)[0]!.stream).toBe(false);
    expect(calls(`google:${FLASH}`)[0]!.stream).toBe(false);

    const deltas = events.flatMap((event) => (event.type === 'agent-delta' ? [event] : []));
    expect(deltas.every((delta) => delta.layer === 1 && delta.agent === 0)).toBe(true);
    expect(deltas.length).toBe(final.answer!.match(/\S+/g)!.length);
    expect(deltas.length).toBeGreaterThan(3);
    expect(deltas.map((delta) => delta.delta).join('')).toBe(final.answer);
    expect(result!.text).toBe(final.answer);

    const aggregatorResult = result!.layers[1]!.agents[0]!;
    expect(aggregatorResult.usage).toEqual(final.usage);
    expect(aggregatorResult.usage.outputTokens).toBe(deltas.length);
    const spent = [`anthropic:${CLAUDE}`, `google:${FLASH}`, aggregator].map((model) => onlyCall(model).usage!);
    expect(result!.usage).toEqual({
      inputTokens: spent.reduce((sum, usage) => sum + usage.inputTokens, 0),
      outputTokens: spent.reduce((sum, usage) => sum + usage.outputTokens, 0),
    });
    const end = events.find((event) => event.type === 'run-end');
    expect(end).toMatchObject({ text: final.answer, usage: result!.usage });
    expectNoKeys(events, result);
  });
});

describe('vendor errors', () => {
  const preset: PresetInput = { layers: 2, proposers: [`anthropic:${CLAUDE}`, `google:${FLASH}`], aggregator: `anthropic:${HAIKU}`, maxTokens: 200 };

  it("a 429 with Anthropic's retry-after is retried after the time it asks for", async () => {
    anthropic.setBehavior(CLAUDE, { failures: [{ status: 429, retryAfter: '1', message: 'Number of request tokens has exceeded your per-minute rate limit' }] });
    const { events, result, error } = await collect(streamMoA(preset, 'Hi', options()));
    expect(error).toBeUndefined();
    const agent = result!.layers[0]!.agents[0]!;
    expect(agent).toMatchObject({ model: `anthropic:${CLAUDE}`, status: 'done', attempts: 2 });
    expect(agent.errors).toHaveLength(1);
    expect(agent.errors[0]).toMatchObject({ code: 'rate_limited', status: 429, retryable: true, requestId: anthropic.log[0]!.requestId });
    expect(agent.errors[0]!.message).toContain('Number of request tokens has exceeded your per-minute rate limit');
    const retries = events.filter((event) => event.type === 'agent-retry');
    expect(retries).toHaveLength(1);
    // Backoff alone would wait ~1 ms here (1 ms base, no jitter): 1000 ms is the header's.
    expect(retries[0]).toMatchObject({ layer: 0, agent: 0, delayMs: 1000 });
    expect(calls(`anthropic:${CLAUDE}`).map((call) => call.status)).toEqual([429, 200]);
    expect(result!.text).toBe(onlyCall(`anthropic:${HAIKU}`).answer);
    expectNoKeys(events, result);
  });

  it('a Gemini 429 is retried after its RetryInfo delay (Google sends no Retry-After header)', async () => {
    google.setBehavior(FLASH, {
      failures: [{ code: 429, retryDelay: '1s', message: 'You exceeded your current quota, please check your plan and billing details.' }],
    });
    const { events, result, error } = await collect(streamMoA(preset, 'Hi', options()));
    expect(error).toBeUndefined();
    const agent = result!.layers[0]!.agents[1]!;
    expect(agent).toMatchObject({ model: `google:${FLASH}`, status: 'done', attempts: 2 });
    expect(agent.errors[0]).toMatchObject({ code: 'rate_limited', status: 429, retryable: true });
    expect(agent.errors[0]!.message).toContain('You exceeded your current quota');
    const retries = events.filter((event) => event.type === 'agent-retry');
    expect(retries).toHaveLength(1);
    expect(retries[0]).toMatchObject({ layer: 0, agent: 1, delayMs: 1000 });
    expect(calls(`google:${FLASH}`).map((call) => call.status)).toEqual([429, 200]);
    expectNoKeys(events, result);
  });

  it('529 overloaded, 500 and 503 are retried, then the answers arrive', async () => {
    anthropic.setBehavior(CLAUDE, { failures: [{ status: 529, message: 'Overloaded' }] });
    anthropic.setBehavior(HAIKU, { failures: [{ status: 500, message: 'Internal server error' }] });
    google.setBehavior(FLASH, { failures: [{ code: 503, message: 'The model is overloaded. Please try again later.' }] });
    const { events, result, error } = await collect(streamMoA(preset, 'Hi', options()));
    expect(error).toBeUndefined();
    expect(result!.status).toBe('done');
    const agents = result!.layers.flatMap((layer) => layer.agents);
    expect(agents.map((agent) => [agent.model, agent.status, agent.attempts, agent.errors.map((info) => [info.status, info.retryable])])).toEqual([
      [`anthropic:${CLAUDE}`, 'done', 2, [[529, true]]],
      [`google:${FLASH}`, 'done', 2, [[503, true]]],
      [`anthropic:${HAIKU}`, 'done', 2, [[500, true]]],
    ]);
    expect(agents[0]!.errors[0]!.message).toContain('Overloaded');
    expect(agents[1]!.errors[0]!.message).toContain('The model is overloaded. Please try again later.');
    expect(agents[2]!.errors[0]!.message).toContain('Internal server error');
    // The references come from the successful second attempts.
    const final = calls(`anthropic:${HAIKU}`).at(-1)!;
    expect(final.systemText).toContain(`[1]\n${calls(`anthropic:${CLAUDE}`).at(-1)!.answer!.trim()}`);
    expect(final.systemText).toContain(`[2]\n${calls(`google:${FLASH}`).at(-1)!.answer!.trim()}`);
    expect(result!.text).toBe(final.answer);
    expectNoKeys(events, result);
  });

  it("an overloaded_error event in the middle of Anthropic's stream is a retryable error with its message", async () => {
    anthropic.setBehavior(HAIKU, { streamError: { afterDeltas: 2, type: 'overloaded_error', message: 'Overloaded' } });
    const { events, result, error } = await collect(streamMoA({ aggregator: `anthropic:${HAIKU}`, maxTokens: 200 }, 'Hi', options()));
    expect(error).toBeUndefined();
    const agent = result!.layers[0]!.agents[0]!;
    expect(agent).toMatchObject({ status: 'done', attempts: 2 });
    expect(agent.errors[0]).toMatchObject({ retryable: true, status: 529 });
    expect(agent.errors[0]!.message).toContain('Overloaded');
    expect(agent.errors[0]!.message).not.toContain('[object Object]');
    const answers = calls(`anthropic:${HAIKU}`);
    expect(answers).toHaveLength(2);
    expect(result!.text).toBe(answers[1]!.answer);
    expectNoKeys(events, result);
  });

  it("a 400 is not retried and fails with the vendor's own message, the echoed key redacted", async () => {
    google.setBehavior(FLASH, { failures: [{ code: 400, message: `API key ${GOOGLE_KEY} not valid for generationConfig.maxOutputTokens` }] });
    anthropic.setBehavior(HAIKU, { failures: [{ status: 400, message: `messages: text content blocks must be non-empty (x-api-key ${ANTHROPIC_KEY})` }] });
    const run = streamMoA(preset, 'Hi', options());
    const { events, result, error } = await collect(run);
    expect(error).toBeInstanceOf(MoARunError);
    expect(result!.status).toBe('failed');

    // The google proposer failed once (no retry), the run went on without it…
    const flash = result!.layers[0]!.agents[1]!;
    expect(flash).toMatchObject({ status: 'failed', attempts: 1 });
    expect(flash.error).toMatchObject({ code: 'provider_error', status: 400, retryable: false, provider: 'google' });
    expect(flash.error!.message).toContain('not valid for generationConfig.maxOutputTokens');
    expect(calls(`google:${FLASH}`)).toHaveLength(1);
    expect(result!.warnings.some((warning) => warning.message.includes('not valid for generationConfig.maxOutputTokens'))).toBe(true);

    // …and the anthropic aggregator's 400 ended it, with Anthropic's message.
    const final = result!.layers[1]!.agents[0]!;
    expect(final).toMatchObject({ status: 'failed', attempts: 1 });
    expect(final.error).toMatchObject({ status: 400, retryable: false, provider: 'anthropic' });
    expect(final.error!.message).toContain('messages: text content blocks must be non-empty');
    expect(calls(`anthropic:${HAIKU}`)).toHaveLength(1);
    expect(result!.error!.message).toContain('messages: text content blocks must be non-empty');
    expect((error as MoARunError).message).toContain('messages: text content blocks must be non-empty');

    // Only the single proposer that answered made it to the aggregator.
    expect(calls(`anthropic:${HAIKU}`)[0]!.systemText).toContain(`[1]\n${onlyCall(`anthropic:${CLAUDE}`).answer!.trim()}`);
    expect(calls(`anthropic:${HAIKU}`)[0]!.systemText).not.toContain('[2]');

    expect(JSON.stringify(events)).toContain('[redacted]');
    expectNoKeys(events, result, error, String(error));
  });

  it('runMoA rejects with the result when the aggregator keeps failing, never showing a key', async () => {
    anthropic.setBehavior(HAIKU, { failures: [{ status: 529 }, { status: 529 }, { status: 529 }] });
    const events: MoAEvent[] = [];
    const error = await runMoA({ aggregator: `anthropic:${HAIKU}`, maxTokens: 100 }, 'Hi', options({ maxRetries: 2, onEvent: (event) => events.push(event) })).catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(MoARunError);
    const agent = (error as MoARunError).result.layers[0]!.agents[0]!;
    expect(agent.attempts).toBe(3);
    expect(agent.errors.map((info) => info.status)).toEqual([529, 529, 529]);
    expect(calls(`anthropic:${HAIKU}`)).toHaveLength(3);
    expectNoKeys(events, (error as MoARunError).result, error);
  });
});

describe('base URLs', () => {
  it.each([
    ['the origin, as Anthropic SDKs and gateways write ANTHROPIC_BASE_URL', () => anthropic.origin, () => google.baseURL],
    ['the /v1 form, with trailing slashes', () => `${anthropic.baseURL}/`, () => `${google.baseURL}/`],
  ])('%s', async (_name, anthropicURL, googleURL) => {
    const result = await runMoA(
      { layers: 2, proposers: [`google:${FLASH}`], aggregator: `anthropic:${HAIKU}`, maxTokens: 50 },
      'Hi',
      options({ env: env({ ANTHROPIC_BASE_URL: anthropicURL(), GOOGLE_GENERATIVE_AI_BASE_URL: googleURL() }) }),
    );
    expect(result.status).toBe('done');
    expect(anthropic.log.map((entry) => entry.path)).toEqual(['/v1/messages']);
    expect(google.log.map((entry) => entry.path)).toEqual([`/v1beta/models/${FLASH}:generateContent`]);
    expect(result.text).toBe(anthropic.log[0]!.answer);
  });

  it('a key from GEMINI_API_KEY reaches Google the same way', async () => {
    const keys = { ...env(), GOOGLE_GENERATIVE_AI_API_KEY: '', GEMINI_API_KEY: GOOGLE_KEY };
    const result = await runMoA({ aggregator: `google:${FLASH}`, maxTokens: 50 }, 'Hi', options({ env: keys }));
    expect(result.status).toBe('done');
    expect(google.log.map((entry) => entry.apiKey)).toEqual([GOOGLE_KEY]);
  });
});
