/**
 * Every benchmark loader on the official files it reads ($MOA_BENCH_DATA, never copied here):
 * each file loads whole, with the optional fields, the nulls, the extra fields and the CSV
 * numbers the files really have.
 */
import { describe, expect, it } from 'vitest';
import {
  loadAlpacaEvalAnnotations,
  loadAlpacaEvalLeaderboard,
  loadAlpacaEvalOutputs,
  loadAlpacaEvalSet,
  loadGamedBaselineRows,
  loadInstructionDifficulty,
} from '../../src/eval/alpaca-eval-data.js';
import { loadFlaskEvaluationSet, loadFlaskJudgePrompts, loadFlaskReviewers, loadFlaskSkills } from '../../src/eval/flask-data.js';
import { loadMtBenchAnswers, loadMtBenchJudgePrompts, loadMtBenchQuestions } from '../../src/eval/mt-bench-data.js';
import { benchFile, haveBenchFiles } from './bench-data.js';

const files = {
  instructions: benchFile('alpaca_eval', 'alpaca_eval_instructions.json'),
  baseline: benchFile('alpaca_eval', 'alpaca_eval_gpt4_baseline.json'),
  togetherMoA: benchFile('alpaca_eval', 'reference_models', 'Together-MoA_model_outputs.json'),
  annotations: benchFile('alpaca_eval', 'validation', 'gpt-3.5-turbo-1106_annotations.json'),
  difficulty: benchFile('alpaca_eval', 'lc', 'instruction_difficulty.csv'),
  gamed: benchFile('alpaca_eval', 'lc', 'df_gamed.csv'),
  leaderboard: benchFile('alpaca_eval', 'leaderboard', 'weighted_alpaca_eval_gpt4_turbo_leaderboard.csv'),
  questions: benchFile('mt_bench', 'question.jsonl'),
  referenceAnswers: benchFile('mt_bench', 'reference_answer', 'gpt-4.jsonl'),
  judgePrompts: benchFile('mt_bench', 'judge_prompts.jsonl'),
  flask: benchFile('flask', 'flask_evaluation.jsonl'),
  flaskHard: benchFile('flask', 'flask_hard_evaluation.jsonl'),
  skills: benchFile('flask', 'skillset_description.json'),
  flaskPrompts: benchFile('flask', 'gpt_review', 'prompt.jsonl'),
  reviewers: benchFile('flask', 'gpt_review', 'reviewer.jsonl'),
};
const haveData = haveBenchFiles(...Object.values(files));

