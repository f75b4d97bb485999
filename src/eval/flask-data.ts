/**
 * FLASK (kaistAI/FLASK, as patched in togethercomputer/MoA): the evaluation set, the answer file
 * its judge reads (JSON Lines of `{question_id, text}`, question_id = the instance's `idx`, as
 * MoA's `generate_for_flask.py` writes it), the judge prompt (prompt 2, with the ground-truth
 * answer, as `gpt4_eval.py` always uses), the score parser and the per-skill averages
 * (`aggregate_skill.py`).
 */
import { EvalDataError } from './eval-data-error.js';
import { formatPythonTemplate } from './mt-bench-judge.js';
import { readJsonArray, readJsonLines, RecordReader } from './read-data-file.js';

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

export function loadFlaskEvaluationSet(file: string): FlaskInstance[] {
  const records = readJsonLines(file);
  if (records.length === 0) throw new EvalDataError({ file }, 'no instances in the file');
  const seen = new Map<number, number>();
  return records.map((record) => {
    const reader = new RecordReader(file, record);
    const idx = reader.integer('idx');
    const previous = seen.get(idx);
    if (previous !== undefined) throw reader.error('idx', `duplicate idx ${idx} (already on line ${previous})`);
    seen.set(idx, record.line);
    return {
      idx,
      instruction: reader.string('instruction'),
      answer: reader.string('answer', { allowEmpty: true }),
      task: reader.optionalString('task') ?? '',
      skill: reader.stringList('skill', { minLength: 1 }),
      domain: record.value.domain,
      difficulty: record.value.difficulty,
      line: record.line,
    };
  });
}

/** The answer records, in evaluation-set order. */
export function formatFlaskAnswers(instances: readonly Pick<FlaskInstance, 'idx'>[], outputs: readonly string[]): FlaskAnswer[] {
  if (outputs.length !== instances.length) throw new Error(`expected one output per instance (${instances.length}), got ${outputs.length}`);
  return instances.map((instance, index) => ({ question_id: instance.idx, text: outputs[index] ?? '' }));
}

export function toFlaskAnswerLines(answers: readonly FlaskAnswer[]): string {
  return answers.map((answer) => `${JSON.stringify(answer)}\n`).join('');
}

export function loadFlaskAnswers(file: string): Map<number, FlaskAnswer> {
  const answers = new Map<number, FlaskAnswer>();
  for (const record of readJsonLines(file)) {
    const reader = new RecordReader(file, record);
    const question_id = reader.integer('question_id');
    answers.set(question_id, { question_id, text: reader.string('text', { allowEmpty: true }) });
  }
  if (answers.size === 0) throw new EvalDataError({ file }, 'no answers in the file');
  return answers;
}

export function loadFlaskSkills(file: string): FlaskSkill[] {
  return readJsonArray(file).map((record) => {
    const reader = new RecordReader(file, record);
    const scoring = record.value.Scoring;
    if (typeof scoring !== 'object' || scoring === null) throw reader.error('Scoring', 'expected an object with keys "1" to "5"');
    for (const key of ['1', '2', '3', '4', '5']) {
      if (typeof (scoring as Record<string, unknown>)[key] !== 'string') throw reader.error(`Scoring.${key}`, 'expected the rubric text for this score');
    }
    return { Skill: reader.string('Skill'), Criteria: reader.string('Criteria'), Scoring: scoring as FlaskSkill['Scoring'] };
  });
}

export function loadFlaskJudgePrompts(file: string): Map<number, FlaskJudgePrompt> {
  const prompts = new Map<number, FlaskJudgePrompt>();
  for (const record of readJsonLines(file)) {
    const reader = new RecordReader(file, record);
    const defaults = record.value.defaults;
    if (typeof defaults !== 'object' || defaults === null) throw reader.error('defaults', 'expected an object of template defaults (prompt1, prompt2)');
    const prompt_id = reader.integer('prompt_id');
    prompts.set(prompt_id, {
      prompt_id,
      system_prompt: reader.string('system_prompt'),
      prompt_template: reader.string('prompt_template'),
      defaults: Object.fromEntries(Object.entries(defaults).map(([key, value]) => [key, String(value)])),
    });
  }
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
}): { messages: Array<{ role: 'system' | 'user'; content: string }> } {
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
  return { messages: [{ role: 'system', content: prompt.system_prompt }, { role: 'user', content: user }] };
}

/** A tiny reader for the Python dict literal the judge ends with: string keys, number or string values. */
function parsePythonDict(text: string): Record<string, number | string> | undefined {
  let position = 0;
  const skipSpace = () => {
    while (position < text.length && /\s/.test(text[position] ?? '')) position++;
  };
  const readString = (): string | undefined => {
    const quote = text[position];
    if (quote !== "'" && quote !== '"') return undefined;
    const end = text.indexOf(quote, position + 1);
    if (end === -1) return undefined;
    const value = text.slice(position + 1, end);
    position = end + 1;
    return value;
  };
  const readValue = (): number | string | undefined => {
    const asString = readString();
    if (asString !== undefined) return asString;
    const match = /^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?/.exec(text.slice(position));
    if (!match) return undefined;
    position += match[0].length;
    return Number(match[0]);
  };
  skipSpace();
  if (text[position] !== '{') return undefined;
  position++;
  const result: Record<string, number | string> = {};
  for (;;) {
    skipSpace();
    if (text[position] === '}') return result;
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
}

/**
 * `parse_score`: the last `{…}` of the review, newlines removed, underscores → spaces, lowercased,
 * read as a dict of skill → score; "na", "n/a" and "not applicable" become "N/A". {} when none parses.
 */
export function parseFlaskScores(review: string): Record<string, number | 'N/A' | string> {
  const matches = review.match(/\{[^}]+\}/g);
  const last = matches?.[matches.length - 1];
  if (!last) return {};
  const parsed = parsePythonDict(last.replace(/\n/g, '').replace(/_/g, ' ').toLowerCase());
  if (!parsed) return {};
  for (const [key, value] of Object.entries(parsed)) {
    if (value === 'na' || value === 'n/a' || value === 'not applicable') parsed[key] = 'N/A';
  }
  return parsed;
}

/** aggregate_skill.py's reporting order. */
export const FLASK_SKILL_ORDER = ['robustness', 'correctness', 'efficiency', 'factuality', 'commonsense', 'comprehension', 'insightfulness', 'completeness', 'metacognition', 'readability', 'conciseness', 'harmlessness'];

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
