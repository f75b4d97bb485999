// End-to-end test of `moa judge flask`: the built CLI with a fake judge that writes reviews shaped
// like gpt-4-0613's (feedback per skill, then the Python dict), on the real FLASK files read at run
// time from $MOA_BENCH_DATA (a subset of answers is written to the temp workspace).
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, contentText, describeRun, runCli, systemText, useCliSuite } from '../e2e/run-cli.js';
import type { FakeRequest } from '../support/fake-llm-server.js';
import { benchFile, haveBenchFiles } from './bench-data.js';

const evaluationFile = benchFile('flask', 'flask_evaluation.jsonl');
const promptFile = benchFile('flask', 'gpt_review', 'prompt.jsonl');
const haveData = haveBenchFiles(evaluationFile, benchFile('flask', 'skillset_description.json'), promptFile, benchFile('flask', 'gpt_review', 'reviewer.jsonl'));

const suite = useCliSuite({ prices: { 'fake:judge': { input: 10, output: 30 } } });
const env = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: suite.workspace.path('cache'), MOA_BENCH_DATA: process.env.MOA_BENCH_DATA ?? benchFile() });

interface Instance {
  idx: number;
  instruction: string;
  skill: string[];
  [field: string]: unknown;
}

function readLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** The rule the fake judge scores by: known to the test, different per instance and skill. */
const scoreOf = (idx: number, skill: string): number => ((idx * 7 + skill.length) % 5) + 1;
/** aggregate_skill.py's key: the first word, the second for the "Logical …" skills. */
const skillKey = (skill: string): string => {
  const words = skill.toLowerCase().split(' ');
  return (skill.toLowerCase().includes('logical') ? words[1] : words[0]) as string;
};

beforeEach(() => suite.server.reset());

