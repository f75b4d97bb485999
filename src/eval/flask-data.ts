/**
 * FLASK (kaistAI/FLASK, as patched in togethercomputer/MoA): the evaluation set, the answer file
 * its judge reads (JSON Lines of `{question_id, text}`, question_id = the instance's `idx`, as
 * MoA's `generate_for_flask.py` writes it), the judge prompt (prompt 2, with the ground-truth
 * answer, as `gpt4_eval.py` always uses), the score parser and the per-skill averages
 * (`aggregate_skill.py`).
 */
import { z } from 'zod';
import type { ChatMessage } from '../core/events.js';
import { EvalDataError } from './eval-data-error.js';
import { formatPythonTemplate } from './mt-bench-judge.js';
import { readJsonArray, readJsonLines } from './read-data-file.js';
import { anyText, expecting, nonEmptyText, optionalText, parseRecords, rejectDuplicates, stringList, wholeNumber } from './record-schema.js';

export interface FlaskInstance {
  idx: number;
  instruction: string;
  /** The ground-truth answer shown to the judge. */
  answer: string;
  task: string;
  /** The skills to grade (names matched against the skill set). */
  skill: string[];
  domain: unknown;
  difficulty: unknown;
  line: number;
  /** Every field of the record as in the file (a review line repeats them). */
  fields: Record<string, unknown>;
}

/** One line of the answer file FLASK's judge reads. */
export interface FlaskAnswer {
  question_id: number;
  text: string;
}

export interface FlaskSkill {
  Skill: string;
  Criteria: string;
  Scoring: Record<'1' | '2' | '3' | '4' | '5', string>;
}

export interface FlaskJudgePrompt {
  prompt_id: number;
  system_prompt: string;
  prompt_template: string;
  defaults: Record<string, string>;
}

/** FLASK's judge call: gpt-4-0613, temperature 0, max_tokens 1024. */
export const FLASK_JUDGE_SETTINGS = { model: 'gpt-4-0613', temperature: 0, maxTokens: 1024, promptId: 2 } as const;

/** An instance of the evaluation set; its other fields (domain, difficulty, subcategory, …) are kept as they are. */
const instanceSchema = z.object({
  idx: wholeNumber,
  instruction: nonEmptyText,
  answer: anyText,
  task: optionalText,
  skill: stringList.min(1),
});

export function loadFlaskEvaluationSet(file: string): FlaskInstance[] {
  const records = parseRecords(file, readJsonLines(file), instanceSchema);
  if (records.length === 0) throw new EvalDataError({ file }, 'no instances in the file');
  rejectDuplicates(file, records, 'idx', (value) => value.idx);
  return records.map(({ value, line, source }) => ({
    ...value,
    task: value.task ?? '',
    domain: source.domain,
    difficulty: source.difficulty,
    line,
    fields: source,
  }));
}

/** The answer records, in evaluation-set order. */
export function formatFlaskAnswers(instances: readonly Pick<FlaskInstance, 'idx'>[], outputs: readonly string[]): FlaskAnswer[] {
  if (outputs.length !== instances.length) throw new Error(`expected one output per instance (${instances.length}), got ${outputs.length}`);
  return instances.map((instance, index) => ({ question_id: instance.idx, text: outputs[index] ?? '' }));
}

export function toFlaskAnswerLines(answers: readonly FlaskAnswer[]): string {
  return answers.map((answer) => `${JSON.stringify(answer)}\n`).join('');
}

const answerSchema = z.object({ question_id: wholeNumber, text: anyText });

/** The answer file (a later line for the same question replaces an earlier one). */
export function loadFlaskAnswers(file: string): Map<number, FlaskAnswer> {
  const answers = new Map<number, FlaskAnswer>();
  for (const { value } of parseRecords(file, readJsonLines(file), answerSchema)) answers.set(value.question_id, value);
  if (answers.size === 0) throw new EvalDataError({ file }, 'no answers in the file');
  return answers;
}

const rubricText = z.string({ error: 'expected the rubric text for this score' });

