/**
 * Bad benchmark records: every loader's error is an EvalDataError (a ConfigError: exit 2) naming
 * the file, the line where the record starts and the exact field path, with what was found.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../util/errors.js';
import {
  loadAlpacaEvalAnnotations,
  loadAlpacaEvalLeaderboard,
  loadAlpacaEvalOutputs,
  loadAlpacaEvalSet,
  loadGamedBaselineRows,
  loadInstructionDifficulty,
} from './alpaca-eval-data.js';
import { EvalDataError } from './eval-data-error.js';
import { loadFlaskAnswers, loadFlaskEvaluationSet, loadFlaskJudgePrompts, loadFlaskReviewers, loadFlaskReviews, loadFlaskSkills } from './flask-data.js';
import { loadMtBenchAnswers, loadMtBenchJudgePrompts, loadMtBenchQuestions } from './mt-bench-data.js';
import { loadReportInputs } from './report/report-inputs.js';

const directory = mkdtempSync(join(tmpdir(), 'moa-record-schema-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));
let fileCount = 0;
function write(name: string, lines: readonly string[]): string {
  const file = join(directory, `${++fileCount}-${name}`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}
const jsonLines = (name: string, records: readonly object[]): string =>
  write(
    name,
    records.map((record) => JSON.stringify(record)),
  );

function dataError(load: () => unknown): EvalDataError {
  try {
    load();
  } catch (error) {
    if (error instanceof EvalDataError) return error;
    throw error;
  }
  throw new Error('expected an EvalDataError, but the file loaded');
}

/** The error names exactly this file, line and field, and says exactly this. */
function expectDataError(load: () => unknown, where: { file: string; line: number; field?: string }, message: string): void {
  const error = dataError(load);
  expect(error).toBeInstanceOf(ConfigError);
  expect({ file: error.file, line: error.line, field: error.field }).toEqual({ file: where.file, line: where.line, field: where.field });
  expect(error.message).toBe(`${where.file}:${where.line}${where.field !== undefined ? ` (field "${where.field}")` : ''}: ${message}`);
}

