/**
 * MT-Bench files (FastChat `llm_judge`): questions, GPT-4 reference answers, judge prompts; the
 * per-category generation temperatures; the two-turn conversation; and FastChat's answer records.
 */
import { z } from 'zod';
import type { ChatMessage } from '../core/events.js';
import { EvalDataError } from './eval-data-error.js';
import { readJsonLines } from './read-data-file.js';
import { anyText, expecting, nonEmptyText, optionalText, parseRecords, rejectDuplicates, stringList, wholeNumber } from './record-schema.js';
import { shortUuid } from './short-id.js';

export interface MtBenchQuestion {
  question_id: number;
  category: string;
  /** Exactly two user turns for MT-Bench (other FastChat benches may have one). */
  turns: string[];
  /** Short human-written answers (FastChat's judge does not read them). */
  reference?: string[];
  /** Overrides the category temperature when present. */
  required_temperature?: number;
  line: number;
}

/** FastChat's answer record (`model_answer/<model>.jsonl`), also the reference-answer format. */
export interface MtBenchAnswer {
  question_id: number;
  answer_id: string;
  model_id: string;
  choices: Array<{ index: number; turns: string[] }>;
  /** Unix time in seconds (a float, like Python's time.time()). */
  tstamp: number;
}

export interface MtBenchJudgePrompt {
  name: string;
  type: 'single' | 'pairwise';
  system_prompt: string;
  prompt_template: string;
  description?: string;
  category?: string;
  output_format: string;
}

/** FastChat's `temperature_config`. */
export const MT_BENCH_TEMPERATURES: Readonly<Record<string, number>> = {
  writing: 0.7,
  roleplay: 0.7,
  extraction: 0.0,
  math: 0.0,
  coding: 0.0,
  reasoning: 0.0,
  stem: 0.1,
  humanities: 0.1,
  'arena-hard-200': 0.0,
};

/** FastChat's `NEED_REF_CATS`: judged against a reference answer. */
export const MT_BENCH_REFERENCE_CATEGORIES: readonly string[] = ['math', 'reasoning', 'coding', 'arena-hard-200'];

/** The generation temperature of a question: `required_temperature`, else its category's (FastChat's default 0.7 otherwise). */
export function mtBenchTemperature(question: Pick<MtBenchQuestion, 'category' | 'required_temperature'>): number {
  if (question.required_temperature !== undefined) return question.required_temperature;
  return MT_BENCH_TEMPERATURES[question.category] ?? 0.7;
}

/** A line of `question.jsonl`; `reference` and `required_temperature` are optional. */
const questionSchema = z.object({
  question_id: wholeNumber,
  category: nonEmptyText,
  turns: stringList.min(1),
  reference: stringList.optional(),
  required_temperature: z.number().optional(),
});

export function loadMtBenchQuestions(file: string, options: { turns?: number } = {}): MtBenchQuestion[] {
  const schema = options.turns === undefined ? questionSchema : questionSchema.extend({ turns: stringList.length(options.turns) });
  const records = parseRecords(file, readJsonLines(file), schema);
  if (records.length === 0) throw new EvalDataError({ file }, 'no questions in the file');
  rejectDuplicates(file, records, 'question_id', (value) => value.question_id);
  return records.map(({ value, line }) => ({ ...value, line }));
}

/** A line of a FastChat answer file; `answer_id` and `tstamp` may be absent (empty, 0). */
const answerSchema = z.object({
  question_id: wholeNumber,
  answer_id: optionalText,
  model_id: nonEmptyText,
  choices: z
    .array(
      z.object(
        {
          index: wholeNumber,
          turns: z.array(anyText, { error: expecting('a non-empty list of answers') }).min(1, { error: 'expected a non-empty list of answers' }),
        },
        { error: expecting('an object {index, turns}') },
      ),
      { error: expecting('a non-empty list of {index, turns}') },
    )
    .min(1, { error: 'expected a non-empty list of {index, turns}' }),
  tstamp: z.number().default(0),
});

/**
 * FastChat answers (a model's answers, or the reference answers) keyed by question_id. A later
 * line for the same question replaces an earlier one, as FastChat's loader does.
 */
export function loadMtBenchAnswers(file: string): Map<number, MtBenchAnswer> {
  const answers = new Map<number, MtBenchAnswer>();
  for (const { value } of parseRecords(file, readJsonLines(file), answerSchema)) {
    answers.set(value.question_id, { ...value, answer_id: value.answer_id ?? '' });
  }
  if (answers.size === 0) throw new EvalDataError({ file }, 'no answers in the file');
  return answers;
}

/** A line of `judge_prompts.jsonl`; the system prompt may be empty. */
const judgePromptSchema = z.object({
  name: nonEmptyText,
  type: z.enum(['single', 'pairwise']),
  system_prompt: anyText,
  prompt_template: nonEmptyText,
  description: optionalText,
  category: optionalText,
  output_format: nonEmptyText,
});

export function loadMtBenchJudgePrompts(file: string): Map<string, MtBenchJudgePrompt> {
  const prompts = new Map<string, MtBenchJudgePrompt>();
  for (const { value } of parseRecords(file, readJsonLines(file), judgePromptSchema)) prompts.set(value.name, value);
  if (prompts.size === 0) throw new EvalDataError({ file }, 'no judge prompts in the file');
  return prompts;
}

/**
 * The conversation a model answers at turn `turnIndex` (0-based): every earlier question with
 * the model's own earlier answer, then this turn's question (FastChat's generation loop).
 */
export function mtBenchConversation(question: Pick<MtBenchQuestion, 'turns'>, turnIndex: number, previousAnswers: readonly string[]): ChatMessage[] {
  if (!Number.isInteger(turnIndex) || turnIndex < 0 || turnIndex >= question.turns.length) {
    throw new Error(`turn ${turnIndex} does not exist (the question has ${question.turns.length})`);
  }
  if (previousAnswers.length < turnIndex) throw new Error(`turn ${turnIndex + 1} needs the answers to the ${turnIndex} earlier turn(s), got ${previousAnswers.length}`);
  const messages: ChatMessage[] = [];
  for (let index = 0; index < turnIndex; index++) {
    messages.push({ role: 'user', content: question.turns[index] ?? '' }, { role: 'assistant', content: previousAnswers[index] ?? '' });
  }
  messages.push({ role: 'user', content: question.turns[turnIndex] ?? '' });
  return messages;
}

/** One FastChat answer record for a question's answered turns. */
export function formatMtBenchAnswer(
  question: Pick<MtBenchQuestion, 'question_id' | 'turns'>,
  answers: readonly string[],
  modelId: string,
  options: { answerId?: string; now?: () => number } = {},
): MtBenchAnswer {
  if (answers.length !== question.turns.length) {
    throw new Error(`question ${question.question_id} has ${question.turns.length} turns, got ${answers.length} answers`);
  }
  return {
    question_id: question.question_id,
    answer_id: options.answerId ?? shortUuid(),
    model_id: modelId,
    choices: [{ index: 0, turns: [...answers] }],
    tstamp: (options.now ?? Date.now)() / 1000,
  };
}

/** JSON Lines as FastChat writes answer files: one record per line, sorted by question_id. */
export function toMtBenchAnswerLines(answers: readonly MtBenchAnswer[]): string {
  return [...answers]
    .sort((left, right) => left.question_id - right.question_id)
    .map((answer) => `${JSON.stringify(answer)}\n`)
    .join('');
}
