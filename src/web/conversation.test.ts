import { describe, expect, it } from 'vitest';
import type { ChatMessage } from '../core/events.js';
import { conversationAfter, lastUserText, nextRequestMessages, visibleTurns, withoutLastUserTurn } from './conversation.js';

const firstTurn: ChatMessage[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'What is 2+2?' },
];

describe('conversation', () => {
  it('continues after a successful run with its question and answer', () => {
    const history = conversationAfter({ messages: firstTurn, status: 'done', text: '4' });
    expect(history).toEqual([...firstTurn, { role: 'assistant', content: '4' }]);
    expect(nextRequestMessages(history, 'And 3+3?')).toEqual([...firstTurn, { role: 'assistant', content: '4' }, { role: 'user', content: 'And 3+3?' }]);
  });

  it('drops the question of a failed or stopped run, keeping the turns before it', () => {
    const second = nextRequestMessages([...firstTurn, { role: 'assistant', content: '4' }], 'And 3+3?');
    expect(conversationAfter({ messages: second, status: 'failed', text: '' })).toEqual([...firstTurn, { role: 'assistant', content: '4' }]);
    expect(conversationAfter({ messages: firstTurn, status: 'running', text: '' })).toEqual([{ role: 'system', content: 'Be brief.' }]);
  });

  it('finds the current question and the earlier turns to show (system prompts hidden)', () => {
    const messages = nextRequestMessages([...firstTurn, { role: 'assistant', content: '4' }], 'And 3+3?');
    expect(lastUserText(messages)).toBe('And 3+3?');
    expect(visibleTurns(messages)).toEqual([
      { role: 'user', content: 'What is 2+2?' },
      { role: 'assistant', content: '4' },
    ]);
    expect(withoutLastUserTurn(messages)).toHaveLength(3);
    expect(lastUserText([{ role: 'system', content: 'x' }])).toBe('');
    expect(visibleTurns(firstTurn)).toEqual([]);
  });
});