describe('AlpacaEval records (JSON arrays: the line where the element starts)', () => {
  const output = (instruction: string, extra: object = {}) => JSON.stringify({ instruction, output: 'o', generator: 'g', ...extra });

  it('outputs: a missing field, a wrong type, a duplicate; dataset optional, output may be empty', () => {
    const missing = write('missing.json', ['[', `  ${output('a')},`, '  {"instruction": "b", "output": "o"}', ']']);
    expectDataError(() => loadAlpacaEvalOutputs(missing), { file: missing, line: 3, field: 'generator' }, 'missing');
    const wrongType = write('wrong-type.json', ['[', `  ${output('a')},`, `  ${output('b')},`, `  ${output('c', { output: 5 })}`, ']']);
    expectDataError(() => loadAlpacaEvalOutputs(wrongType), { file: wrongType, line: 4, field: 'output' }, 'expected a string (found number 5)');
    const emptyGenerator = write('empty-generator.json', ['[', `  ${output('a', { generator: '' })}`, ']']);
    expectDataError(() => loadAlpacaEvalOutputs(emptyGenerator), { file: emptyGenerator, line: 2, field: 'generator' }, 'expected a non-empty string');
    const duplicate = write('duplicate.json', ['[', `  ${output('a')},`, `  ${output('b')},`, `  ${output('a')}`, ']']);
    expectDataError(() => loadAlpacaEvalOutputs(duplicate), { file: duplicate, line: 4, field: 'instruction' }, 'duplicate instruction (already on line 2)');
    const good = write('good.json', ['[', `  ${output('a', { output: '', dataset: null, extra: 1 })},`, `  ${output('b', { dataset: 'koala' })}`, ']']);
    expect(loadAlpacaEvalOutputs(good)).toEqual([
      { instruction: 'a', output: '', generator: 'g', dataset: '' },
      { instruction: 'b', output: 'o', generator: 'g', dataset: 'koala' },
    ]);
  });

  it('the evaluation set: a record that is not an object, a duplicate instruction', () => {
    const notObject = write('set.json', ['[', '  {"instruction": "a", "dataset": "d"},', '  "b"', ']']);
    expectDataError(() => loadAlpacaEvalSet(notObject), { file: notObject, line: 3, field: '[1]' }, 'expected a JSON object (found "b")');
    const duplicate = write('set-duplicate.json', ['[', '  {"instruction": "a", "dataset": "d"},', '  {"instruction": "a", "dataset": "d"}', ']']);
    expectDataError(
      () => loadAlpacaEvalSet(duplicate),
      { file: duplicate, line: 3, field: 'instruction' },
      'duplicate instruction (already on line 2); AlpacaEval joins outputs by instruction',
    );
  });

  it('annotations: preference missing, out of range or a string; is_switched_outputs not a boolean; nulls and 0 accepted', () => {
    const annotation = (extra: object) =>
      JSON.stringify({ instruction: 'i', output_1: 'a', generator_1: 'base', output_2: 'b', generator_2: 'model', preference: 1.5, ...extra });
    const file = (name: string, extra: object) => write(name, ['[', `  ${annotation({})},`, `  ${annotation(extra)}`, ']']);
    const noPreference = write('no-preference.json', ['[', '  {"instruction": "i", "output_1": "a", "generator_1": "b", "output_2": "c", "generator_2": "m"}', ']']);
    expectDataError(() => loadAlpacaEvalAnnotations(noPreference), { file: noPreference, line: 2, field: 'preference' }, 'missing (use null for an unparsed judgment)');
    const outOfRange = file('out-of-range.json', { preference: 2.5 });
    expectDataError(
      () => loadAlpacaEvalAnnotations(outOfRange),
      { file: outOfRange, line: 3, field: 'preference' },
      'expected a number in [1, 2] (1 = output_1 better, 2 = output_2 better; 0 is read as a draw), found 2.5',
    );
    const asString = file('string.json', { preference: '2' });
    expectDataError(() => loadAlpacaEvalAnnotations(asString), { file: asString, line: 3, field: 'preference' }, 'expected a number in [1, 2] or null (found "2")');
    const switched = file('switched.json', { is_switched_outputs: 'yes' });
    expectDataError(() => loadAlpacaEvalAnnotations(switched), { file: switched, line: 3, field: 'is_switched_outputs' }, 'expected true or false (found "yes")');
    const price = file('price.json', { price_per_example: '0.01' });
    expectDataError(() => loadAlpacaEvalAnnotations(price), { file: price, line: 3, field: 'price_per_example' }, 'expected a number (found "0.01")');

    const accepted = file('accepted.json', { preference: null, price_per_example: null, raw_completion: { text: 'm' }, is_switched_outputs: true, dataset: null });
    const [first, second] = loadAlpacaEvalAnnotations(accepted);
    expect(Object.keys(first ?? {})).toEqual(['instruction', 'output_1', 'generator_1', 'output_2', 'generator_2', 'preference']);
    expect(second).toEqual({ ...first, preference: null, price_per_example: null, raw_completion: { text: 'm' }, is_switched_outputs: true });
    expect(second).not.toHaveProperty('dataset');
    expect(loadAlpacaEvalAnnotations(file('legacy-draw.json', { preference: 0 }))[1]?.preference).toBe(0);
  });
});