describe.skipIf(!haveData)('moa judge flask', () => {
  const instances = haveData ? readLines<Instance>(evaluationFile).slice(0, 12) : [];
  const unscored = instances[4]?.idx as number; // the judge forgets the dict for this one
  const notApplicable = instances[7]?.idx as number; // and says N/A for this one's last skill

  it("reviews with FLASK's prompt and settings, writes FLASK's review file, and averages per skill as aggregate_skill.py does", async () => {
    const { workspace, server } = suite;
    workspace.write(
      'flask-answers.jsonl',
      instances.map((instance) => JSON.stringify({ question_id: instance.idx, text: `ANSWER-${instance.idx} my answer` })).join('\n') + '\n',
    );
    server.setBehavior('judge', {
      text: (request: FakeRequest) => {
        const user = request.messages
          .filter((message) => message.role === 'user')
          .map((message) => contentText(message.content))
          .join('\n');
        const idx = Number(/ANSWER-(\d+)/.exec(user)?.[1]);
        const instance = instances.find((candidate) => candidate.idx === idx) as Instance;
        const feedback = instance.skill.map((skill) => `${skill}: The response is adequate for this skill.\nScore: ${scoreOf(idx, skill)}`).join('\n\n');
        if (idx === unscored) return `${feedback}\n\nOverall the response is fine.`;
        const entries = instance.skill.map(
          (skill, index) => `'${skill}': ${idx === notApplicable && index === instance.skill.length - 1 ? "'N/A'" : scoreOf(idx, skill)}`,
        );
        return `${feedback}\n\n{${entries.join(', ')}}`;
      },
    });

    const args = ['judge', 'flask', '--answers', 'flask-answers.jsonl', '--judge', 'fake:judge'];
    const result = await runCli([...args, '--json'], { cwd: workspace.dir, env: env(), timeoutMs: 60_000 });
    expect(result.code, describeRun(result)).toBe(0);
    // Before the run: the number of calls and the estimated cost (prices are set).
    expect(result.stderr).toMatch(/moa judge flask: 12 calls to make for 12 items: ≈ [\d,]+ input and ≤ 12,288 output tokens; estimated cost at most \$\d/);

    // FLASK's judge call: prompt 2's system prompt, temperature 0, max 1024 tokens, the skills' rubrics and the ground truth.
    const prompts = readLines<{ prompt_id: number; system_prompt: string }>(promptFile);
    expect(server.log).toHaveLength(12);
    for (const entry of server.log) {
      expect(entry.temperature).toBe(0);
      expect(entry.maxTokens).toBe(1024);
      expect(systemText(entry)).toBe(prompts.find((prompt) => prompt.prompt_id === 2)?.system_prompt);
      const user = contentText(entry.messages.find((message) => message.role === 'user')?.content);
      const instance = instances.find((candidate) => user.includes(`ANSWER-${candidate.idx} `)) as Instance;
      expect(user).toContain('[Ground truth Answer]');
      for (const skill of instance.skill) expect(user).toContain(`\n${skill}: `);
    }

    // The review file: FLASK's records, sorted by idx; the instance's own fields first.
    const reviews = readLines<Record<string, unknown>>(workspace.path('flask-answers_review.jsonl'));
    expect(reviews.map((review) => review.idx)).toEqual(instances.map((instance) => instance.idx));
    for (const review of reviews) {
      const instance = instances.find((candidate) => candidate.idx === review.idx) as Instance;
      expect(Object.keys(review)).toEqual([...Object.keys(instance), 'target_txt', 'review', 'score', 'total_tokens_step4']);
      expect(review.target_txt).toBe(`ANSWER-${instance.idx} my answer`);
      expect(review.total_tokens_step4).toBeGreaterThan(0);
      const expectedScore =
        instance.idx === unscored
          ? {}
          : Object.fromEntries(
              instance.skill.map((skill, index) => [
                skill.toLowerCase(),
                instance.idx === notApplicable && index === instance.skill.length - 1 ? 'N/A' : scoreOf(instance.idx, skill),
              ]),
            );
      expect(review.score).toEqual(expectedScore);
    }

    // The per-skill means, computed here from the rule.
    const sums = new Map<string, number[]>();
    for (const instance of instances) {
      if (instance.idx === unscored) continue;
      instance.skill.forEach((skill, index) => {
        if (instance.idx === notApplicable && index === instance.skill.length - 1) return;
        sums.set(skillKey(skill), [...(sums.get(skillKey(skill)) ?? []), scoreOf(instance.idx, skill)]);
      });
    }
    const scores = JSON.parse(result.stdout) as { n: number; unparsed: number; skills: Record<string, { average: number | null; count: number }> };
    expect(scores.n).toBe(12);
    expect(scores.unparsed).toBe(1);
    expect(Object.keys(scores.skills)).toEqual([
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
    ]);
    for (const [skill, entry] of Object.entries(scores.skills)) {
      const values = sums.get(skill) ?? [];
      expect(entry.count, skill).toBe(values.length);
      if (values.length === 0) expect(entry.average).toBeNull();
      else expect(entry.average as number).toBeCloseTo(values.reduce((sum, value) => sum + value, 0) / values.length, 10);
    }

    // A rerun makes no call and prints the table.
    const rerun = await runCli(args, { cwd: workspace.dir, env: env() });
    expect(rerun.code, describeRun(rerun)).toBe(0);
    expect(server.log).toHaveLength(12);
    expect(rerun.stderr).toContain('0 calls to make for 0 items (12 already done): nothing to call');
    expect(rerun.stdout).toContain('FLASK (judge fake:judge), 11 reviews with scores, 1 without (left out)');
    const readability = sums.get('readability') ?? [];
    expect(rerun.stdout).toMatch(
      new RegExp(`readability\\s+${(readability.reduce((sum, value) => sum + value, 0) / readability.length).toFixed(2)}\\s+${readability.length}`),
    );
  });

  it('reviews that never end with a dict are a failed run (exit 1) that points at the raw reviews', async () => {
    const { workspace, server } = suite;
    workspace.write(
      'flask-few.jsonl',
      instances
        .slice(0, 2)
        .map((instance) => JSON.stringify({ question_id: instance.idx, text: 'x' }))
        .join('\n') + '\n',
    );
    server.setBehavior('judge', { text: 'The response is fine. Scores: readability 4, correctness 3.' });
    const result = await runCli(['judge', 'flask', '--answers', 'flask-few.jsonl', '--judge', 'fake:judge'], { cwd: workspace.dir, env: env() });
    expect(result.code, describeRun(result)).toBe(1);
    expect(result.stderr).toContain('no scores in any of the 2 judge reviews');
    expect(result.stderr).toContain(`the raw reviews are the "review" fields of ${workspace.path('flask-few_review.jsonl')}`);
  });

  it('answers for an idx the set does not have are exit 2 before any call', async () => {
    const { workspace, server } = suite;
    workspace.write('flask-stray.jsonl', `${JSON.stringify({ question_id: 99999, text: 'x' })}\n`);
    const result = await runCli(['judge', 'flask', '--answers', 'flask-stray.jsonl', '--judge', 'fake:judge'], { cwd: workspace.dir, env: env() });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain('answers for question_id 99999');
    expect(server.log).toHaveLength(0);
  });
});