/** A skill of `skillset_description.json`: its criteria and the rubric of each score 1–5. */
const skillSchema = z.object({
  Skill: nonEmptyText,
  Criteria: nonEmptyText,
  Scoring: z.object({ '1': rubricText, '2': rubricText, '3': rubricText, '4': rubricText, '5': rubricText }, { error: 'expected an object with keys "1" to "5"' }),
});

export function loadFlaskSkills(file: string): FlaskSkill[] {
  return parseRecords(file, readJsonArray(file), skillSchema).map(({ value }) => value);
}

/** A judge prompt of `gpt_review/prompt.jsonl`; the template defaults are read as text (`str.format` would). */
const judgePromptSchema = z.object({
  prompt_id: wholeNumber,
  system_prompt: nonEmptyText,
  prompt_template: nonEmptyText,
  defaults: z
    .record(z.string(), z.unknown(), { error: 'expected an object of template defaults (prompt1, prompt2)' })
    .transform((defaults) => Object.fromEntries(Object.entries(defaults).map(([key, value]) => [key, String(value)]))),
});

export function loadFlaskJudgePrompts(file: string): Map<number, FlaskJudgePrompt> {
  const prompts = new Map<number, FlaskJudgePrompt>();
  for (const { value } of parseRecords(file, readJsonLines(file), judgePromptSchema)) prompts.set(value.prompt_id, value);
  return prompts;
}

/** The `{skills}` block: each graded skill's criteria and 1–5 rubric (a label matches the first skill whose name contains it). */
export function flaskSkillsText(labels: readonly string[], skills: readonly FlaskSkill[]): string {
  let text = '';
  for (const label of labels) {
    const skill = skills.find((candidate) => candidate.Skill.includes(label));
    if (!skill) continue;
    text += `\n${skill.Skill}: ${skill.Criteria}`;
    for (const score of ['1', '2', '3', '4', '5'] as const) text += `\nScore ${score}: ${skill.Scoring[score]}${score === '5' ? '\n\n' : ''}`;
  }
  return text;
}

export function buildFlaskJudgeRequest(input: {
  instance: Pick<FlaskInstance, 'instruction' | 'answer' | 'skill'>;
  response: string;
  skills: readonly FlaskSkill[];
  prompts: ReadonlyMap<number, FlaskJudgePrompt>;
  promptId?: number;
}): { messages: ChatMessage[] } {
  const promptId = input.promptId ?? FLASK_JUDGE_SETTINGS.promptId;
  const prompt = input.prompts.get(promptId);
  if (!prompt) throw new Error(`the FLASK judge prompts have no prompt_id ${promptId}`);
  const user = formatPythonTemplate(prompt.prompt_template, {
    ...prompt.defaults,
    question: input.instance.instruction,
    response: input.response,
    skills: flaskSkillsText(input.instance.skill, input.skills),
    num: '3',
    sample_answer: input.instance.answer,
  });
  return {
    messages: [
      { role: 'system', content: prompt.system_prompt },
      { role: 'user', content: user },
    ],
  };
}

/** A value of the Python literal the judge ends with: numbers and strings are kept, anything else (lists, tuples, dicts) is opaque. */
type PythonLiteral = number | string | { opaque: string };

/**
 * The Python dict literal the judge ends with, read as `ast.literal_eval` reads it after FLASK's
 * lowercasing: string keys; number or string values (single or double quotes, backslash escapes);
 * lists, tuples and nested dicts accepted but kept opaque (FLASK cannot average them either); a
 * trailing comma allowed. Anything literal_eval rejects (bare words such as `none` or `true`,
 * which FLASK's lowercasing makes of None and True) gives undefined.
 */
