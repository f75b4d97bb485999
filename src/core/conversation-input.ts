/**
 * The conversation a run is asked about, checked and normalized: a prompt string or a list of
 * messages ending with the user's turn, or — inside a client's own tool loop — with the results of
 * the tool calls the final aggregator asked for. Every problem is a ConfigError naming the message.
 */
import { ConfigError } from '../util/errors.js';
import type { ChatMessage, ToolCall } from './events.js';

export type MoAInput = string | readonly ChatMessage[] | { messages: readonly ChatMessage[] };

const ROLES = ['system', 'user', 'assistant', 'tool'];

function invalid(message: string, path: string): ConfigError {
  return new ConfigError(message, { code: 'invalid_input', path });
}

function toolCallsAt(value: unknown, path: string): ToolCall[] {
  if (!Array.isArray(value)) throw invalid(`${path} must be a list of tool calls`, path);
  return value.map((call: unknown, index) => {
    const at = `${path}[${index}]`;
    const record = (typeof call === 'object' && call !== null ? call : {}) as Record<string, unknown>;
    for (const field of ['id', 'name', 'arguments']) {
      if (typeof record[field] !== 'string') throw invalid(`${at}.${field} must be a string`, `${at}.${field}`);
    }
    return { id: record.id as string, name: record.name as string, arguments: record.arguments as string };
  });
}

export function normalizeInput(input: MoAInput): ChatMessage[] {
  const list = typeof input === 'string' ? [{ role: 'user' as const, content: input }] : 'messages' in input ? input.messages : input;
  if (!Array.isArray(list) || list.length === 0) {
    throw invalid('The conversation is empty: give a prompt or at least one user message', 'messages');
  }
  const calls = new Map<string, ToolCall>();
  const messages = list.map((message: ChatMessage, index): ChatMessage => {
    const at = `messages[${index}]`;
    if (!message || !ROLES.includes(message.role)) {
      throw invalid(`${at}.role must be "system", "user", "assistant" or "tool"`, `${at}.role`);
    }
    if (typeof message.content !== 'string') throw invalid(`${at}.content must be a string`, `${at}.content`);
    if (message.role === 'assistant') {
      if (message.toolCalls === undefined || message.toolCalls.length === 0) return { role: 'assistant', content: message.content };
      const toolCalls = toolCallsAt(message.toolCalls, `${at}.toolCalls`);
      for (const call of toolCalls) calls.set(call.id, call);
      return { role: 'assistant', content: message.content, toolCalls };
    }
    if (message.role === 'tool') {
      if (typeof message.toolCallId !== 'string') throw invalid(`${at}.toolCallId must be a string`, `${at}.toolCallId`);
      const call = calls.get(message.toolCallId);
      if (!call) {
        throw invalid(`${at} answers tool call "${message.toolCallId}", but no earlier assistant message made a call with that id`, `${at}.toolCallId`);
      }
      return { role: 'tool', toolCallId: message.toolCallId, toolName: message.toolName || call.name, content: message.content };
    }
    return { role: message.role, content: message.content };
  });
  const lastIndex = messages.length - 1;
  const last = messages[lastIndex]!;
  if (last.role !== 'user' && last.role !== 'tool') {
    throw invalid(`The last message must be the user's turn or a tool result (found "${last.role}" at messages[${lastIndex}])`, `messages[${lastIndex}].role`);
  }
  if (last.role === 'user' && !last.content.trim()) throw invalid('The prompt is empty', `messages[${lastIndex}].content`);
  return messages;
}

/** True when the conversation ends inside a tool loop: the last messages are tool results. */
export function endsWithToolResults(messages: readonly ChatMessage[]): boolean {
  return messages[messages.length - 1]?.role === 'tool';
}

/** The conversation up to and including its last user turn (what a tool loop's steps share). */
export function upToLastUserTurn(messages: readonly ChatMessage[]): ChatMessage[] {
  let index = messages.length - 1;
  while (index >= 0 && messages[index]!.role !== 'user') index--;
  return messages.slice(0, index + 1);
}
