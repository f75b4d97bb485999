/**
 * AlpacaEval 2.0's pairwise judge (annotator `weighted_alpaca_eval_gpt4_turbo`), without the
 * model call: the official prompt filled for one instruction, the seeded position swap, the
 * parsing of the judge's reply into a preference (1 = baseline better, 2 = model better, mapped
 * back when the pair was swapped) and the annotation record AlpacaEval writes.
 *
 * Upstream asks gpt-4-1106-preview for one token (max_tokens 1, temperature 1, top_logprobs 5)
 * and reads the log-probabilities of "m" (output_1) and "M" (output_2):
 * preference = 2 − p(m)/(p(m) + p(M)). Providers that return no log-probabilities get the
 * generated token instead: "m" → 1, "M" → 2 (a hard label, as `is_binarize: true` would give).
 */
import type { ChatMessage } from '../core/events.js';
import { firstTokenTopLogprobs, type TokenLogprob } from '../models/logprobs.js';
import { EvalDataError } from './eval-data-error.js';
import type { AlpacaEvalAnnotation, AlpacaEvalOutput } from './alpaca-eval-data.js';
import { PythonRandom } from './python-random.js';
import { readTextFile } from './read-data-file.js';

/** The official annotator and its settings (`judge/configs.yaml`). */
export const ALPACA_EVAL_ANNOTATOR = 'weighted_alpaca_eval_gpt4_turbo';
export const ALPACA_EVAL_JUDGE_SETTINGS = { model: 'gpt-4-1106-preview', maxTokens: 1, temperature: 1, topLogprobs: 5 } as const;
/** AlpacaEval's annotator seed (the swap coin is seeded with it). */
export const ALPACA_EVAL_SEED = 123;

/** The models layer's log-probability entry, as the judge's replies carry it. */
export type { TokenLogprob };

/**
 * One `<|im_start|>role … <|im_end|>` block of the judge prompt: the role and the text with its
 * placeholders (`{instruction}`, `{output_1}`, `{output_2}`) still in place. Filled, it becomes
 * a ChatMessage of the judge request.
 */
export interface AlpacaEvalTemplateMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

/** The judge prompt split into its blocks, placeholders still in place. */
export interface AlpacaEvalJudgeTemplate {
  messages: AlpacaEvalTemplateMessage[];
  /** Placeholders in the order they first appear (`instruction`, `output_1`, `output_2`). */
  placeholders: string[];
}

/**
 * Parses a ChatML-like prompt (`<|im_start|>role\n…<|im_end|>` blocks) as AlpacaEval does: each
 * block's first line is the role, the rest up to `<|im_end|>` (trimmed) the content.
 */
export function parseAlpacaEvalJudgeTemplate(text: string, file = 'judge prompt'): AlpacaEvalJudgeTemplate {
  const trimmed = text.trim();
  if (!trimmed.startsWith('<|im_start|>') || !trimmed.endsWith('<|im_end|>')) {
    throw new EvalDataError({ file, line: 1 }, "expected a prompt made of <|im_start|>role … <|im_end|> blocks (AlpacaEval's alpaca_eval_clf.txt format)");
  }
  const messages: AlpacaEvalTemplateMessage[] = trimmed
    .split('<|im_start|>')
    .slice(1)
    .map((block, index) => {
      const newline = block.indexOf('\n');
      const role = (newline === -1 ? block : block.slice(0, newline)).trim();
      if (role !== 'system' && role !== 'user' && role !== 'assistant') {
        throw new EvalDataError({ file, field: `block ${index + 1}` }, `unknown role "${role}" (expected system, user or assistant)`);
      }
      const content = (newline === -1 ? '' : block.slice(newline + 1)).split('<|im_end|>')[0]?.trim() ?? '';
      return { role, content };
    });
  // AlpacaEval finds placeholders with /{([^ \s]+?)}/ over the whole template.
  const placeholders: string[] = [];
  for (const match of trimmed.matchAll(/\{([^ \s]+?)\}/g)) {
    const name = match[1] ?? '';
    if (!placeholders.includes(name)) placeholders.push(name);
  }
  for (const required of ['instruction', 'output_1', 'output_2']) {
    if (!placeholders.includes(required)) throw new EvalDataError({ file }, `the judge prompt has no {${required}} placeholder`);
  }
  return { messages, placeholders };
}

