/**
 * Before a benchmark run: how many model calls it will make and roughly how many tokens, so the
 * command can say what it will cost before spending anything. Inputs are estimated at four
 * characters per token (the usual English average of BPE tokenizers); outputs at each call's
 * max tokens, which makes the estimate an upper bound, or, where a call has no max tokens, at
 * an assumed answer length (then the estimate is not a bound, and says so).
 */
import type { ResolvedPreset } from '../core/resolve-preset.js';
import { buildSynthesisSystem } from '../core/synthesis-prompt.js';

export interface CallEstimate {
  /** "provider:model-id" (the key of its price). */
  model: string;
  inputTokens: number;
  outputTokens: number;
  /** False when outputTokens is an assumed length rather than the call's max tokens. */
  outputBounded: boolean;
}

export const CHARACTERS_PER_TOKEN = 4;
/** The answer length assumed for a call without max tokens. */
export const ASSUMED_OUTPUT_TOKENS = 1024;

export function estimateTokens(text: string): number {
  return Math.ceil(text.length / CHARACTERS_PER_TOKEN);
}

export function estimateMessagesTokens(messages: ReadonlyArray<{ content: string }>): number {
  return messages.reduce((sum, message) => sum + estimateTokens(message.content), 0);
}

/** One call to a judge (or any single model) with these messages and this max tokens. */
export function estimateSingleCall(model: string, messages: ReadonlyArray<{ content: string }>, maxTokens: number | undefined): CallEstimate {
  return {
    model,
    inputTokens: estimateMessagesTokens(messages),
    outputTokens: maxTokens ?? ASSUMED_OUTPUT_TOKENS,
    outputBounded: maxTokens !== undefined,
  };
}

/**
 * The calls of one MoA run of `preset` on `messages`: every agent of every layer (fallbacks and
 * retries are not counted); from layer 2 on each agent also reads the synthesis instruction and
 * the previous layer's answers, estimated at their max tokens.
 */
export function estimatePresetRun(preset: ResolvedPreset, messages: ReadonlyArray<{ content: string }>): { calls: CallEstimate[]; answerTokens: number } {
  const conversation = estimateMessagesTokens(messages);
  const calls: CallEstimate[] = [];
  let previousAnswers: number[] = [];
  for (const [index, layer] of preset.layers.entries()) {
    const synthesis = index === 0 ? 0 : estimateTokens(buildSynthesisSystem(preset.synthesisPrompt, [])) + previousAnswers.reduce((sum, tokens) => sum + tokens, 0);
    const answers: number[] = [];
    for (const agent of layer.agents) {
      const outputTokens = agent.maxTokens ?? ASSUMED_OUTPUT_TOKENS;
      calls.push({
        model: agent.label,
        inputTokens: conversation + synthesis + estimateTokens(agent.system ?? ''),
        outputTokens,
        outputBounded: agent.maxTokens !== undefined,
      });
      answers.push(outputTokens);
    }
    previousAnswers = answers;
  }
  const finalLayer = preset.layers[preset.layers.length - 1];
  return { calls, answerTokens: finalLayer?.agents[0]?.maxTokens ?? ASSUMED_OUTPUT_TOKENS };
}

/** A text of `tokens` estimated tokens: stands for an answer not written yet (turn 1 inside turn 2's conversation). */
export function placeholderText(tokens: number): string {
  return 'x'.repeat(tokens * CHARACTERS_PER_TOKEN);
}
