// Fixtures for the server tests: a fake LLM server, and `startServer` on 127.0.0.1 (random port)
// serving presets whose models live on that fake server.
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { PresetInput, ProviderSettings } from '../../src/core/config-schema.js';
import { startServer, type RunningServer, type StartServerOptions } from '../../src/server/start-server.js';
import { startFakeLLMServer, type FakeLLMServer, type FakeLogEntry } from '../support/fake-llm-server.js';

/** The fake provider's key: it must never show up in a response. */
export const UPSTREAM_SECRET = 'sk-upstream-SECRET-0987654321';

/** Two proposers and an aggregator; `solo` is the aggregator alone. */
export const TEST_PRESETS: Record<string, PresetInput> = {
  duo: { layers: 2, proposers: ['fake:proposer-a', 'fake:proposer-b'], aggregator: 'fake:aggregator', temperature: 0.7 },
  solo: { layers: 1, aggregator: 'fake:aggregator' },
};

export interface ServerSuite {
  readonly fake: FakeLLMServer;
  readonly server: RunningServer;
  /** The server's base URL, e.g. http://127.0.0.1:PORT */
  readonly url: string;
}

export function useServerSuite(
  options: Partial<StartServerOptions> & {
    apiKey?: string | null;
    prices?: Record<string, { input: number; output: number }>;
    presets?: Record<string, PresetInput>;
    providers?: Record<string, ProviderSettings>;
  } = {},
): ServerSuite {
  const { prices, presets, providers, ...serverOptions } = options;
  const suite = {} as { fake: FakeLLMServer; server: RunningServer; url: string };
  beforeAll(async () => {
    suite.fake = await startFakeLLMServer();
    suite.server = await startServer({
      host: '127.0.0.1',
      port: 0,
      config: {
        presets: { ...TEST_PRESETS, ...presets },
        providers: { fake: { type: 'openai-compatible', baseURL: suite.fake.url, apiKeyEnv: 'FAKE_KEY' }, ...providers },
        defaultPreset: 'duo',
        ...(prices ? { prices } : {}),
      },
      env: { FAKE_KEY: UPSTREAM_SECRET },
      apiKey: null,
      runOptions: { retryBaseDelayMs: 1, retryMaxDelayMs: 5 },
      ...serverOptions,
    });
    suite.url = suite.server.url;
  });
  beforeEach(() => {
    suite.fake.reset();
    suite.fake.setDefaultBehavior({ tokens: 8 });
  });
  afterAll(async () => {
    await suite.server?.close({ drainTimeoutMs: 0 });
    await suite.fake?.close();
  });
  return suite;
}

/** Words in a message content, the way the fake server counts prompt tokens. */
function words(content: unknown): number {
  const text = typeof content === 'string' ? content : Array.isArray(content) ? content.map((part: { text?: string }) => part.text ?? '').join(' ') : '';
  return text.match(/\S+/g)?.length ?? 0;
}

/** The prompt tokens the fake server reported for a logged request. */
export function promptTokens(entry: FakeLogEntry): number {
  return entry.messages.reduce((sum, message) => sum + words(message.content), 0);
}

/** The conversation a logged request carried, system message dropped. */
export function turns(entry: FakeLogEntry): Array<{ role: string; content: string }> {
  return entry.messages
    .filter((message) => message.role !== 'system')
    .map((message) => ({ role: message.role, content: typeof message.content === 'string' ? message.content : JSON.stringify(message.content) }));
}

export function systemOf(entry: FakeLogEntry): string {
  return entry.messages
    .filter((message) => message.role === 'system')
    .map((message) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content)))
    .join('\n');
}

/** The keep-alive comment a streamed reply starts with and repeats while it is quiet. */
export const KEEP_ALIVE = ': keep-alive';

/** SSE frames of a body, checking the framing (every frame ends with a blank line). */
function sseFrames(body: string): string[] {
  if (!body.endsWith('\n\n')) throw new Error(`SSE body does not end with a blank line: ${JSON.stringify(body.slice(-40))}`);
  return body.slice(0, -2).split('\n\n');
}

/** Parse an SSE body into its `data:` payloads (keep-alive comments skipped), checking the framing on the way. */
export function ssePayloads(body: string): string[] {
  return sseFrames(body)
    .filter((frame) => frame !== KEEP_ALIVE)
    .map((frame) => {
      if (!frame.startsWith('data: ') || frame.includes('\n')) throw new Error(`not a single-line data frame: ${JSON.stringify(frame)}`);
      return frame.slice('data: '.length);
    });
}

/** Parse an SSE body of named events (`event: x` + `data: {...}`), keep-alive comments skipped. */
export function sseEvents(body: string): Array<{ event: string; data: Record<string, unknown> }> {
  return sseFrames(body)
    .filter((frame) => frame !== KEEP_ALIVE)
    .map((frame) => {
      const match = /^event: ([^\n]+)\ndata: ([^\n]*)$/.exec(frame);
      if (!match) throw new Error(`not an "event:" + single-line "data:" frame: ${JSON.stringify(frame)}`);
      return { event: match[1]!, data: JSON.parse(match[2]!) as Record<string, unknown> };
    });
}