function parsePythonDict(text: string): Record<string, PythonLiteral> | undefined {
  let position = 0;
  const skipSpace = (): void => {
    while (position < text.length && /\s/.test(text[position] ?? '')) position++;
  };
  const readString = (): string | undefined => {
    const quote = text[position];
    if (quote !== "'" && quote !== '"') return undefined;
    let value = '';
    for (let index = position + 1; index < text.length; index++) {
      const character = text[index] as string;
      if (character === '\\') {
        const next = text[index + 1];
        if (next === undefined) return undefined;
        value += next === 'n' ? '\n' : next === 't' ? '\t' : next;
        index++;
        continue;
      }
      if (character === quote) {
        position = index + 1;
        return value;
      }
      value += character;
    }
    return undefined;
  };
  const readSequence = (close: string): PythonLiteral | undefined => {
    const start = position;
    position++;
    for (;;) {
      skipSpace();
      if (text[position] === close) {
        position++;
        return { opaque: text.slice(start, position) };
      }
      if (readValue() === undefined) return undefined;
      skipSpace();
      if (text[position] === ',') position++;
      else if (text[position] !== close) return undefined;
    }
  };
  const readValue = (): PythonLiteral | undefined => {
    const asString = readString();
    if (asString !== undefined) return asString;
    const opener = text[position];
    if (opener === '[') return readSequence(']');
    if (opener === '(') return readSequence(')');
    if (opener === '{') {
      const start = position;
      return readDict() === undefined ? undefined : { opaque: text.slice(start, position) };
    }
    const match = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(position));
    if (!match) return undefined;
    position += match[0].length;
    return Number(match[0]);
  };
  const readDict = (): Record<string, PythonLiteral> | undefined => {
    if (text[position] !== '{') return undefined;
    position++;
    const result: Record<string, PythonLiteral> = {};
    for (;;) {
      skipSpace();
      if (text[position] === '}') {
        position++;
        return result;
      }
      const key = readString();
      if (key === undefined) return undefined;
      skipSpace();
      if (text[position] !== ':') return undefined;
      position++;
      skipSpace();
      const value = readValue();
      if (value === undefined) return undefined;
      result[key] = value;
      skipSpace();
      if (text[position] === ',') position++;
      else if (text[position] !== '}') return undefined;
    }
  };
  skipSpace();
  const dict = readDict();
  if (dict === undefined) return undefined;
  skipSpace();
  return position === text.length ? dict : undefined;
}

/** A parsed FLASK score: a number, "N/A", or what the judge wrote instead (kept, not averaged). */
export type FlaskScoreValue = number | string;

/**
 * `parse_score`: the last `{…}` of the review (FLASK's `{[^}]+}`: no nested braces), newlines
 * removed, underscores → spaces, lowercased, read as a dict of skill → score; "na", "n/a" and
 * "not applicable" become "N/A". {} when none parses (FLASK logs it and moves on).
 */
export function parseFlaskScores(review: string): Record<string, FlaskScoreValue> {
  const matches = review.match(/\{[^}]+\}/g);
  const last = matches?.[matches.length - 1];
  if (!last) return {};
  const parsed = parsePythonDict(last.replace(/\n/g, '').replace(/_/g, ' ').toLowerCase());
  if (!parsed) return {};
  const scores: Record<string, FlaskScoreValue> = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value === 'object') scores[key] = value.opaque;
    else scores[key] = value === 'na' || value === 'n/a' || value === 'not applicable' ? 'N/A' : value;
  }
  return scores;
}

/** FLASK's reviewer entries (`gpt_review/reviewer.jsonl`). */
export interface FlaskReviewer {
  reviewer_id: string;
  prompt_id: number;
  metadata: { temperature?: number; max_tokens?: number };
}

const reviewerSchema = z.object({
  reviewer_id: nonEmptyText,
  prompt_id: wholeNumber,
  metadata: z
    .looseObject({ temperature: z.number().optional(), max_tokens: wholeNumber.optional() }, { error: expecting('an object {temperature, max_tokens}') })
    .default({}),
});

export function loadFlaskReviewers(file: string): FlaskReviewer[] {
  const reviewers = parseRecords(file, readJsonLines(file), reviewerSchema).map(({ value }) => value);
  if (reviewers.length === 0) throw new EvalDataError({ file }, 'no reviewers in the file');
  return reviewers;
}

/**
 * The judge call `gpt4_eval.py` makes: the second reviewer's prompt (prompt_id 2, with the
 * ground-truth answer), temperature 0 (the script sends 0 whatever the reviewer's metadata says)
 * and its `--max-tokens` default of 1024.
 */
