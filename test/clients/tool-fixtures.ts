// What the tool tests share: an aggregator (on the fake LLM server) that calls the client's tool
// while the request has tools and the conversation does not end with the tool's result, and then
// answers with what the tool said; and reading the fake's log by role in the run.
import type { FakeBehavior, FakeLogEntry, FakeToolCall } from '../support/fake-llm-server.js';

export const WEATHER_TOOL_NAME = 'get_weather';
export const WEATHER_PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string', description: 'The city' } },
  required: ['city'],
  additionalProperties: false,
} as const;

function lastRole(entry: { messages: Array<{ role: string }> }): string | undefined {
  return entry.messages[entry.messages.length - 1]?.role;
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) return content.map((part: { text?: string }) => part.text ?? '').join('');
  return '';
}

/** Calls `get_weather` for Paris (once per answer, or `calls` as given), then reports the tool's result. */
export function weatherAggregator(calls: FakeToolCall[] = [{ name: WEATHER_TOOL_NAME, arguments: { city: 'Paris' } }]): FakeBehavior {
  return {
    toolCalls: (request) => (Array.isArray(request.body['tools']) && lastRole(request) !== 'tool' ? calls : undefined),
    text: (request) => {
      const last = request.messages[request.messages.length - 1];
      return last?.role === 'tool' ? `The tool said: ${textOf(last.content)}` : 'No tool needed.';
    },
  };
}

export function proposerCalls(log: readonly FakeLogEntry[]): FakeLogEntry[] {
  return log.filter((entry) => entry.model.startsWith('proposer'));
}

export function aggregatorCalls(log: readonly FakeLogEntry[]): FakeLogEntry[] {
  return log.filter((entry) => entry.model === 'aggregator');
}

/** True when no proposer request carried tools, tool_choice or a response format (they advise in text). */
export function proposersSawNoTools(log: readonly FakeLogEntry[]): boolean {
  return proposerCalls(log).every(
    (entry) =>
      entry.tools === undefined && entry.toolChoice === undefined && entry.responseFormat === undefined && entry.messages.every((message) => message.role !== 'tool'),
  );
}