export function loadAlpacaEvalJudgeTemplate(file: string): AlpacaEvalJudgeTemplate {
  return parseAlpacaEvalJudgeTemplate(readTextFile(file), file);
}

/**
 * AlpacaEval's position coin: `random.Random("is_switched_outputs" + instruction + str(seed)).choices([False, True])`.
 * Deterministic per instruction, so a rerun swaps the same pairs.
 */
export function isSwitchedOutputs(instruction: string, seed: number = ALPACA_EVAL_SEED): boolean {
  return new PythonRandom(`is_switched_outputs${instruction}${seed}`).choice([false, true]);
}

export interface AlpacaEvalPair {
  instruction: string;
  /** The baseline's output (AlpacaEval's output_1). */
  baselineOutput: string;
  /** The evaluated model's output (AlpacaEval's output_2). */
  modelOutput: string;
}

export interface AlpacaEvalJudgeRequest {
  messages: ChatMessage[];
  /** True when the judge sees the model's output as "m" and the baseline's as "M". */
  isSwitchedOutputs: boolean;
}

/**
 * The judge's messages for one pair. Placeholders are filled by plain string replacement, one
 * after the other in template order (as AlpacaEval does: literal braces in the template stay).
 */
export function buildAlpacaEvalJudgeRequest(
  pair: AlpacaEvalPair,
  template: AlpacaEvalJudgeTemplate,
  options: { seed?: number; isSwitchedOutputs?: boolean } = {},
): AlpacaEvalJudgeRequest {
  const switched = options.isSwitchedOutputs ?? isSwitchedOutputs(pair.instruction, options.seed ?? ALPACA_EVAL_SEED);
  const values: Record<string, string> = {
    instruction: pair.instruction,
    output_1: switched ? pair.modelOutput : pair.baselineOutput,
    output_2: switched ? pair.baselineOutput : pair.modelOutput,
  };
  const messages = template.messages.map((message): ChatMessage => {
    let content = message.content;
    for (const name of template.placeholders) {
      const value = values[name];
      if (value !== undefined) content = content.split(`{${name}}`).join(value);
    }
    return { role: message.role, content };
  });
  return { messages, isSwitchedOutputs: switched };
}

export interface AlpacaEvalJudgeReply {
  /** The generated text. */
  text: string;
  /** Top log-probabilities of the first generated token, when the provider returns them. */
  topLogprobs?: readonly TokenLogprob[];
}

export interface AlpacaEvalJudgment {
  /** In AlpacaEval's convention, already mapped back to (output_1 = baseline, output_2 = model); null when unparsed. */
  preference: number | null;
  /** `logprobs`: 2 − p(m) from the log-probabilities (official); `token`: the generated m/M; `unparsed`: neither. */
  method: 'logprobs' | 'token' | 'unparsed';
}

/** `logprob_parser(numerator_token="m", denominator_tokens=["m", "M"], is_binarize=False)`: 2 − p(m)/(p(m)+p(M)), or null when neither token is listed. */
export function preferenceFromLogprobs(topLogprobs: readonly TokenLogprob[]): number | null {
  const logprobOf = (token: string): number => {
    // A dict built from the list keeps the last entry of a repeated token.
    let found = Number.NEGATIVE_INFINITY;
    for (const entry of topLogprobs) if (entry.token === token) found = entry.logprob;
    return found;
  };
  const lowercase = logprobOf('m');
  const uppercase = logprobOf('M');
  if (lowercase === Number.NEGATIVE_INFINITY && uppercase === Number.NEGATIVE_INFINITY) return null;
  const largest = Math.max(lowercase, uppercase);
  const denominator = largest + Math.log(Math.exp(lowercase - largest) + Math.exp(uppercase - largest));
  return 2 - Math.exp(lowercase - denominator);
}