describe('AlpacaEval CSV rows (the cells are text: numbers are read from them)', () => {
  const gamedHeader = 'preference,index,std_delta_len,instruction_difficulty,not_gamed_baseline,model';

  it('df_gamed.csv: a preference out of [0, 1], a non-number, a row that is not a gamed baseline', () => {
    const outOfRange = write('gamed.csv', [gamedHeader, '0.5,0,-1.2,0.1,False,v', '1.5,1,-1.2,0.1,False,v']);
    expectDataError(() => loadGamedBaselineRows(outOfRange), { file: outOfRange, line: 3, field: 'preference' }, 'expected a value in [0, 1], found 1.5');
    const notNumber = write('gamed-nan.csv', [gamedHeader, '0.5,0,,0.1,False,v']);
    expectDataError(() => loadGamedBaselineRows(notNumber), { file: notNumber, line: 2, field: 'std_delta_len' }, 'expected a number (found "")');
    const badIndex = write('gamed-index.csv', [gamedHeader, '0.5,-1,0,0.1,False,v']);
    expectDataError(() => loadGamedBaselineRows(badIndex), { file: badIndex, line: 2, field: 'index' }, 'expected a non-negative whole number, found -1');
    const notGamed = write('gamed-true.csv', [gamedHeader, '0.5,0,0,0.1,True,v']);
    expectDataError(
      () => loadGamedBaselineRows(notGamed),
      { file: notGamed, line: 2, field: 'not_gamed_baseline' },
      'expected False on every gamed-baseline row, found "True"',
    );
    expect(loadGamedBaselineRows(write('gamed-good.csv', [gamedHeader, '0.25,3,-1.5e-1,0,False,verbose']))).toEqual([
      { preference: 0.25, index: 3, standardizedLengthDifference: -0.15, instructionDifficulty: 0, model: 'verbose' },
    ]);
  });

  it('instruction_difficulty.csv: rows out of order', () => {
    const file = write('difficulty.csv', ['index,instruction_difficulty', '0,0.5', '2,0.1']);
    expectDataError(() => loadInstructionDifficulty(file), { file, line: 3, field: 'index' }, 'expected index 1 (rows must be in evaluation order), found 2');
  });

  it('the leaderboard: blank cells are null, a non-number is named', () => {
    const header = ',win_rate,standard_error,n_total,mode,avg_length,length_controlled_winrate,lc_standard_error';
    const good = write('leaderboard.csv', [header, 'model-a,50.5,1.2,805,community,1800,60.1,', 'model-b,40,,805,verified,900,,']);
    expect(loadAlpacaEvalLeaderboard(good)).toEqual([
      {
        name: 'model-a',
        win_rate: 50.5,
        standard_error: 1.2,
        length_controlled_winrate: 60.1,
        lc_standard_error: null,
        n_total: 805,
        avg_length: 1800,
        mode: 'community',
      },
      { name: 'model-b', win_rate: 40, standard_error: null, length_controlled_winrate: null, lc_standard_error: null, n_total: 805, avg_length: 900, mode: 'verified' },
    ]);
    const bad = write('leaderboard-bad.csv', [header, 'model-a,50.5,1.2,805,community,1800,60.1,', 'model-b,40,n/a,805,verified,900,,']);
    expectDataError(() => loadAlpacaEvalLeaderboard(bad), { file: bad, line: 3, field: 'standard_error' }, 'expected a number or a blank cell (found "n/a")');
    const noWinRate = write('leaderboard-blank.csv', [header, 'model-a,,1.2,805,community,1800,60.1,']);
    expectDataError(() => loadAlpacaEvalLeaderboard(noWinRate), { file: noWinRate, line: 2, field: 'win_rate' }, 'expected a number (found "")');
  });
});

