/**
 * MT-Bench single-answer grading as FastChat's `gen_judgment.py` / `common.py` do it, without the
 * model call: which judge prompt a question and turn get, the judge's messages (system prompt +
 * the template filled with Python `str.format` semantics), the rating parsed from the judge's
 * text, FastChat's judgment record, and the scores per turn, per category and overall
 * (`show_result.py`: ratings of −1 are dropped, then means).
 */
import type { ChatMessage } from '../core/events.js';
import type { MtBenchAnswer, MtBenchJudgePrompt, MtBenchQuestion } from './mt-bench-data.js';
import { MT_BENCH_REFERENCE_CATEGORIES } from './mt-bench-data.js';

/** FastChat's judge call settings for OpenAI judges. */
export const MT_BENCH_JUDGE_SETTINGS = { model: 'gpt-4', temperature: 0, maxTokens: 2048 } as const;

/**
 * Python's `str.format(**values)` for named fields: `{name}` is replaced, `{{` and `}}` are
 * literal braces; a field with no value or a lone brace is an error (as Python raises).
 */
export function formatPythonTemplate(template: string, values: Readonly<Record<string, string>>): string {
  let result = '';
  for (let position = 0; position < template.length; position++) {
    const character = template[position];
    if (character === '{') {
      if (template[position + 1] === '{') {
        result += '{';
        position++;
        continue;
      }
      const end = template.indexOf('}', position);
      if (end === -1) throw new Error(`unmatched "{" at position ${position} of the template`);
      const field = template.slice(position + 1, end);
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(field)) throw new Error(`unsupported template field "{${field}}" (only named fields)`);
      const value = values[field];
      if (value === undefined) throw new Error(`the template needs a value for {${field}}`);
      result += value;
      position = end;
    } else if (character === '}') {
      if (template[position + 1] !== '}') throw new Error(`single "}" at position ${position} of the template`);
      result += '}';
      position++;
    } else {
      result += character;
    }
  }
  return result;
}

/** The judge prompt FastChat uses for a category and turn (1 or 2) in single-answer grading. */
export function mtBenchJudgePromptName(category: string, turn: 1 | 2): string {
  const math = MT_BENCH_REFERENCE_CATEGORIES.includes(category);
  return `single-${math ? 'math-' : ''}v1${turn === 2 ? '-multi-turn' : ''}`;
}

export interface MtBenchJudgeRequest {
  promptName: string;
  turn: 1 | 2;
  /** [system, user], as FastChat sends them to an OpenAI judge. */
  messages: ChatMessage[];
  userPrompt: string;
}

/**
 * The judge's messages for one answer and turn. Math, reasoning and coding questions need the
 * reference answer (FastChat uses GPT-4's, `reference_answer/gpt-4.jsonl`, whatever the judge).
 */
export function buildMtBenchJudgeRequest(input: {
  question: Pick<MtBenchQuestion, 'question_id' | 'category' | 'turns'>;
  answer: Pick<MtBenchAnswer, 'choices'>;
  turn: 1 | 2;
  judgePrompts: ReadonlyMap<string, MtBenchJudgePrompt>;
  referenceAnswer?: Pick<MtBenchAnswer, 'choices'> | undefined;
}): MtBenchJudgeRequest {
  const { question, answer, turn } = input;
  const promptName = mtBenchJudgePromptName(question.category, turn);
  const prompt = input.judgePrompts.get(promptName);
  if (!prompt) throw new Error(`the judge prompts have no "${promptName}" (needed for ${question.category} questions, turn ${turn})`);
  if (prompt.type !== 'single' || prompt.output_format !== '[[rating]]') {
    throw new Error(`judge prompt "${promptName}" is not a single-answer grading prompt with output format [[rating]]`);
  }
  const answerTurns = answer.choices[0]?.turns ?? [];
  if (answerTurns.length < turn) throw new Error(`question ${question.question_id}: the answer has ${answerTurns.length} turn(s), turn ${turn} cannot be judged`);
  if (question.turns.length < turn) throw new Error(`question ${question.question_id} has no turn ${turn}`);
  const values = referenceValues(question, turn, input.referenceAnswer);
  if (turn === 2) {
    values.question_1 = question.turns[0] ?? '';
    values.question_2 = question.turns[1] ?? '';
    values.answer_1 = answerTurns[0] ?? '';
    values.answer_2 = answerTurns[1] ?? '';
  } else {
    values.question = question.turns[0] ?? '';
    values.answer = answerTurns[0] ?? '';
  }
  const userPrompt = formatPythonTemplate(prompt.prompt_template, values);
  return {
    promptName,
    turn,
    messages: [
      { role: 'system', content: prompt.system_prompt },
      { role: 'user', content: userPrompt },
    ],
    userPrompt,
  };
}

/**
 * FastChat's rating parser: the first `[[x]]`, else the first `[x]`, where x is digits with an
 * optional decimal part; −1 when neither appears.
 */
export function parseMtBenchRating(judgment: string): number {
  const match = /\[\[(\d+\.?\d*)\]\]/.exec(judgment) ?? /\[(\d+\.?\d*)\]/.exec(judgment);
  if (!match?.[1]) return -1;
  const rating = Number(match[1]);
  return Number.isFinite(rating) ? rating : -1;
}

