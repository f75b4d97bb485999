/**
 * The fake OpenAI-compatible provider for the benches that need more than test/support's
 * standalone server: answers that continue where the caller's text stops, and the server's
 * request log sent back to the bench.
 *
 * Config: env FAKE_LLM_CONFIG (JSON: { behaviors?, defaultBehavior? }, as for
 * test/support/fake-llm-server-main.ts). A behavior with `continues: true` answers like a model
 * that writes `tokens` words in all: `[model] w1 w2 … w(tokens-1)`; a request whose last message
 * is an assistant message (a prefill: a staircase part, an early start's continuation, a retry
 * after a broken stream) gets the words after the ones already written, and nothing once all
 * are. With `max_tokens` the fake server cuts the answer there (finish reason `length`).
 *
 * Prints `FAKE_LLM_URL=<url>` once listening. Over the IPC channel it answers `{ type: 'log' }`
 * with `{ type: 'log', entries }` (BenchLogEntry, below) and `{ type: 'clear' }` with
 * `{ type: 'cleared' }` (the log is emptied; behaviours and random states are kept).
 * Exits on SIGTERM/SIGINT or when the parent goes away.
 */
import { startFakeLLMServer, type FakeBehavior, type FakeRequest } from '../../test/support/fake-llm-server.js';

/** One request as the bench sees it: times in ms of this process's performance.now(). */
export interface BenchLogEntry {
  model: string;
  stream: boolean;
  maxTokens?: number;
  startedAt: number;
  firstByteAt?: number;
  endedAt?: number;
  outcome: 'pending' | 'ok' | 'failed' | 'aborted';
  status?: number;
  /** Words in every message of the request (what the fake server counts as prompt tokens). */
  promptWords: number;
  /** The last message was the caller's own text, to be continued. */
  continuation: boolean;
  /** `N` of a user message starting "Prompt N:" (the batch bench's items), when there is one. */
  item?: number;
}

type BenchBehavior = FakeBehavior & { continues?: boolean };

function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return (content as Array<{ text?: unknown }>).map((part) => (typeof part.text === 'string' ? part.text : '')).join(' ');
}

const countWords = (text: string): number => text.match(/\S+/g)?.length ?? 0;

/** The answer of a `continues` model: all `total` words, or the ones after those already written. */
function continuingText(total: number): (request: FakeRequest) => string {
  return (request) => {
    const last = request.messages[request.messages.length - 1];
    if (last?.role !== 'assistant') return [`[${request.model}]`, ...Array.from({ length: Math.max(0, total - 1) }, (_, index) => `w${index + 1}`)].join(' ');
    const written = countWords(messageText(last.content));
    const rest: string[] = [];
    for (let index = written; index < total; index++) rest.push(`w${index}`);
    // A continuation starts with the space a tokenizer would put before the next word.
    return rest.length > 0 ? ` ${rest.join(' ')}` : '';
  };
}

function withText(behavior: BenchBehavior): FakeBehavior {
  const { continues, ...rest } = behavior;
  return continues ? { ...rest, text: continuingText(behavior.tokens ?? 20) } : rest;
}

const raw = process.env['FAKE_LLM_CONFIG'] ?? '{}';
const config = JSON.parse(raw) as { behaviors?: Record<string, BenchBehavior>; defaultBehavior?: BenchBehavior };
const behaviors = Object.fromEntries(Object.entries(config.behaviors ?? {}).map(([model, behavior]) => [model, withText(behavior)]));
const server = await startFakeLLMServer({
  host: '127.0.0.1',
  behaviors,
  ...(config.defaultBehavior ? { defaultBehavior: withText(config.defaultBehavior) } : {}),
});
process.stdout.write(`FAKE_LLM_URL=${server.url}\n`);

function compact(): BenchLogEntry[] {
  return server.log.map((entry) => {
    const texts = entry.messages.map((message) => messageText(message.content));
    const user = entry.messages.find((message) => message.role === 'user');
    const item = user ? /^Prompt (\d+):/.exec(messageText(user.content))?.[1] : undefined;
    return {
      model: entry.model,
      stream: entry.stream,
      ...(entry.maxTokens !== undefined ? { maxTokens: entry.maxTokens } : {}),
      startedAt: entry.startedAt,
      ...(entry.firstByteAt !== undefined ? { firstByteAt: entry.firstByteAt } : {}),
      ...(entry.endedAt !== undefined ? { endedAt: entry.endedAt } : {}),
      outcome: entry.outcome,
      ...(entry.status !== undefined ? { status: entry.status } : {}),
      promptWords: texts.reduce((sum, text) => sum + countWords(text), 0),
      continuation: entry.messages[entry.messages.length - 1]?.role === 'assistant',
      ...(item !== undefined ? { item: Number(item) } : {}),
    };
  });
}

process.on('message', (message: { type?: string }) => {
  if (message.type === 'log') process.send?.({ type: 'log', entries: compact() });
  else if (message.type === 'clear') {
    server.log.length = 0;
    process.send?.({ type: 'cleared' });
  }
});

let closing = false;
function shutdown(): void {
  if (closing) return;
  closing = true;
  server.close().then(
    () => process.exit(0),
    () => process.exit(1),
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
process.on('disconnect', shutdown);