describe('MT-Bench records (JSON Lines)', () => {
  const question = { question_id: 81, category: 'writing', turns: ['one', 'two'] };
  const answer = { question_id: 81, answer_id: 'x', model_id: 'm', choices: [{ index: 0, turns: ['a', 'b'] }], tstamp: 1.5 };

  it('questions: a missing list, a list that is not of strings, a bad element, a wrong turn count, a duplicate', () => {
    const noTurns = jsonLines('q1.jsonl', [question, { question_id: 82, category: 'writing' }]);
    expectDataError(() => loadMtBenchQuestions(noTurns), { file: noTurns, line: 2, field: 'turns' }, 'missing');
    const turnsString = jsonLines('q2.jsonl', [{ ...question, turns: 'one' }]);
    expectDataError(() => loadMtBenchQuestions(turnsString), { file: turnsString, line: 1, field: 'turns' }, 'expected a list of strings (found "one")');
    const badTurn = jsonLines('q3.jsonl', [question, { ...question, question_id: 82, turns: ['one', 7] }]);
    expectDataError(() => loadMtBenchQuestions(badTurn), { file: badTurn, line: 2, field: 'turns[1]' }, 'expected a string (found number 7)');
    const threeTurns = jsonLines('q4.jsonl', [{ ...question, turns: ['a', 'b', 'c'] }]);
    expectDataError(() => loadMtBenchQuestions(threeTurns, { turns: 2 }), { file: threeTurns, line: 1, field: 'turns' }, 'expected exactly 2 entries (found 3)');
    const noTurn = jsonLines('q5.jsonl', [{ ...question, turns: [] }]);
    expectDataError(() => loadMtBenchQuestions(noTurn), { file: noTurn, line: 1, field: 'turns' }, 'expected at least 1 entry (found 0)');
    const badReference = jsonLines('q6.jsonl', [{ ...question, reference: ['r', null] }]);
    expectDataError(() => loadMtBenchQuestions(badReference), { file: badReference, line: 1, field: 'reference[1]' }, 'expected a string (found null)');
    const fractionalId = jsonLines('q7.jsonl', [{ ...question, question_id: 81.5 }]);
    expectDataError(() => loadMtBenchQuestions(fractionalId), { file: fractionalId, line: 1, field: 'question_id' }, 'expected a whole number (found 81.5)');
    const temperature = jsonLines('q8.jsonl', [{ ...question, required_temperature: '0.7' }]);
    expectDataError(() => loadMtBenchQuestions(temperature), { file: temperature, line: 1, field: 'required_temperature' }, 'expected a number (found "0.7")');
    const duplicate = write('q9.jsonl', [JSON.stringify(question), '', JSON.stringify(question)]);
    expectDataError(() => loadMtBenchQuestions(duplicate), { file: duplicate, line: 3, field: 'question_id' }, 'duplicate question_id 81 (already on line 1)');
  });

  it('answers: bad nested choices name the exact path; answer_id and tstamp optional', () => {
    const badTurn = jsonLines('a1.jsonl', [answer, { ...answer, question_id: 82, choices: [{ index: 0, turns: ['a', 7] }] }]);
    expectDataError(() => loadMtBenchAnswers(badTurn), { file: badTurn, line: 2, field: 'choices[0].turns[1]' }, 'expected a string (found number 7)');
    const badChoice = jsonLines('a2.jsonl', [{ ...answer, choices: [{ index: 0, turns: ['a'] }, null] }]);
    expectDataError(() => loadMtBenchAnswers(badChoice), { file: badChoice, line: 1, field: 'choices[1]' }, 'expected an object {index, turns} (found null)');
    const badIndex = jsonLines('a3.jsonl', [{ ...answer, choices: [{ index: 0.5, turns: ['a'] }] }]);
    expectDataError(() => loadMtBenchAnswers(badIndex), { file: badIndex, line: 1, field: 'choices[0].index' }, 'expected a whole number (found 0.5)');
    const noTurns = jsonLines('a4.jsonl', [{ ...answer, choices: [{ index: 0, turns: [] }] }]);
    expectDataError(() => loadMtBenchAnswers(noTurns), { file: noTurns, line: 1, field: 'choices[0].turns' }, 'expected a non-empty list of answers');
    const noChoices = jsonLines('a5.jsonl', [{ ...answer, choices: [] }]);
    expectDataError(() => loadMtBenchAnswers(noChoices), { file: noChoices, line: 1, field: 'choices' }, 'expected a non-empty list of {index, turns}');
    const noModel = jsonLines('a6.jsonl', [{ question_id: 81, choices: answer.choices }]);
    expectDataError(() => loadMtBenchAnswers(noModel), { file: noModel, line: 1, field: 'model_id' }, 'missing');
    const minimal = jsonLines('a7.jsonl', [{ question_id: 81, model_id: 'm', choices: [{ index: 0, turns: ['a'] }] }]);
    expect(loadMtBenchAnswers(minimal).get(81)).toEqual({ question_id: 81, answer_id: '', model_id: 'm', choices: [{ index: 0, turns: ['a'] }], tstamp: 0 });
  });

  it('judge prompts: an unknown type, an empty template', () => {
    const prompt = { name: 'single-v1', type: 'single', system_prompt: '', prompt_template: 't', output_format: '[[rating]]' };
    const badType = jsonLines('p1.jsonl', [prompt, { ...prompt, name: 'x', type: 'double' }]);
    expectDataError(() => loadMtBenchJudgePrompts(badType), { file: badType, line: 2, field: 'type' }, 'expected "single" or "pairwise" (found "double")');
    const emptyTemplate = jsonLines('p2.jsonl', [{ ...prompt, prompt_template: '' }]);
    expectDataError(() => loadMtBenchJudgePrompts(emptyTemplate), { file: emptyTemplate, line: 1, field: 'prompt_template' }, 'expected a non-empty string');
    expect(loadMtBenchJudgePrompts(jsonLines('p3.jsonl', [{ ...prompt, category: null }])).get('single-v1')).not.toHaveProperty('category');
  });
});

