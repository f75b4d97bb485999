/**
 * MT-Bench pairwise comparison as FastChat's `gen_judgment.py --mode pairwise-all` does it,
 * without the model call: the pairwise prompts (`pair-v2`, `pair-v2-multi-turn`, and the
 * reference-guided `pair-math-v1[-multi-turn]` for math, reasoning and coding), each pair judged
 * twice (game 1: A shown as assistant A; game 2: B shown as assistant A), the verdict read as
 * FastChat reads it (`[[A]]`, else `[[B]]`, else `[[C]]` = tie, else an error), the
 * `model_judgment/<judge>_pair.jsonl` record, and the combined outcome `show_result.py` counts
 * (a win only when both games agree; a tie when either game says tie or they disagree).
 */
import type { ChatMessage } from '../core/events.js';
import type { MtBenchAnswer, MtBenchJudgePrompt, MtBenchQuestion } from './mt-bench-data.js';
import { MT_BENCH_REFERENCE_CATEGORIES } from './mt-bench-data.js';
import { formatPythonTemplate, referenceValues } from './mt-bench-judge.js';

/** The pairwise prompt FastChat uses for a category and turn. */
export function mtBenchPairwisePromptName(category: string, turn: 1 | 2): string {
  const math = MT_BENCH_REFERENCE_CATEGORIES.includes(category);
  return `pair-${math ? 'math-v1' : 'v2'}${turn === 2 ? '-multi-turn' : ''}`;
}

export interface MtBenchPairwiseRequest {
  promptName: string;
  turn: 1 | 2;
  messages: ChatMessage[];
  userPrompt: string;
}

/**
 * The judge's messages for one game: `first` is shown as assistant A, `second` as assistant B.
 * Math, reasoning and coding need the reference answer, as in single grading.
 */
export function buildMtBenchPairwiseRequest(input: {
  question: Pick<MtBenchQuestion, 'question_id' | 'category' | 'turns'>;
  first: Pick<MtBenchAnswer, 'choices'>;
  second: Pick<MtBenchAnswer, 'choices'>;
  turn: 1 | 2;
  judgePrompts: ReadonlyMap<string, MtBenchJudgePrompt>;
  referenceAnswer?: Pick<MtBenchAnswer, 'choices'> | undefined;
}): MtBenchPairwiseRequest {
  const { question, turn } = input;
  const promptName = mtBenchPairwisePromptName(question.category, turn);
  const prompt = input.judgePrompts.get(promptName);
  if (!prompt) throw new Error(`the judge prompts have no "${promptName}" (needed for ${question.category} questions, turn ${turn})`);
  if (prompt.type !== 'pairwise' || prompt.output_format !== '[[A]]') throw new Error(`judge prompt "${promptName}" is not a pairwise prompt with output format [[A]]`);
  const turnsOf = (answer: Pick<MtBenchAnswer, 'choices'>, which: string): string[] => {
    const turns = answer.choices[0]?.turns ?? [];
    if (turns.length < turn) throw new Error(`question ${question.question_id}: answer ${which} has ${turns.length} turn(s), turn ${turn} cannot be judged`);
    return turns;
  };
  const a = turnsOf(input.first, 'A');
  const b = turnsOf(input.second, 'B');
  if (question.turns.length < turn) throw new Error(`question ${question.question_id} has no turn ${turn}`);
  const values = referenceValues(question, turn, input.referenceAnswer);
  if (turn === 2) {
    values.question_1 = question.turns[0] ?? '';
    values.question_2 = question.turns[1] ?? '';
    values.answer_a_1 = a[0] ?? '';
    values.answer_b_1 = b[0] ?? '';
    values.answer_a_2 = a[1] ?? '';
    values.answer_b_2 = b[1] ?? '';
  } else {
    values.question = question.turns[0] ?? '';
    values.answer_a = a[0] ?? '';
    values.answer_b = b[0] ?? '';
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

/** FastChat's verdict of one game: which assistant won, as shown. */
export type PairwiseVerdict = 'A' | 'B' | 'tie' | 'error';

/** `[[A]]` anywhere wins, then `[[B]]`, then `[[C]]` (a tie); anything else is an error (FastChat's order). */
export function parseMtBenchPairwiseVerdict(judgment: string): PairwiseVerdict {
  if (judgment.includes('[[A]]')) return 'A';
  if (judgment.includes('[[B]]')) return 'B';
  if (judgment.includes('[[C]]')) return 'tie';
  return 'error';
}

/** A game's winner in FastChat's record: `model_1`, `model_2`, `tie` or `error`. */
export const PAIRWISE_WINNERS = ['model_1', 'model_2', 'tie', 'error'] as const;
export type PairwiseWinner = (typeof PAIRWISE_WINNERS)[number];

/** Game 1 shows model_1 as A; game 2 shows model_2 as A. */
export function pairwiseWinner(verdict: PairwiseVerdict, game: 1 | 2): PairwiseWinner {
  if (verdict === 'A') return game === 1 ? 'model_1' : 'model_2';
  if (verdict === 'B') return game === 1 ? 'model_2' : 'model_1';
  return verdict;
}

/** FastChat's pairwise judgment record (`model_judgment/<judge>_pair.jsonl`). */
export interface MtBenchPairwiseJudgment {
  question_id: number;
  model_1: string;
  model_2: string;
  g1_winner: PairwiseWinner;
  g2_winner: PairwiseWinner;
  /** [judge model, judge prompt name]. */
  judge: [string, string];
  g1_user_prompt: string;
  g1_judgment: string;
  g2_user_prompt: string;
  g2_judgment: string;
  turn: 1 | 2;
  tstamp: number;
}

/**
 * model_1's preference from the two games, as `show_result.py` counts them: 1 when both games
 * say model_1, 0 when both say model_2, 0.5 otherwise (a tie, or games that disagree); null
 * when either game's verdict could not be read (FastChat drops those rows).
 */
export function pairwisePreference(judgment: Pick<MtBenchPairwiseJudgment, 'g1_winner' | 'g2_winner'>): number | null {
  const { g1_winner: first, g2_winner: second } = judgment;
  if (first === 'error' || second === 'error') return null;
  if (first === 'tie' || first !== second) return 0.5;
  return first === 'model_1' ? 1 : 0;
}
