/**
 * An AI SDK prompt (`LanguageModelV3Prompt`, what generateText/streamText hand a model) as the
 * engine's conversation. Text only for now: files and images are refused with the AI SDK's
 * UnsupportedFunctionalityError, never dropped.
 */
import { UnsupportedFunctionalityError, type LanguageModelV3Prompt } from '@ai-sdk/provider';
import type { ChatMessage } from '../core/events.js';

export function promptMessages(prompt: LanguageModelV3Prompt): ChatMessage[] {
  return prompt.map((message, index): ChatMessage => {
    switch (message.role) {
      case 'system':
        return { role: 'system', content: message.content };
      case 'user':
        return {
          role: 'user',
          content: message.content
            .map((part) => {
              if (part.type === 'text') return part.text;
              throw new UnsupportedFunctionalityError({ functionality: `${part.type} parts in a user message (prompt[${index}]): MoA takes text only` });
            })
            .join('\n'),
        };
      case 'assistant':
        return {
          role: 'assistant',
          content: message.content
            .flatMap((part) => {
              if (part.type === 'text') return [part.text];
              // An earlier answer's reasoning is the model's own scratch work, not part of the conversation.
              if (part.type === 'reasoning') return [];
              throw new UnsupportedFunctionalityError({ functionality: `${part.type} parts in an assistant message (prompt[${index}])` });
            })
            .join(''),
        };
      case 'tool':
        throw new UnsupportedFunctionalityError({ functionality: `tool results (prompt[${index}]): tool calling is not available yet` });
    }
  });
}
