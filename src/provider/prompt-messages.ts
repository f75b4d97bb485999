/**
 * An AI SDK prompt (`LanguageModelV3Prompt`, what generateText/streamText hand a model) as the
 * engine's conversation: text turns, the assistant's tool calls and the tool results of the
 * caller's own tool loop. Files and images are refused with the AI SDK's
 * UnsupportedFunctionalityError, never dropped; an earlier answer's reasoning is left out (the
 * model's scratch work, not part of the conversation).
 */
import { UnsupportedFunctionalityError, type LanguageModelV3Prompt, type LanguageModelV3ToolResultOutput } from '@ai-sdk/provider';
import type { ChatMessage, ToolCall } from '../core/events.js';

/** A tool result's output as the text the aggregator reads. */
function outputText(output: LanguageModelV3ToolResultOutput, where: string): string {
  switch (output.type) {
    case 'text':
      return output.value;
    case 'json':
      return JSON.stringify(output.value);
    case 'error-text':
      return `(the tool reported an error) ${output.value}`;
    case 'error-json':
      return `(the tool reported an error) ${JSON.stringify(output.value)}`;
    case 'execution-denied':
      return `(the tool call was not run${output.reason ? `: ${output.reason}` : ''})`;
    case 'content':
      return output.value
        .map((part) => {
          if (part.type === 'text') return part.text;
          throw new UnsupportedFunctionalityError({ functionality: `${part.type} parts in a tool result (${where}): MoA takes text only` });
        })
        .join('\n');
  }
}

export function promptMessages(prompt: LanguageModelV3Prompt): ChatMessage[] {
  const messages: ChatMessage[] = [];
  prompt.forEach((message, index) => {
    const where = `prompt[${index}]`;
    switch (message.role) {
      case 'system':
        messages.push({ role: 'system', content: message.content });
        return;
      case 'user':
        messages.push({
          role: 'user',
          content: message.content
            .map((part) => {
              if (part.type === 'text') return part.text;
              throw new UnsupportedFunctionalityError({ functionality: `${part.type} parts in a user message (${where}): MoA takes text only` });
            })
            .join('\n'),
        });
        return;
      case 'assistant': {
        let text = '';
        const toolCalls: ToolCall[] = [];
        const results: ChatMessage[] = [];
        for (const part of message.content) {
          if (part.type === 'text') text += part.text;
          else if (part.type === 'reasoning') continue;
          else if (part.type === 'tool-call') {
            if (part.providerExecuted) throw new UnsupportedFunctionalityError({ functionality: `provider-executed tool calls (${where})` });
            toolCalls.push({ id: part.toolCallId, name: part.toolName, arguments: typeof part.input === 'string' ? part.input : JSON.stringify(part.input ?? {}) });
          } else if (part.type === 'tool-result') {
            results.push({ role: 'tool', toolCallId: part.toolCallId, toolName: part.toolName, content: outputText(part.output, where) });
          } else {
            throw new UnsupportedFunctionalityError({ functionality: `${part.type} parts in an assistant message (${where})` });
          }
        }
        messages.push(toolCalls.length > 0 ? { role: 'assistant', content: text, toolCalls } : { role: 'assistant', content: text });
        messages.push(...results);
        return;
      }
      case 'tool':
        for (const part of message.content) {
          if (part.type !== 'tool-result') throw new UnsupportedFunctionalityError({ functionality: `${part.type} parts in a tool message (${where})` });
          messages.push({ role: 'tool', toolCallId: part.toolCallId, toolName: part.toolName, content: outputText(part.output, where) });
        }
        return;
    }
  });
  return messages;
}
