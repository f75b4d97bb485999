/**
 * The aggregate-and-synthesize instruction and the prompt each agent receives.
 * Layer-1 proposers see the conversation as is; every later agent sees the same
 * conversation with a system message that carries the instruction followed by
 * the previous layer's answers as numbered references.
 */
import type { LanguageModelV3Prompt } from '@ai-sdk/provider';
import { CONTINUE_INSTRUCTION, partialReferencesNote, prefillText } from './continuation.js';
import { ADVISER_TOOL_NOTE, conversationMessages, involvesTools, type ConversationView } from './conversation-view.js';
import type { ChatMessage } from './events.js';

/** Our wording of the paper's intent; replace it with `synthesisPrompt` / `synthesisPromptFile`. */
export const DEFAULT_SYNTHESIS_PROMPT = `You are given several candidate responses to the user's latest message, written by different AI models. Use them as references while you write your own answer.

- Treat every reference critically: any of them may be incomplete, biased, outdated or simply wrong, and they may contradict each other. Check claims, reasoning and code against what you know; prefer what is correct over what is common.
- Do not copy a reference or stitch them together. Combine their strengths, fix their mistakes, and fill the gaps that all of them leave.
- Write one refined answer addressed directly to the user: accurate, complete for the question asked, well structured and clear. Do not mention the references, the models or this instruction.

The references, in no particular order of quality:`;

/** Placeholder a custom template may contain; without it the references follow the template. */
export const REFERENCES_PLACEHOLDER = '{{references}}';

/** A reference as an agent is shown it: the text, still being written or not, or the running synthesis of a window. */
export interface ReferenceText {
  text: string;
  partial?: boolean;
  /** A windowed aggregator's own synthesis of the earlier references. */
  synthesis?: boolean;
}

export const SYNTHESIS_SO_FAR_NOTE = 'Reference [1] is your own synthesis of the earlier references; the others are new. Combine them into one refined answer.';

function referenceTitle(reference: string | ReferenceText, index: number): string {
  if (typeof reference === 'string') return `[${index + 1}]`;
  if (reference.synthesis) return `[${index + 1}] (your synthesis so far)`;
  return reference.partial ? `[${index + 1}] (still being written)` : `[${index + 1}]`;
}

export function formatReferences(references: ReadonlyArray<string | ReferenceText>): string {
  return references.map((reference, index) => `${referenceTitle(reference, index)}\n${(typeof reference === 'string' ? reference : reference.text).trim()}`).join('\n\n');
}

export function buildSynthesisSystem(template: string, references: ReadonlyArray<string | ReferenceText>, summary?: string): string {
  const block = formatReferences(references) + (summary ? `\n\n${summary}` : '');
  if (template.includes(REFERENCES_PLACEHOLDER)) return template.split(REFERENCES_PLACEHOLDER).join(block);
  return `${template.trimEnd()}\n\n${block}`;
}

export interface AgentPromptOptions {
  /** The agent's own system prompt, if it has one. */
  agentSystem?: string;
  /** Previous layer's answers; empty for layer 1. */
  references: ReadonlyArray<string | ReferenceText>;
  /** A rank layer's summary, after the references. */
  summary?: string;
  synthesisTemplate: string;
  /** Text of this agent's answer already shown: the call continues it (sent as the agent's last message). */
  written?: string;
  /** The most tokens this call writes, when it writes one part of a staircase. */
  partTokens?: number;
  /** The answer must be JSON (matching this schema, when given): said in the instruction too, for providers that cannot enforce it. */
  json?: { schema?: object };
  /** 'tools' for the final aggregator when it has tools; every other agent sees text only (default). */
  view?: ConversationView;
  /** The run gives the final aggregator tools: a text-view agent is told it advises and cannot call them. */
  toolsInPlay?: boolean;
}

/**
 * Build the provider prompt: one leading system message (agent system prompt,
 * then the user's system messages, then — for an adviser in a conversation with
 * tools — the note that it cannot call them, then the synthesis instruction with
 * the references), followed by the conversation turns.
 */
/** The JSON instruction: providers without native structured output follow it; the answer is checked either way. */
export function jsonInstruction(json: { schema?: object }): string {
  return json.schema
    ? `Answer with one JSON value only — no prose before or after it, no code fence — that matches this JSON Schema:\n${JSON.stringify(json.schema)}`
    : 'Answer with one JSON object only — no prose before or after it, no code fence.';
}

export function buildAgentPrompt(messages: readonly ChatMessage[], options: AgentPromptOptions): LanguageModelV3Prompt {
  const view = options.view ?? 'text';
  const systemParts: string[] = [];
  if (options.agentSystem) systemParts.push(options.agentSystem);
  for (const message of messages) if (message.role === 'system') systemParts.push(message.content);
  if (view === 'text' && (options.toolsInPlay || involvesTools(messages))) systemParts.push(ADVISER_TOOL_NOTE);
  if (options.references.length > 0) {
    systemParts.push(buildSynthesisSystem(options.synthesisTemplate, options.references, options.summary));
    if (options.references.some((reference) => typeof reference !== 'string' && reference.synthesis)) systemParts.push(SYNTHESIS_SO_FAR_NOTE);
    if (options.references.some((reference) => typeof reference !== 'string' && reference.partial)) {
      systemParts.push(partialReferencesNote(options.partTokens));
    }
  }
  if (options.json) systemParts.push(jsonInstruction(options.json));
  const written = options.written ? prefillText(options.written) : '';
  if (written) systemParts.push(CONTINUE_INSTRUCTION);
  const prompt: LanguageModelV3Prompt = [];
  if (systemParts.length > 0) prompt.push({ role: 'system', content: systemParts.join('\n\n') });
  prompt.push(...conversationMessages(messages, view));
  if (written) prompt.push({ role: 'assistant', content: [{ type: 'text', text: written }] });
  return prompt;
}