describe('FLASK records', () => {
  const instance = { idx: 1, instruction: 'i', answer: 'a', task: 't', skill: ['Readability'], domain: ['Humanities'], difficulty: 'easy', subtag: 'x' };

  it('the evaluation set: an empty or bad skill list, a duplicate idx; extra fields kept', () => {
    const noSkill = jsonLines('e1.jsonl', [{ ...instance, skill: [] }]);
    expectDataError(() => loadFlaskEvaluationSet(noSkill), { file: noSkill, line: 1, field: 'skill' }, 'expected at least 1 entry (found 0)');
    const badSkill = jsonLines('e2.jsonl', [instance, { ...instance, idx: 2, skill: ['Readability', 3] }]);
    expectDataError(() => loadFlaskEvaluationSet(badSkill), { file: badSkill, line: 2, field: 'skill[1]' }, 'expected a string (found number 3)');
    const duplicate = jsonLines('e3.jsonl', [instance, { ...instance, idx: 2 }, instance]);
    expectDataError(() => loadFlaskEvaluationSet(duplicate), { file: duplicate, line: 3, field: 'idx' }, 'duplicate idx 1 (already on line 1)');
    const [loaded] = loadFlaskEvaluationSet(jsonLines('e4.jsonl', [{ ...instance, task: undefined }]));
    expect(loaded).toMatchObject({ idx: 1, task: '', domain: ['Humanities'], difficulty: 'easy', line: 1 });
    expect(loaded?.fields).toEqual({ ...instance, task: undefined });
  });

  it('skills: a nested rubric missing, at the line where the skill starts', () => {
    const scoring = (last: string) => ['    "Scoring": {', '      "1": "a", "2": "b",', `      ${last}`, '    }'];
    const file = write('skills.json', [
      '[',
      '  {',
      '    "Skill": "Readability", "Criteria": "c",',
      ...scoring('"3": "c", "4": "d", "5": "e"'),
      '  },',
      '  {',
      '    "Skill": "Conciseness", "Criteria": "c",',
      ...scoring('"4": "d", "5": "e"'),
      '  }',
      ']',
    ]);
    expectDataError(() => loadFlaskSkills(file), { file, line: 9, field: 'Scoring.3' }, 'expected the rubric text for this score');
    const noScoring = write('skills2.json', ['[{"Skill": "s", "Criteria": "c", "Scoring": "1-5"}]']);
    expectDataError(() => loadFlaskSkills(noScoring), { file: noScoring, line: 1, field: 'Scoring' }, 'expected an object with keys "1" to "5"');
  });

  it('judge prompts, reviewers, answers', () => {
    const prompt = { prompt_id: 2, system_prompt: 's', prompt_template: 't', defaults: { prompt1: 'p', prompt2: 2 } };
    expect(loadFlaskJudgePrompts(jsonLines('fp1.jsonl', [prompt])).get(2)?.defaults).toEqual({ prompt1: 'p', prompt2: '2' });
    const badDefaults = jsonLines('fp2.jsonl', [{ ...prompt, defaults: 'p' }]);
    expectDataError(
      () => loadFlaskJudgePrompts(badDefaults),
      { file: badDefaults, line: 1, field: 'defaults' },
      'expected an object of template defaults (prompt1, prompt2)',
    );

    const reviewer = { reviewer_id: 'r', prompt_id: 1 };
    expect(loadFlaskReviewers(jsonLines('r1.jsonl', [reviewer]))[0]?.metadata).toEqual({});
    const badMetadata = jsonLines('r2.jsonl', [reviewer, { ...reviewer, metadata: 'hot' }]);
    expectDataError(
      () => loadFlaskReviewers(badMetadata),
      { file: badMetadata, line: 2, field: 'metadata' },
      'expected an object {temperature, max_tokens} (found "hot")',
    );
    const badTemperature = jsonLines('r3.jsonl', [{ ...reviewer, metadata: { temperature: 'warm' } }]);
    expectDataError(() => loadFlaskReviewers(badTemperature), { file: badTemperature, line: 1, field: 'metadata.temperature' }, 'expected a number (found "warm")');

    const badAnswer = jsonLines('fa.jsonl', [
      { question_id: 1, text: 'a' },
      { question_id: '2', text: 'b' },
    ]);
    expectDataError(() => loadFlaskAnswers(badAnswer), { file: badAnswer, line: 2, field: 'question_id' }, 'expected a number (found "2")');
  });

  it('reviews: score must be a dict; the line keeps its fields in order, odd score values as text', () => {
    const review = { idx: 3, instruction: 'i', target_txt: 't', review: 'r', score: { readability: 4, conciseness: 'N/A', completeness: [3] }, total_tokens_step4: 10 };
    const [loaded] = loadFlaskReviews(jsonLines('rv1.jsonl', [review]));
    expect(Object.keys(loaded ?? {})).toEqual(['idx', 'instruction', 'target_txt', 'review', 'score', 'total_tokens_step4']);
    expect(loaded?.score).toEqual({ readability: 4, conciseness: 'N/A', completeness: '[3]' });
    expect(loadFlaskReviews(jsonLines('rv2.jsonl', [{ idx: 3, score: {} }]))[0]).toEqual({ idx: 3, score: {}, target_txt: '', review: '', total_tokens_step4: 0 });
    const listScore = jsonLines('rv3.jsonl', [review, { ...review, score: [4, 5] }]);
    expectDataError(
      () => loadFlaskReviews(listScore),
      { file: listScore, line: 2, field: 'score' },
      'expected the dict of skill → score FLASK parsed from the review (found an array of 2)',
    );
  });
});

