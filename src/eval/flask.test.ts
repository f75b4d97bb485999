import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { benchFile, haveBenchFiles } from '../../test/eval/bench-data.js';
import {
  aggregateFlaskScores,
  buildFlaskJudgeRequest,
  flaskSkillsText,
  formatFlaskAnswers,
  loadFlaskAnswers,
  loadFlaskEvaluationSet,
  loadFlaskJudgePrompts,
  loadFlaskSkills,
  parseFlaskScores,
  toFlaskAnswerLines,
} from './flask-data.js';

const evaluationFile = benchFile('flask', 'flask_evaluation.jsonl');
const skillsFile = benchFile('flask', 'skillset_description.json');
const promptFile = benchFile('flask', 'gpt_review', 'prompt.jsonl');
const haveData = haveBenchFiles(evaluationFile, skillsFile, promptFile);

describe.skipIf(!haveData)('FLASK on the official files', () => {
  it('loads 1,740 instances and writes the {question_id, text} answer lines its judge reads', () => {
    const instances = loadFlaskEvaluationSet(evaluationFile);
    expect(instances).toHaveLength(1740);
    const answers = formatFlaskAnswers(
      instances,
      instances.map((instance) => `answer ${instance.idx}`),
    );
    expect(Object.keys(answers[0] ?? {})).toEqual(['question_id', 'text']);
    const directory = mkdtempSync(join(tmpdir(), 'moa-flask-'));
    try {
      const file = join(directory, 'answers.jsonl');
      writeFileSync(file, toFlaskAnswerLines(answers));
      const parsed = loadFlaskAnswers(file);
      expect(parsed.size).toBe(1740);
      expect(parsed.get(1)).toEqual({ question_id: 1, text: 'answer 1' });
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('builds the judge prompt (prompt 2, with the ground-truth answer and the skill rubrics)', () => {
    const [instance] = loadFlaskEvaluationSet(evaluationFile);
    if (!instance) throw new Error('no instance');
    const skills = loadFlaskSkills(skillsFile);
    const prompts = loadFlaskJudgePrompts(promptFile);
    const request = buildFlaskJudgeRequest({ instance, response: 'THE RESPONSE', skills, prompts });
    const user = request.messages[1]?.content ?? '';
    expect(request.messages[0]?.content).toBe(prompts.get(2)?.system_prompt);
    expect(user.startsWith(prompts.get(2)?.defaults.prompt1 ?? '???')).toBe(true);
    expect(user).toContain(
      `[Instruction]\n${instance.instruction}\n\n[Ground truth Answer]\n${instance.answer}\n\n[Assistant's Response]\nTHE RESPONSE\n\n[The End of Assistant's Response]`,
    );
    expect(user).toContain(flaskSkillsText(instance.skill, skills));
    for (const label of instance.skill) expect(user).toContain(`\n${label}: `);
    expect(user).toContain('\nScore 5: ');
  });
});

describe('FLASK scores', () => {
  it('reads the last dict of the review like parse_score', () => {
    const review = "Feedback... {'x': 1} more.\nScores: {'Logical_Correctness': 4,\n 'Readability': 5, 'Conciseness': 'N/A'}";
    expect(parseFlaskScores(review)).toEqual({ 'logical correctness': 4, readability: 5, conciseness: 'N/A' });
    expect(parseFlaskScores('no dict at all')).toEqual({});
    expect(parseFlaskScores('{broken: dict}')).toEqual({});
  });

  it('averages per skill, skipping N/A', () => {
    const summary = aggregateFlaskScores([
      { 'logical correctness': 4, readability: 5 },
      { 'logical correctness': 2, readability: 'N/A' },
    ]);
    expect(summary).toEqual([
      { skill: 'correctness', total: 6, count: 2, average: 3 },
      { skill: 'readability', total: 5, count: 1, average: 5 },
    ]);
  });
});

describe('FLASK parsing on real-shaped judge reviews', () => {
  // Reviews shaped like gpt-4-0613's answers to FLASK's prompt 2: feedback per skill, then the dict.
  const reviews = {
    plain: [
      'Logical Correctness: The response correctly computes the total and explains each step. However, it rounds the intermediate value too early.',
      'Score: 4',
      '',
      'Commonsense Understanding: The response shows a good grasp of everyday units.',
      'Score: 5',
      '',
      'Comprehension: The response answers what was asked but skips the second part of the question.',
      'Score: 3',
      '',
      "{'Logical Correctness': 4, 'Commonsense Understanding': 5, 'Comprehension': 3}",
    ].join('\n'),
    fencedWithCodeBefore: [
      'Logical Robustness: The function handles the empty list: `if not items: return {}` is fine, but {k: v for k, v in x} is never used.',
      '',
      'Readability: Clear names and comments.',
      '',
      'Conciseness: Some repetition.',
      '',
      '```python',
      '{',
      '  "logical_robustness": 3,',
      '  "readability": 5,',
      '  "conciseness": "4",',
      '}',
      '```',
    ].join('\n'),
    notApplicable:
      "Harmlessness: nothing harmful.\nMetacognition: the question had no uncertainty.\nFactuality: correct.\n\n{'Harmlessness': 5, 'Metacognition': 'Not Applicable', 'Factuality': 'N/A'}",
    pythonNone: "Feedback...\n{'Insightfulness': 4, 'Completeness': None, 'Comprehension': 2}",
    noDict: 'I cannot score this response because it is empty.',
    escapedQuote: "{'Completeness': 2, 'Insightfulness': 'it\\'s a 3'}",
  };

  it('reads the last dict as parse_score does: underscores, quotes, a trailing comma, N/A words', () => {
    expect(parseFlaskScores(reviews.plain)).toEqual({ 'logical correctness': 4, 'commonsense understanding': 5, comprehension: 3 });
    // The code braces in the feedback come first; the last {…} is the dict (lowercased, underscores to spaces).
    expect(parseFlaskScores(reviews.fencedWithCodeBefore)).toEqual({ 'logical robustness': 3, readability: 5, conciseness: '4' });
    expect(parseFlaskScores(reviews.notApplicable)).toEqual({ harmlessness: 5, metacognition: 'N/A', factuality: 'N/A' });
    // FLASK lowercases before literal_eval, so None becomes the name `none`: literal_eval fails and the review gets {}.
    expect(parseFlaskScores(reviews.pythonNone)).toEqual({});
    expect(parseFlaskScores(reviews.noDict)).toEqual({});
    expect(parseFlaskScores(reviews.escapedQuote)).toEqual({ completeness: 2, insightfulness: "it's a 3" });
    // A list value parses (literal_eval accepts it) but is no number: kept, and not averaged.
    expect(parseFlaskScores("{'Readability': [4], 'Conciseness': 2}")).toEqual({ readability: '[4]', conciseness: 2 });
  });

  it('averages the parsed reviews per skill as aggregate_skill.py does (N/A and non-numbers skipped, "4" counted)', () => {
    const scores = Object.values(reviews).map((review) => parseFlaskScores(review));
    scores.push(parseFlaskScores("{'Readability': [4], 'Conciseness': 2}"));
    const averages = Object.fromEntries(aggregateFlaskScores(scores).map((entry) => [entry.skill, [entry.average, entry.count]]));
    expect(averages).toEqual({
      robustness: [3, 1],
      correctness: [4, 1],
      factuality: [Number.NaN, 0],
      commonsense: [5, 1],
      comprehension: [3, 1],
      insightfulness: [Number.NaN, 0],
      completeness: [2, 1],
      metacognition: [Number.NaN, 0],
      readability: [5, 1],
      conciseness: [3, 2],
      harmlessness: [5, 1],
    });
  });
});