export function flaskReviewSettings(reviewers: readonly FlaskReviewer[], file = 'reviewer.jsonl'): { promptId: number; temperature: number; maxTokens: number } {
  const reviewer = reviewers[1];
  if (!reviewer) throw new EvalDataError({ file }, `FLASK's judge uses the second reviewer entry, and the file has ${reviewers.length}`);
  return { promptId: reviewer.prompt_id, temperature: FLASK_JUDGE_SETTINGS.temperature, maxTokens: FLASK_JUDGE_SETTINGS.maxTokens };
}

/**
 * One line of FLASK's review file (what `gpt4_eval.py` writes and `aggregate_skill.py` reads): the
 * evaluation instance's own fields, then the answer (`target_txt`), the judge's review, the parsed
 * scores and the call's total tokens.
 */
export type FlaskReview = Record<string, unknown> & {
  idx: number;
  target_txt: string;
  review: string;
  score: Record<string, FlaskScoreValue>;
  total_tokens_step4: number;
};

export function makeFlaskReview(instance: Pick<FlaskInstance, 'idx' | 'fields'>, answer: string, review: string, totalTokens: number): FlaskReview {
  return { ...instance.fields, idx: instance.idx, target_txt: answer, review, score: parseFlaskScores(review), total_tokens_step4: totalTokens };
}

/**
 * A line of a review file. `score` is the dict FLASK parsed from the review: numbers and strings
 * are kept, any other value (a list, a dict, null) as its JSON text, as parseFlaskScores keeps
 * what it cannot average; the other fields may be absent.
 */
const reviewSchema = z.object({
  idx: wholeNumber,
  target_txt: optionalText,
  review: optionalText,
  score: z
    .record(z.string(), z.unknown(), { error: expecting('the dict of skill → score FLASK parsed from the review') })
    .transform((score): Record<string, FlaskScoreValue> =>
      Object.fromEntries(Object.entries(score).map(([skill, value]) => [skill, typeof value === 'number' || typeof value === 'string' ? value : JSON.stringify(value)])),
    ),
  total_tokens_step4: z.number().default(0),
});

/** A review file, as the report and the aggregation read it (every line needs `score`). */
export function loadFlaskReviews(file: string): FlaskReview[] {
  const reviews = parseRecords(file, readJsonLines(file), reviewSchema).map(({ value, source }) => ({
    // The line's own fields in their order, the checked ones replaced by their checked values.
    ...source,
    ...value,
    target_txt: value.target_txt ?? '',
    review: value.review ?? '',
  }));
  if (reviews.length === 0) throw new EvalDataError({ file }, 'no reviews in the file');
  return reviews;
}

/** aggregate_skill.py's reporting order. */
export const FLASK_SKILL_ORDER = [
  'robustness',
  'correctness',
  'efficiency',
  'factuality',
  'commonsense',
  'comprehension',
  'insightfulness',
  'completeness',
  'metacognition',
  'readability',
  'conciseness',
  'harmlessness',
];

/** Mean score per skill (keyed by the skill's first word, or its second for "logical …"), N/A skipped. */
export function aggregateFlaskScores(scores: ReadonlyArray<Record<string, number | string>>): Array<{ skill: string; total: number; count: number; average: number }> {
  const sums = new Map<string, { total: number; count: number }>();
  for (const score of scores) {
    for (const [key, value] of Object.entries(score)) {
      const words = key.split(' ');
      const name = key.includes('logical') ? words[1] : words[0];
      if (name === undefined) continue;
      const entry = sums.get(name) ?? { total: 0, count: 0 };
      sums.set(name, entry);
      if (value === 'N/A') continue;
      const number = typeof value === 'number' ? value : Number(value);
      if (typeof value === 'string' && value.trim() === '') continue;
      if (!Number.isFinite(number)) continue;
      entry.total += number;
      entry.count += 1;
    }
  }
  return FLASK_SKILL_ORDER.filter((skill) => sums.has(skill)).map((skill) => {
    const entry = sums.get(skill) ?? { total: 0, count: 0 };
    return { skill, total: entry.total, count: entry.count, average: entry.count > 0 ? entry.total / entry.count : Number.NaN };
  });
}
