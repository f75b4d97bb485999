/**
 * MT-Bench files (FastChat `llm_judge`): questions, GPT-4 reference answers, judge prompts; the
 * per-category generation temperatures; the two-turn conversation; and FastChat's answer records.
 */
import { EvalDataError } from './eval-data-error.js';
import { readJsonLines, RecordReader } from './read-data-file.js';
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

export function loadMtBenchQuestions(file: string, options: { turns?: number } = {}): MtBenchQuestion[] {
  const records = readJsonLines(file);
  if (records.length === 0) throw new EvalDataError({ file }, 'no questions in the file');
  const seen = new Map<number, number>();
  return records.map((record) => {
    const reader = new RecordReader(file, record);
    const question_id = reader.integer('question_id');
    const previous = seen.get(question_id);
    if (previous !== undefined) throw reader.error('question_id', `duplicate question_id ${question_id} (already on line ${previous})`);
    seen.set(question_id, record.line);
    const question: MtBenchQuestion = {
      question_id,
      category: reader.string('category'),
      turns: reader.stringList('turns', options.turns !== undefined ? { length: options.turns } : { minLength: 1 }),
      line: record.line,
    };
    if (reader.has('reference')) question.reference = reader.stringList('reference');
    if (reader.has('required_temperature')) question.required_temperature = reader.number('required_temperature');
    return question;
  });
}

function readChoices(reader: RecordReader): MtBenchAnswer['choices'] {
  const value = reader.record.value.choices;
  if (!Array.isArray(value) || value.length === 0) throw reader.error('choices', 'expected a non-empty list of {index, turns}');
  return value.map((choice: unknown, index) => {
    if (typeof choice !== 'object' || choice === null) throw reader.error(`choices[${index}]`, 'expected an object {index, turns}');
    const { index: choiceIndex, turns } = choice as { index?: unknown; turns?: unknown };
    if (typeof choiceIndex !== 'number' || !Number.isInteger(choiceIndex)) throw reader.error(`choices[${index}].index`, 'expected a whole number');
    if (!Array.isArray(turns) || turns.length === 0) throw reader.error(`choices[${index}].turns`, 'expected a non-empty list of answers');
    turns.forEach((turn: unknown, turnIndex) => {
      if (typeof turn !== 'string') throw reader.error(`choices[${index}].turns[${turnIndex}]`, 'expected a string');
    });
    return { index: choiceIndex, turns: turns as string[] };
  });
}

/**
 * FastChat answers (a model's answers, or the reference answers) keyed by question_id. A later
 * line for the same question replaces an earlier one, as FastChat's loader does.
 */
export function loadMtBenchAnswers(file: string): Map<number, MtBenchAnswer> {
  const answers = new Map<number, MtBenchAnswer>();
  for (const record of readJsonLines(file)) {
    const reader = new RecordReader(file, record);
    answers.set(reader.integer('question_id'), {
      question_id: reader.integer('question_id'),
      answer_id: reader.optionalString('answer_id') ?? '',
      model_id: reader.string('model_id'),
      choices: readChoices(reader),
      tstamp: reader.has('tstamp') ? reader.number('tstamp') : 0,
    });
  }
  if (answers.size === 0) throw new EvalDataError({ file }, 'no answers in the file');
  return answers;
}

export function loadMtBenchJudgePrompts(file: string): Map<string, MtBenchJudgePrompt> {
  const prompts = new Map<string, MtBenchJudgePrompt>();
  for (const record of readJsonLines(file)) {
    const reader = new RecordReader(file, record);
    const type = reader.string('type');
    if (type !== 'single' && type !== 'pairwise') throw reader.error('type', `expected "single" or "pairwise" (found "${type}")`);
    const prompt: MtBenchJudgePrompt = {
      name: reader.string('name'),
      type,
      system_prompt: reader.string('system_prompt', { allowEmpty: true }),
      prompt_template: reader.string('prompt_template'),
      output_format: reader.string('output_format'),
    };
    const description = reader.optionalString('description');
    if (description !== undefined) prompt.description = description;
    const category = reader.optionalString('category');
    if (category !== undefined) prompt.category = category;
    prompts.set(prompt.name, prompt);
  }
  if (prompts.size === 0) throw new EvalDataError({ file }, 'no judge prompts in the file');
  return prompts;
}

export interface ConversationMessage {
  role: 'user' | 'assistant';
  content: string;
}

/**
 * The conversation a model answers at turn `turnIndex` (0-based): every earlier question with
 * the model's own earlier answer, then this turn's question (FastChat's generation loop).
 */
export function mtBenchConversation(question: Pick<MtBenchQuestion, 'turns'>, turnIndex: number, previousAnswers: readonly string[]): ConversationMessage[] {
  if (!Number.isInteger(turnIndex) || turnIndex < 0 || turnIndex >= question.turns.length) {
    throw new Error(`turn ${turnIndex} does not exist (the question has ${question.turns.length})`);
  }
  if (previousAnswers.length < turnIndex) throw new Error(`turn ${turnIndex + 1} needs the answers to the ${turnIndex} earlier turn(s), got ${previousAnswers.length}`);
  const messages: ConversationMessage[] = [];
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
