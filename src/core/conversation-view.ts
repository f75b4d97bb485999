/**
 * How each agent sees the conversation, as provider prompt messages:
 *
 * - `tools` view (the final aggregator when the run gives it tools): assistant tool calls and tool
 *   results as the provider's own tool-call / tool-result parts, so it can carry the loop on;
 * - `text` view (everyone else, and a final aggregator without tools): plain text only. An
 *   assistant's tool calls become a line of text after its answer, consecutive tool results become
 *   one user message (providers want user and assistant turns to alternate), each result cut to its
 *   start and end when long. Advisers then cannot be confused into calling tools they do not have.
 */
import type { LanguageModelV3Message } from '@ai-sdk/provider';
import type { ChatMessage } from './events.js';

export type ConversationView = 'text' | 'tools';

/** Longest tool result an adviser sees whole; longer ones keep their start and end. */
export const MAX_TOOL_RESULT_CHARACTERS = 4_000;

/** `text` cut to `max` characters, keeping its start and end around a marker saying what was left out. */
export function keepStartAndEnd(text: string, max = MAX_TOOL_RESULT_CHARACTERS): string {
  if (text.length <= max) return text;
  const half = Math.floor(max / 2);
  return `${text.slice(0, half)}\n… [${text.length - 2 * half} characters left out] …\n${text.slice(text.length - half)}`;
}

/** The instruction advisers get when the conversation involves tools they cannot call. */
export const ADVISER_TOOL_NOTE =
  'This conversation involves tools that only the final assistant can call. You cannot call tools: do not write tool calls. Advise in plain text — what to do next, which tool would help and with what arguments, or the answer if the results shown are enough.';

export function involvesTools(messages: readonly ChatMessage[]): boolean {
  return messages.some((message) => message.role === 'tool' || (message.role === 'assistant' && (message.toolCalls?.length ?? 0) > 0));
}

function parseArguments(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text; // a model may write broken JSON; the provider gets it as it was
  }
}

/** The conversation turns (system messages excluded: the caller puts them in the one system message). */
export function conversationMessages(messages: readonly ChatMessage[], view: ConversationView): LanguageModelV3Message[] {
  const out: LanguageModelV3Message[] = [];
  let pendingResults: string[] = [];
  const flushResults = (): void => {
    if (pendingResults.length === 0) return;
    out.push({ role: 'user', content: [{ type: 'text', text: `Tool results:\n\n${pendingResults.join('\n\n')}` }] });
    pendingResults = [];
  };
  for (const message of messages) {
    switch (message.role) {
      case 'system':
        break;
      case 'user':
        flushResults();
        out.push({ role: 'user', content: [{ type: 'text', text: message.content }] });
        break;
      case 'assistant': {
        flushResults();
        const calls = message.toolCalls ?? [];
        if (view === 'tools') {
          out.push({
            role: 'assistant',
            content: [
              ...(message.content ? [{ type: 'text' as const, text: message.content }] : []),
              ...calls.map((call) => ({ type: 'tool-call' as const, toolCallId: call.id, toolName: call.name, input: parseArguments(call.arguments) })),
            ],
          });
        } else {
          const lines = calls.map((call) => `[called tool ${call.name} with ${call.arguments}]`);
          out.push({ role: 'assistant', content: [{ type: 'text', text: [message.content, ...lines].filter(Boolean).join('\n') }] });
        }
        break;
      }
      case 'tool':
        if (view === 'tools') {
          const result = {
            type: 'tool-result' as const,
            toolCallId: message.toolCallId,
            toolName: message.toolName,
            output: { type: 'text' as const, value: message.content },
          };
          const previous = out[out.length - 1];
          // One tool message per call in our conversation; the provider prompt groups a turn's results.
          if (previous?.role === 'tool') previous.content.push(result);
          else out.push({ role: 'tool', content: [result] });
        } else {
          pendingResults.push(`[${message.toolName} returned]\n${keepStartAndEnd(message.content)}`);
        }
        break;
    }
  }
  flushResults();
  return out;
}