describe.skipIf(!haveData)('the loaders on the official benchmark files', () => {
  it('AlpacaEval: the evaluation set, the outputs and the validation annotations (nulls kept, extra fields dropped)', () => {
    const set = loadAlpacaEvalSet(files.instructions);
    expect(set).toHaveLength(805);
    expect(set[0]).toEqual({ instruction: expect.any(String), dataset: 'helpful_base', line: 2 });
    // The baseline file is also an evaluation set: its `output` and `generator` are ignored there.
    expect(loadAlpacaEvalSet(files.baseline).map((item) => item.instruction)).toEqual(set.map((item) => item.instruction));

    const baseline = loadAlpacaEvalOutputs(files.baseline);
    expect(baseline).toHaveLength(805);
    expect(Object.keys(baseline[0] ?? {})).toEqual(['instruction', 'output', 'generator', 'dataset']);
    expect(baseline[0]?.generator).toBe('gpt4_1106_preview');
    expect(loadAlpacaEvalOutputs(files.togetherMoA).every((output) => output.generator === 'Together-MoA')).toBe(true);

    const annotations = loadAlpacaEvalAnnotations(files.annotations);
    expect(annotations).toHaveLength(805);
    expect(annotations[0]).toMatchObject({ annotator: 'weighted_alpaca_eval_gpt4_turbo', dataset: 'helpful_base', preference: 1.0000009722 });
    expect(typeof annotations[0]?.raw_completion).toBe('object');
    // A cached judgment: price, time and raw completion are null in the file, and stay null.
    expect(annotations[199]).toMatchObject({ price_per_example: null, time_per_example: null, raw_completion: null });
    // No field the file does not have appears (is_switched_outputs is moa's own).
    expect('is_switched_outputs' in (annotations[0] ?? {})).toBe(false);
  });

  it('AlpacaEval CSVs: numbers read from the cells, blank standard errors as null, the unnamed name column', () => {
    const difficulty = loadInstructionDifficulty(files.difficulty);
    expect(difficulty).toHaveLength(805);
    expect(difficulty.slice(0, 2)).toEqual([0, -0.10135965494072346]);

    const gamed = loadGamedBaselineRows(files.gamed);
    expect(gamed).toHaveLength(1610);
    expect(gamed[0]).toEqual({
      preference: 0.9972850149000001,
      index: 0,
      standardizedLengthDifference: -1.0693489112580563,
      instructionDifficulty: 0,
      model: 'gpt4_1106_preview_verbose',
    });

    const leaderboard = loadAlpacaEvalLeaderboard(files.leaderboard);
    expect(leaderboard).toHaveLength(223);
    expect(leaderboard.find((row) => row.name === 'Together-MoA')).toEqual({
      name: 'Together-MoA',
      win_rate: 59.8688062333292,
      standard_error: 1.434305604543079,
      length_controlled_winrate: 65.37996976852163,
      lc_standard_error: 0.7392392836781445,
      n_total: 805,
      avg_length: 1825,
      mode: 'community',
    });
    // Rows the leaderboard publishes without an LC standard error.
    expect(leaderboard.find((row) => row.name === 'gpt-4o-2024-05-13')).toMatchObject({ length_controlled_winrate: 57.45682883335095, lc_standard_error: null });
  });

  it('MT-Bench: questions (with the optional reference), the GPT-4 reference answers, the judge prompts', () => {
    const questions = loadMtBenchQuestions(files.questions, { turns: 2 });
    expect(questions).toHaveLength(80);
    expect(questions.filter((question) => question.reference !== undefined)).toHaveLength(39);
    expect(questions[0]).not.toHaveProperty('reference');
    expect(questions[0]).not.toHaveProperty('required_temperature');
    expect(questions.find((question) => question.question_id === 95)?.reference).toEqual([expect.any(String), expect.any(String)]);

    const references = loadMtBenchAnswers(files.referenceAnswers);
    expect(references.size).toBe(30);
    expect(references.get(101)).toMatchObject({
      answer_id: 'TFomieEmmAgdeCkvmuvwbc',
      model_id: 'gpt-4',
      choices: [{ index: 0, turns: [expect.any(String), expect.any(String)] }],
    });
    expect(references.get(101)?.tstamp).toBeGreaterThan(1_600_000_000);

    const prompts = loadMtBenchJudgePrompts(files.judgePrompts);
    expect([...prompts.keys()]).toEqual([
      'pair-v2',
      'pair-v2-multi-turn',
      'pair-math-v1',
      'pair-math-v1-multi-turn',
      'single-v1',
      'single-math-v1',
      'single-v1-multi-turn',
      'single-math-v1-multi-turn',
    ]);
    expect(prompts.get('single-v1')).toMatchObject({ type: 'single', output_format: '[[rating]]', category: 'general' });
  });

  it('FLASK: both evaluation sets keep every field of an instance; skills, prompts and reviewers load', () => {
    const instances = loadFlaskEvaluationSet(files.flask);
    expect(instances).toHaveLength(1740);
    expect(loadFlaskEvaluationSet(files.flaskHard)).toHaveLength(89);
    const first = instances[0];
    expect(first).toMatchObject({ idx: 1, task: 'Self-instruct', domain: ['Humanities'], line: 1 });
    expect(first?.skill).toHaveLength(3);
    // The fields moa does not read are kept for the review file, in the file's order (idx 259 has eight more).
    expect(Object.keys(instances.find((instance) => instance.idx === 259)?.fields ?? {})).toEqual([
      'subcategory',
      'domain',
      'subdomain',
      'deterministic',
      'mcqa',
      'subtag',
      'skill_domain',
      'skill_subdomain',
      'idx',
      'instruction',
      'answer',
      'task',
      'skill',
      'difficulty',
    ]);
    // `difficulty` is a string on most lines and a number on two: kept as it is.
    expect(instances.find((instance) => instance.idx === 1706)?.difficulty).toEqual(expect.any(Number));
    expect(first?.difficulty).toEqual(expect.any(String));

    const skills = loadFlaskSkills(files.skills);
    expect(skills).toHaveLength(12);
    expect(Object.keys(skills[0]?.Scoring ?? {})).toEqual(['1', '2', '3', '4', '5']);

    const prompts = loadFlaskJudgePrompts(files.flaskPrompts);
    expect([...prompts.keys()]).toEqual([1, 2]);
    expect(Object.keys(prompts.get(2)?.defaults ?? {})).toEqual(['prompt1', 'prompt2']);

    const reviewers = loadFlaskReviewers(files.reviewers);
    expect(reviewers.map((reviewer) => [reviewer.prompt_id, reviewer.metadata])).toEqual([
      [1, { temperature: 0.2, max_tokens: 1024 }],
      [2, { temperature: 0.2, max_tokens: 1024 }],
    ]);
  });
});