/** The generated identifier: exactly "m" → 1, "M" → 2 (surrounding whitespace and quotes ignored). */
export function preferenceFromToken(text: string): number | null {
  const token = text.trim().replace(/^["'`]+|["'`]+$/g, '');
  if (token === 'm') return 1;
  if (token === 'M') return 2;
  return null;
}

/**
 * Parses a judge reply into a preference. Log-probabilities are used when they list "m" or "M"
 * (the official weighted annotator); otherwise the generated token. The result is mapped back
 * to AlpacaEval's convention (3 − preference when the pair was swapped).
 */
export function parseAlpacaEvalJudgment(reply: AlpacaEvalJudgeReply, isSwitched: boolean): AlpacaEvalJudgment {
  let preference: number | null = null;
  let method: AlpacaEvalJudgment['method'] = 'unparsed';
  if (reply.topLogprobs && reply.topLogprobs.length > 0) {
    preference = preferenceFromLogprobs(reply.topLogprobs);
    if (preference !== null) method = 'logprobs';
  }
  if (preference === null) {
    preference = preferenceFromToken(reply.text);
    if (preference !== null) method = 'token';
  }
  if (preference !== null && isSwitched) preference = 3 - preference;
  return { preference, method };
}

/** Top log-probabilities of the first token from an OpenAI chat completion choice (AlpacaEval's `raw_completion`). */
export function topLogprobsFromOpenAIChoice(rawCompletion: unknown): TokenLogprob[] | undefined {
  return firstTokenTopLogprobs((rawCompletion as { logprobs?: { content?: unknown } | null } | null | undefined)?.logprobs?.content);
}

/** What moa writes as an annotation's `raw_completion`. */
export interface AlpacaEvalRawCompletion {
  /** The generated text. */
  text: string;
  /** Which reading produced the preference. */
  parsed_from: AlpacaEvalJudgment['method'];
  /** The first token's top log-probabilities in the OpenAI choice shape (as upstream's raw completions hold them). */
  logprobs?: { content: Array<{ top_logprobs: TokenLogprob[] }> };
}

export function makeAlpacaEvalRawCompletion(reply: AlpacaEvalJudgeReply, judgment: AlpacaEvalJudgment): AlpacaEvalRawCompletion {
  return {
    text: reply.text,
    parsed_from: judgment.method,
    ...(reply.topLogprobs && reply.topLogprobs.length > 0
      ? { logprobs: { content: [{ top_logprobs: reply.topLogprobs.map((entry) => ({ token: entry.token, logprob: entry.logprob })) }] } }
      : {}),
  };
}

/** How an annotation's preference was read (`raw_completion.parsed_from`), or undefined for annotations moa did not write. */
export function alpacaEvalJudgmentMethod(annotation: { raw_completion?: unknown }): AlpacaEvalJudgment['method'] | undefined {
  const method = (annotation.raw_completion as { parsed_from?: unknown } | null | undefined)?.parsed_from;
  return method === 'logprobs' || method === 'token' || method === 'unparsed' ? method : undefined;
}

/**
 * Joins the model's outputs with the reference (baseline) outputs by instruction, in the order
 * of the model's outputs. Every model instruction needs a reference output.
 */
export function pairAlpacaEvalOutputs(
  modelOutputs: readonly AlpacaEvalOutput[],
  referenceOutputs: readonly AlpacaEvalOutput[],
): Array<{ model: AlpacaEvalOutput; reference: AlpacaEvalOutput }> {
  const references = new Map(referenceOutputs.map((output) => [output.instruction, output]));
  const missing = modelOutputs.filter((output) => !references.has(output.instruction));
  if (missing.length > 0) {
    throw new Error(
      `${missing.length} of the model's instructions have no reference output (first: "${(missing[0]?.instruction ?? '').slice(0, 60)}"); the outputs and the reference outputs must cover the same evaluation set`,
    );
  }
  return modelOutputs.map((model) => ({ model, reference: references.get(model.instruction) as AlpacaEvalOutput }));
}

/** The annotation record AlpacaEval writes (plus `is_switched_outputs`, which records the swap). */
export function makeAlpacaEvalAnnotation(input: {
  model: AlpacaEvalOutput;
  reference: AlpacaEvalOutput;
  annotator: string;
  judgment: AlpacaEvalJudgment;
  isSwitchedOutputs: boolean;
  rawCompletion?: unknown;
  pricePerExample?: number | null;
  timePerExample?: number | null;
}): AlpacaEvalAnnotation {
  return {
    instruction: input.model.instruction,
    output_1: input.reference.output,
    generator_1: input.reference.generator,
    dataset: input.model.dataset || input.reference.dataset,
    output_2: input.model.output,
    generator_2: input.model.generator,
    annotator: input.annotator,
    preference: input.judgment.preference,
    price_per_example: input.pricePerExample ?? null,
    time_per_example: input.timePerExample ?? null,
    raw_completion: input.rawCompletion ?? null,
    is_switched_outputs: input.isSwitchedOutputs,
  };
}
