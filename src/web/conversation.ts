/**
 * Multi-turn chat on the page: the messages the next request sends, derived
 * from the last run. A run's `run-start` carries the conversation it was given,
 * so the same rules serve a live run and a replayed trace.
 */
import type { ChatMessage } from '../core/events.js';
import type { MoAResult } from '../core/reducer.js';

/** The conversation to continue after `result`: its messages plus the answer when it succeeded. */
export function conversationAfter(result: Pick<MoAResult, 'messages' | 'status' | 'text'>): ChatMessage[] {
  if (result.status === 'done') return [...result.messages, { role: 'assistant', content: result.text }];
  // A failed or stopped turn is dropped: the conversation is what came before its question.
  return withoutLastUserTurn(result.messages);
}

/** The messages before the last user message (the turns a run continued from). */
export function withoutLastUserTurn(messages: readonly ChatMessage[]): ChatMessage[] {
  const index = lastUserIndex(messages);
  return index === -1 ? [...messages] : messages.slice(0, index);
}

/** The last user message's text ('' when there is none): the question a run answers. */
export function lastUserText(messages: readonly ChatMessage[]): string {
  const index = lastUserIndex(messages);
  return index === -1 ? '' : (messages[index]?.content ?? '');
}

/** The request messages for a new question. */
export function nextRequestMessages(history: readonly ChatMessage[], prompt: string): ChatMessage[] {
  return [...history, { role: 'user', content: prompt }];
}

/** Earlier turns to show above the current one: user and assistant messages only, system prompts hidden. */
export function visibleTurns(messages: readonly ChatMessage[]): ChatMessage[] {
  return withoutLastUserTurn(messages).filter((message) => message.role !== 'system');
}

function lastUserIndex(messages: readonly ChatMessage[]): number {
  for (let index = messages.length - 1; index >= 0; index--) {
    if (messages[index]?.role === 'user') return index;
  }
  return -1;
}
