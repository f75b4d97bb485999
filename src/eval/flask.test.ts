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
    const answers = formatFlaskAnswers(instances, instances.map((instance) => `answer ${instance.idx}`));
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
    expect(user).toContain(`[Instruction]\n${instance.instruction}\n\n[Ground truth Answer]\n${instance.answer}\n\n[Assistant's Response]\nTHE RESPONSE\n\n[The End of Assistant's Response]`);
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
