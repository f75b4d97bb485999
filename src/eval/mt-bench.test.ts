import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchFile, haveBenchFiles } from '../../test/eval/bench-data.js';
import {
  formatMtBenchAnswer,
  loadMtBenchAnswers,
  loadMtBenchJudgePrompts,
  loadMtBenchQuestions,
  MT_BENCH_TEMPERATURES,
  mtBenchConversation,
  mtBenchTemperature,
  toMtBenchAnswerLines,
} from './mt-bench-data.js';
import {
  buildMtBenchJudgeRequest,
  formatPythonTemplate,
  makeMtBenchJudgment,
  mtBenchJudgePromptName,
  parseMtBenchRating,
  summarizeMtBenchJudgments,
} from './mt-bench-judge.js';
import { SHORTUUID_ALPHABET } from './short-id.js';

const questionsFile = benchFile('mt_bench', 'question.jsonl');
const promptsFile = benchFile('mt_bench', 'judge_prompts.jsonl');
const referenceFile = benchFile('mt_bench', 'reference_answer', 'gpt-4.jsonl');
const haveData = haveBenchFiles(questionsFile, promptsFile, referenceFile);

describe.skipIf(!haveData)('MT-Bench on the official files', () => {
  const questions = haveData ? loadMtBenchQuestions(questionsFile, { turns: 2 }) : [];

  it("loads 80 questions × 2 turns, 10 per category, with FastChat's temperatures", () => {
    expect(questions).toHaveLength(80);
    expect(questions.every((question) => question.turns.length === 2)).toBe(true);
    const categories = new Map<string, number>();
    for (const question of questions) categories.set(question.category, (categories.get(question.category) ?? 0) + 1);
    expect([...categories.entries()].sort()).toEqual(
      ['coding', 'extraction', 'humanities', 'math', 'reasoning', 'roleplay', 'stem', 'writing'].map((category) => [category, 10]),
    );
    const temperatureOf = (category: string) => mtBenchTemperature(questions.find((question) => question.category === category) ?? { category });
    expect(['writing', 'roleplay', 'extraction', 'math', 'coding', 'reasoning', 'stem', 'humanities'].map(temperatureOf)).toEqual([0.7, 0.7, 0, 0, 0, 0, 0.1, 0.1]);
    expect(MT_BENCH_TEMPERATURES['arena-hard-200']).toBe(0);
    expect(mtBenchTemperature({ category: 'writing', required_temperature: 0.3 })).toBe(0.3);
  });

  it('builds turn 2 on the turn-1 question and answer', () => {
    const question = questions[0];
    if (!question) throw new Error('no question');
    expect(mtBenchConversation(question, 0, [])).toEqual([{ role: 'user', content: question.turns[0] }]);
    expect(mtBenchConversation(question, 1, ['FIRST ANSWER'])).toEqual([
      { role: 'user', content: question.turns[0] },
      { role: 'assistant', content: 'FIRST ANSWER' },
      { role: 'user', content: question.turns[1] },
    ]);
    expect(() => mtBenchConversation(question, 1, [])).toThrow(/needs the answers/);
  });

  it("writes an answers file in FastChat's format that parses back (80 × 2 turns)", () => {
    const answers = questions.map((question) =>
      formatMtBenchAnswer(question, [`t1 of ${question.question_id}`, `t2 of ${question.question_id}`], 'moa-test', { now: () => 1_700_000_000_123 }),
    );
    const directory = mkdtempSync(join(tmpdir(), 'moa-mtbench-'));
    try {
      const file = join(directory, 'moa-test.jsonl');
      writeFileSync(file, toMtBenchAnswerLines(answers));
      const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
      expect(lines).toHaveLength(80);
      for (const line of lines) {
        const record = JSON.parse(line) as Record<string, unknown>;
        expect(Object.keys(record)).toEqual(['question_id', 'answer_id', 'model_id', 'choices', 'tstamp']);
        expect(record.answer_id).toMatch(new RegExp(`^[${SHORTUUID_ALPHABET}]{22}$`));
        expect(record.tstamp).toBe(1_700_000_000.123);
        const choices = record.choices as Array<{ index: number; turns: string[] }>;
        expect(choices).toHaveLength(1);
        expect(choices[0]?.index).toBe(0);
        expect(choices[0]?.turns).toHaveLength(2);
      }
      const parsed = loadMtBenchAnswers(file);
      expect(parsed.size).toBe(80);
      expect(parsed.get(81)?.choices[0]?.turns).toEqual(['t1 of 81', 't2 of 81']);
      expect(new Set(answers.map((answer) => answer.answer_id)).size).toBe(80);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('builds the judge messages from the official prompts as FastChat fills them', () => {
    const prompts = loadMtBenchJudgePrompts(promptsFile);
    const references = loadMtBenchAnswers(referenceFile);
    expect(prompts.size).toBe(8);
    expect(references.size).toBe(30);
    const writing = questions.find((question) => question.category === 'writing');
    const math = questions.find((question) => question.category === 'math');
    if (!writing || !math) throw new Error('missing categories');
    const answer = { choices: [{ index: 0, turns: ['ANSWER ONE', 'ANSWER TWO'] }] };

    const single = buildMtBenchJudgeRequest({ question: writing, answer, turn: 1, judgePrompts: prompts });
    const singlePrompt = prompts.get('single-v1');
    expect(single.promptName).toBe('single-v1');
    expect(single.messages[0]).toEqual({ role: 'system', content: singlePrompt?.system_prompt });
    expect(single.userPrompt).toBe(singlePrompt?.prompt_template.replace('{question}', writing.turns[0] ?? '').replace('{answer}', 'ANSWER ONE'));

    const multi = buildMtBenchJudgeRequest({ question: writing, answer, turn: 2, judgePrompts: prompts });
    expect(multi.promptName).toBe('single-v1-multi-turn');
    expect(multi.userPrompt).toContain(
      `### User:\n${writing.turns[0]}\n\n### Assistant A:\nANSWER ONE\n\n### User:\n${writing.turns[1]}\n\n### Assistant A:\nANSWER TWO`,
    );

    const reference = references.get(math.question_id);
    const mathTurn2 = buildMtBenchJudgeRequest({ question: math, answer, turn: 2, judgePrompts: prompts, referenceAnswer: reference });
    expect(mathTurn2.promptName).toBe('single-math-v1-multi-turn');
    expect(mathTurn2.userPrompt).toContain(`### Reference answer:\n${reference?.choices[0]?.turns[0]}`);
    expect(mathTurn2.userPrompt).toContain(`### Reference answer:\n${reference?.choices[0]?.turns[1]}`);
    expect(mathTurn2.userPrompt).not.toMatch(/\{(question|answer|ref_answer)_?\d?\}/);
    expect(() => buildMtBenchJudgeRequest({ question: math, answer, turn: 1, judgePrompts: prompts })).toThrow(/needs a reference answer/);
  });
});

describe('MT-Bench judge pieces', () => {
  it('parses ratings exactly as FastChat does', () => {
    expect(parseMtBenchRating('The answer is good. Rating: [[8.5]]')).toBe(8.5);
    expect(parseMtBenchRating('[[10]]')).toBe(10);
    expect(parseMtBenchRating('I would give it [9] overall.')).toBe(9);
    expect(parseMtBenchRating('No rating here, sorry.')).toBe(-1);
    expect(parseMtBenchRating('Rating: [[7.]]')).toBe(7);
    // The double-bracket form wins even when a single bracket comes first.
    expect(parseMtBenchRating('See [1]. Final verdict: Rating: [[6]]')).toBe(6);
    // Not a number inside the brackets.
    expect(parseMtBenchRating('Rating: [[eight]]')).toBe(-1);
    expect(parseMtBenchRating('Rating: [[ 8 ]]')).toBe(-1);
  });

  it('formats templates with Python str.format semantics', () => {
    expect(formatPythonTemplate('a {x} {{literal}} b', { x: '{not a field}' })).toBe('a {not a field} {literal} b');
    expect(() => formatPythonTemplate('{missing}', {})).toThrow(/needs a value for \{missing\}/);
    expect(() => formatPythonTemplate('oops }', {})).toThrow(/single "}"/);
  });

  it('picks the reference-guided prompts for math, reasoning and coding', () => {
    expect(mtBenchJudgePromptName('reasoning', 1)).toBe('single-math-v1');
    expect(mtBenchJudgePromptName('coding', 2)).toBe('single-math-v1-multi-turn');
    expect(mtBenchJudgePromptName('stem', 2)).toBe('single-v1-multi-turn');
  });

  it('aggregates per turn, per category and overall, dropping −1', () => {
    const questions = [
      { question_id: 1, category: 'writing' },
      { question_id: 2, category: 'math' },
    ];
    const request = (turn: 1 | 2) => ({ promptName: 'single-v1', turn, messages: [], userPrompt: 'p' });
    const judgments = [
      makeMtBenchJudgment({ questionId: 1, model: 'a', judgeModel: 'gpt-4', request: request(1), judgment: 'Rating: [[8]]' }),
      makeMtBenchJudgment({ questionId: 1, model: 'a', judgeModel: 'gpt-4', request: request(2), judgment: 'Rating: [[6]]' }),
      makeMtBenchJudgment({ questionId: 2, model: 'a', judgeModel: 'gpt-4', request: request(1), judgment: 'Rating: [[4]]' }),
      makeMtBenchJudgment({ questionId: 2, model: 'a', judgeModel: 'gpt-4', request: request(2), judgment: 'no rating' }),
    ];
    expect(judgments[0]?.judge).toEqual(['gpt-4', 'single-v1']);
    const [scores] = summarizeMtBenchJudgments(judgments, questions);
    expect(scores?.overall).toEqual({ score: 6, count: 3 });
    expect(scores?.firstTurn).toEqual({ score: 6, count: 2 });
    expect(scores?.secondTurn).toEqual({ score: 6, count: 1 });
    expect(scores?.byCategory.math?.overall).toEqual({ score: 4, count: 1 });
    expect(scores?.byCategory.writing?.secondTurn).toEqual({ score: 6, count: 1 });
    expect(scores?.unparsed).toBe(1);
  });
});