/** FastChat's judgment record (`model_judgment/<judge>_single.jsonl`). */
export interface MtBenchJudgment {
  question_id: number;
  model: string;
  /** [judge model, judge prompt name]. */
  judge: [string, string];
  user_prompt: string;
  judgment: string;
  /** The rating, or −1 when none was found. */
  score: number;
  turn: 1 | 2;
  tstamp: number;
}

export function makeMtBenchJudgment(input: {
  questionId: number;
  model: string;
  judgeModel: string;
  request: MtBenchJudgeRequest;
  judgment: string;
  now?: () => number;
}): MtBenchJudgment {
  return {
    question_id: input.questionId,
    model: input.model,
    judge: [input.judgeModel, input.request.promptName],
    user_prompt: input.request.userPrompt,
    judgment: input.judgment,
    score: parseMtBenchRating(input.judgment),
    turn: input.request.turn,
    tstamp: (input.now ?? Date.now)() / 1000,
  };
}

export interface ScoreSummary {
  /** Mean rating over valid judgments (NaN when there are none). */
  score: number;
  count: number;
}

export interface MtBenchModelScores {
  model: string;
  overall: ScoreSummary;
  firstTurn: ScoreSummary;
  secondTurn: ScoreSummary;
  byCategory: Record<string, { overall: ScoreSummary; firstTurn: ScoreSummary; secondTurn: ScoreSummary }>;
  /** Judgments whose rating could not be parsed (score −1), left out of every mean. */
  unparsed: number;
}

function summarize(scores: readonly number[]): ScoreSummary {
  return { score: scores.length > 0 ? scores.reduce((sum, score) => sum + score, 0) / scores.length : Number.NaN, count: scores.length };
}

/** Scores per model: overall, per turn and per category (ratings of −1 dropped, as show_result.py does). */
export function summarizeMtBenchJudgments(
  judgments: readonly Pick<MtBenchJudgment, 'question_id' | 'model' | 'score' | 'turn'>[],
  questions: readonly Pick<MtBenchQuestion, 'question_id' | 'category'>[],
): MtBenchModelScores[] {
  const categoryOf = new Map(questions.map((question) => [question.question_id, question.category]));
  const byModel = new Map<string, Array<Pick<MtBenchJudgment, 'question_id' | 'score' | 'turn'>>>();
  for (const judgment of judgments) {
    const list = byModel.get(judgment.model) ?? [];
    list.push(judgment);
    byModel.set(judgment.model, list);
  }
  const results: MtBenchModelScores[] = [];
  for (const [model, list] of byModel) {
    const valid = list.filter((judgment) => judgment.score !== -1);
    const scoresOf = (filter: (judgment: Pick<MtBenchJudgment, 'question_id' | 'score' | 'turn'>) => boolean) =>
      summarize(valid.filter(filter).map((judgment) => judgment.score));
    const categories = [...new Set(list.map((judgment) => categoryOf.get(judgment.question_id) ?? 'unknown'))].sort();
    const byCategory: MtBenchModelScores['byCategory'] = {};
    for (const category of categories) {
      const inCategory = (judgment: Pick<MtBenchJudgment, 'question_id'>) => (categoryOf.get(judgment.question_id) ?? 'unknown') === category;
      byCategory[category] = {
        overall: scoresOf(inCategory),
        firstTurn: scoresOf((judgment) => inCategory(judgment) && judgment.turn === 1),
        secondTurn: scoresOf((judgment) => inCategory(judgment) && judgment.turn === 2),
      };
    }
    results.push({
      model,
      overall: scoresOf(() => true),
      firstTurn: scoresOf((judgment) => judgment.turn === 1),
      secondTurn: scoresOf((judgment) => judgment.turn === 2),
      byCategory,
      unparsed: list.length - valid.length,
    });
  }
  return results.sort((left, right) => right.overall.score - left.overall.score);
}

/**
 * The reference answer's turns for the categories FastChat judges against one (math, reasoning,
 * coding): `ref_answer_1`, and `ref_answer_2` for turn 2; none for the others. Shared by the
 * single-answer and the pairwise prompts, which name them alike.
 */
export function referenceValues(
  question: Pick<MtBenchQuestion, 'category' | 'question_id'>,
  turn: number,
  referenceAnswer: Pick<MtBenchAnswer, 'choices'> | undefined,
): Record<string, string> {
  const values: Record<string, string> = {};
  if (!MT_BENCH_REFERENCE_CATEGORIES.includes(question.category)) return values;
  const referenceTurns = referenceAnswer?.choices[0]?.turns;
  if (!referenceTurns || referenceTurns.length < turn) {
    throw new Error(
      `question ${question.question_id} (${question.category}) needs a reference answer for turn ${turn} (pass the reference answers, e.g. reference_answer/gpt-4.jsonl)`,
    );
  }
  values.ref_answer_1 = referenceTurns[0] ?? '';
  if (turn === 2) values.ref_answer_2 = referenceTurns[1] ?? '';
  return values;
}