describe('FastChat judgments read by moa report', () => {
  const single = { question_id: 81, model: 'm', judge: ['gpt-4', 'single-v1'], user_prompt: 'u', judgment: 'Rating: [[8]]', score: 8, turn: 1, tstamp: 1 };
  const pair = { question_id: 81, model_1: 'a', model_2: 'b', g1_winner: 'model_1', g2_winner: 'tie', judge: ['gpt-4', 'pair-v2'], turn: 1 };

  it('single: a turn that is not 1 or 2, a score that is text, a missing judge', () => {
    const badTurn = jsonLines('gpt-4_single.jsonl', [single, { ...single, turn: 3 }]);
    expectDataError(() => loadReportInputs([badTurn]), { file: badTurn, line: 2, field: 'turn' }, 'expected 1 or 2 (found number 3)');
    const textScore = jsonLines('gpt-4_single.jsonl', [{ ...single, score: '8' }]);
    expectDataError(() => loadReportInputs([textScore]), { file: textScore, line: 1, field: 'score' }, 'expected a number (found "8")');
    const noJudge = jsonLines('gpt-4_single.jsonl', [{ ...single, judge: undefined }]);
    expectDataError(() => loadReportInputs([noJudge]), { file: noJudge, line: 1, field: 'judge' }, 'missing');
    const loaded = loadReportInputs([jsonLines('gpt-4_single.jsonl', [single, { ...single, judge: 'gpt-4', turn: 2 }])]).results[0];
    expect(loaded).toMatchObject({ kind: 'mt-bench-judgments', judgments: [{ judge: ['gpt-4', 'single-v1'] }, { judge: ['gpt-4', ''], turn: 2 }] });
  });

  it('pairwise: a winner FastChat never writes; turn defaults to 1', () => {
    const badWinner = jsonLines('gpt-4_pair.jsonl', [pair, { ...pair, g2_winner: 'model_3' }]);
    expectDataError(
      () => loadReportInputs([badWinner]),
      { file: badWinner, line: 2, field: 'g2_winner' },
      'expected "model_1" or "model_2" or "tie" or "error" (found "model_3")',
    );
    const loaded = loadReportInputs([jsonLines('gpt-4_pair.jsonl', [{ ...pair, turn: undefined }])]).results[0];
    expect(loaded).toMatchObject({ kind: 'mt-bench-pairwise', judgments: [{ question_id: 81, g1_winner: 'model_1', g2_winner: 'tie', turn: 1 }] });
  });
});
