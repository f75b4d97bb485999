// End-to-end tests of `moa eval compare`: the built CLI with fake judges whose verdicts the tests
// control, on the real benchmark files (read at run time from $MOA_BENCH_DATA). The statistics are
// checked against values computed here, independently: the official AlpacaEval numbers of a real
// model (its annotations replayed by the judge in both orders), the win/tie/loss rules, and the
// bootstrap interval redone with the same seeded generator.
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { PythonRandom } from '../../src/eval/python-random.js';
import { cliEnv, contentText, describeRun, runCli, useCliSuite } from '../e2e/run-cli.js';
import type { FakeRequest } from '../support/fake-llm-server.js';
import { benchFile, haveBenchFiles } from './bench-data.js';

const annotationsFile = benchFile('alpaca_eval', 'validation', 'gpt-3.5-turbo-1106_annotations.json');
const leaderboardFile = benchFile('alpaca_eval', 'leaderboard', 'weighted_alpaca_eval_gpt4_turbo_leaderboard.csv');
const instructionsFile = benchFile('alpaca_eval', 'alpaca_eval_instructions.json');
const questionFile = benchFile('mt_bench', 'question.jsonl');
const haveData = haveBenchFiles(
  annotationsFile,
  leaderboardFile,
  instructionsFile,
  questionFile,
  benchFile('alpaca_eval', 'lc', 'df_gamed.csv'),
  benchFile('mt_bench', 'judge_prompts.jsonl'),
);

const PRICE = { input: 2, output: 4 };
const suite = useCliSuite({
  presets: {
    staircase: { layers: 2, proposers: ['fake:p1', 'fake:p2'], aggregator: 'fake:agg', maxTokens: 100 },
    single: { layers: 1, aggregator: 'fake:solo', maxTokens: 100 },
  },
  prices: { 'fake:p1': PRICE, 'fake:p2': PRICE, 'fake:agg': PRICE, 'fake:solo': PRICE, 'fake:judge': { input: 1, output: 1 } },
});
const env = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: suite.workspace.path('cache'), MOA_BENCH_DATA: process.env.MOA_BENCH_DATA ?? benchFile() });

function userText(request: Pick<FakeRequest, 'messages'>): string {
  return request.messages
    .filter((message) => message.role === 'user')
    .map((message) => contentText(message.content))
    .join('\n');
}

/** The instruction and the output shown as "m" in an AlpacaEval judge prompt. */
function shownPair(request: Pick<FakeRequest, 'messages'>): { instruction: string; first: string } {
  const user = userText(request);
  const instruction = /"instruction": """([\s\S]*?)""",\n\}/.exec(user)?.[1] ?? '';
  const first = /"model_identifier": "m",\n\s*"output": """([\s\S]*?)"""\n\s*\},/.exec(user)?.[1] ?? '';
  return { instruction, first };
}

/** The bootstrap redone here: the same generator, n draws of floor(random · n) per resample, numpy's linear percentile. */
function bootstrap(values: readonly number[], random: () => number, resamples = 2000): [number, number] {
  const means: number[] = [];
  for (let resample = 0; resample < resamples; resample++) {
    let sum = 0;
    for (let draw = 0; draw < values.length; draw++) sum += values[Math.floor(random() * values.length)] as number;
    means.push(sum / values.length);
  }
  means.sort((left, right) => left - right);
  const at = (q: number): number => {
    const position = q * (means.length - 1);
    const low = Math.floor(position);
    return ((means[low] as number) + ((means[Math.ceil(position)] as number) - (means[low] as number)) * (position - low)) * 100;
  };
  return [at(0.025), at(0.975)];
}

function readLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

interface ComparisonJson {
  kind: string;
  winRate: number;
  interval: [number, number];
  standardError: number;
  wins: number;
  ties: number;
  losses: number;
  n: number;
  consistent: number;
  unparsed: number;
  lengthControlled: { winRate: number; standardError: number } | null;
  lengthControlledNote?: string;
  categories: Record<string, { winRate: number; interval: [number, number]; n: number; wins: number; ties: number; losses: number }>;
  turns?: Record<string, { winRate: number; n: number }>;
  a: {
    name: string;
    progressFile: string | null;
    usage: { inputTokens: number; outputTokens: number } | null;
    costUsd: number | null;
    itemsWithUsage: number;
    latencyMs: { median: number } | null;
  };
  b: { name: string; progressFile: string | null; usage: { inputTokens: number; outputTokens: number } | null; costUsd: number | null; itemsWithUsage: number };
  judgments: string;
}

beforeEach(() => suite.server.reset());

describe.skipIf(!haveData)('moa eval compare --benchmark alpaca-eval', () => {
  it("replaying the official judge in both orders gives gpt-3.5-turbo-1106's leaderboard win rate and LC, with a reproducible bootstrap interval", async () => {
    const { workspace, server } = suite;
    const annotations = JSON.parse(readFileSync(annotationsFile, 'utf8')) as Array<{
      instruction: string;
      output_1: string;
      output_2: string;
      generator_1: string;
      generator_2: string;
      dataset: string;
      preference: number;
    }>;
    // A = gpt-3.5-turbo-1106, B = the GPT-4 Turbo baseline, from the official annotations.
    workspace.write(
      'a_outputs.json',
      JSON.stringify(annotations.map((row) => ({ instruction: row.instruction, output: row.output_2, generator: row.generator_2, dataset: row.dataset }))),
    );
    workspace.write(
      'b_outputs.json',
      JSON.stringify(annotations.map((row) => ({ instruction: row.instruction, output: row.output_1, generator: row.generator_1, dataset: row.dataset }))),
    );
    workspace.write('openai-judge.json', JSON.stringify({ providers: { oa: { type: 'openai', baseURL: server.url, apiKeyEnv: 'OA_JUDGE_KEY' } } }));
    const byInstruction = new Map(annotations.map((row) => [row.instruction, row]));
    // The judge states the official preference in whichever order it is shown: p(m) = 2 − preference
    // when B is "m", preference − 1 when A is.
    const seen = new WeakMap<FakeRequest, number>();
    const pOfFirst = (request: FakeRequest): number => {
      const known = seen.get(request);
      if (known !== undefined) return known;
      const { instruction, first } = shownPair(request);
      const row = byInstruction.get(instruction);
      if (!row) throw new Error(`unknown instruction ${instruction.slice(0, 40)}`);
      const p = Math.min(Math.max(first === row.output_1 ? 2 - row.preference : row.preference - 1, 1e-12), 1 - 1e-12);
      seen.set(request, p);
      return p;
    };
    server.setBehavior('judge', {
      text: (request) => (pOfFirst(request) >= 0.5 ? 'm' : 'M'),
      logprobs: (request) => {
        const p = pOfFirst(request);
        return [
          { token: 'm', logprob: Math.log(p) },
          { token: 'M', logprob: Math.log(1 - p) },
        ];
      },
    });

    const result = await runCli(['eval', 'compare', '--a', 'a_outputs.json', '--b', 'b_outputs.json', '--judge', 'oa:judge', '--config', 'openai-judge.json', '--json'], {
      cwd: workspace.dir,
      env: { ...env(), OA_JUDGE_KEY: 'sk-oa-compare-000' },
      timeoutMs: 180_000,
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(server.log).toHaveLength(2 * 805);
    expect(result.stderr).toContain('moa eval compare: 1,610 calls to make for 805 items');
    const comparison = JSON.parse(result.stdout) as ComparisonJson;
    expect(comparison.kind).toBe('moa-comparison');

    // The official numbers of this model (the leaderboard row), computed by AlpacaEval, not by us.
    const row =
      readFileSync(leaderboardFile, 'utf8')
        .split('\n')
        .find((line) => line.startsWith('gpt-3.5-turbo-1106,'))
        ?.split(',') ?? [];
    const officialWinRate = Number(row[1]);
    const officialLc = Number(row[10]);
    expect(comparison.n).toBe(805);
    expect(comparison.winRate).toBeCloseTo(officialWinRate, 6);
    expect(Math.abs((comparison.lengthControlled?.winRate ?? 0) - officialLc)).toBeLessThan(0.3);
    // Ties and wins from the official preferences (A wins above 1.5).
    expect(comparison.wins).toBe(annotations.filter((annotation) => annotation.preference > 1.5).length);
    expect(comparison.ties).toBe(annotations.filter((annotation) => annotation.preference === 1.5).length);
    expect(comparison.wins + comparison.ties + comparison.losses).toBe(805);
    expect(comparison.consistent).toBe(805); // the replayed judge has no position bias

    // The bootstrap interval, redone: default seed "moa-compare", 2000 resamples, overall then the categories in name order.
    const generator = new PythonRandom('moa-compare');
    const random = (): number => generator.random();
    const preferences = annotations.map((annotation) => annotation.preference - 1);
    const [low, high] = bootstrap(preferences, random);
    expect(comparison.interval[0]).toBeCloseTo(low, 6);
    expect(comparison.interval[1]).toBeCloseTo(high, 6);
    expect(low).toBeLessThan(officialWinRate);
    expect(high).toBeGreaterThan(officialWinRate);
    const categories = [...new Set(annotations.map((annotation) => annotation.dataset))].sort();
    expect(Object.keys(comparison.categories)).toEqual(categories);
    for (const category of categories) {
      const values = annotations.filter((annotation) => annotation.dataset === category).map((annotation) => annotation.preference - 1);
      const expected = bootstrap(values, random);
      const entry = comparison.categories[category];
      expect(entry?.n).toBe(values.length);
      expect(entry?.winRate).toBeCloseTo((values.reduce((sum, value) => sum + value, 0) / values.length) * 100, 6);
      expect(entry?.interval[0]).toBeCloseTo(expected[0], 6);
      expect(entry?.interval[1]).toBeCloseTo(expected[1], 6);
    }
    // Neither file was generated by moa eval: no usage data, said so.
    expect(comparison.a.progressFile).toBeNull();
    expect(comparison.a.costUsd).toBeNull();
  }, 240_000);

  it("judges both orders, counts a split verdict as a tie, and reports each side's tokens and cost from its generation run", async () => {
    const { workspace, server } = suite;
    const instructions = (JSON.parse(readFileSync(instructionsFile, 'utf8')) as Array<{ instruction: string; dataset: string }>).slice(0, 12);
    workspace.write('set-12.json', JSON.stringify(instructions));
    // Two configurations answer the same 12 instructions (with prices: their sidecars carry the cost).
    server.setDefaultBehavior({ text: (request) => `${request.model} says ${userText(request).slice(0, 30)}` });
    for (const [preset, output] of [
      ['staircase', 'staircase.json'],
      ['single', 'single.json'],
    ]) {
      const generated = await runCli(['eval', 'alpaca-eval', '--preset', preset as string, '--questions', 'set-12.json', '--output', output as string], {
        cwd: workspace.dir,
        env: env(),
        timeoutMs: 60_000,
      });
      expect(generated.code, describeRun(generated)).toBe(0);
    }
    const generationCalls = server.log.length;
    expect(generationCalls).toBe(12 * 3 + 12);
    // The judge: for the first third of the instructions it always picks the first shown (a position
    // bias: the two orders disagree, a tie); otherwise it prefers the staircase answer ("agg says": the
    // fake server names the model without its provider).
    const biased = new Set(instructions.slice(0, 4).map((entry) => entry.instruction));
    server.setBehavior('judge', {
      text: (request) => {
        const { instruction, first } = shownPair(request);
        if (biased.has(instruction)) return 'm';
        return first.startsWith('agg says') ? 'm' : 'M';
      },
    });
    const result = await runCli(
      ['eval', 'compare', '--a', 'staircase.json', '--b', 'single.json', '--judge', 'fake:judge', '--json', '--resamples', '500', '--seed', 'recipe'],
      {
        cwd: workspace.dir,
        env: env(),
        timeoutMs: 60_000,
      },
    );
    expect(result.code, describeRun(result)).toBe(0);
    expect(server.log.length - generationCalls).toBe(24);
    // Every instruction was judged in both orders: once with A's output shown first, once with B's.
    const judged = server.log.slice(generationCalls).map((entry) => shownPair(entry));
    for (const { instruction } of instructions) {
      const shownFirst = judged
        .filter((pair) => pair.instruction === instruction)
        .map((pair) => pair.first.slice(0, 9))
        .sort();
      expect(shownFirst).toEqual(['agg says ', 'solo says']);
    }
    const comparison = JSON.parse(result.stdout) as ComparisonJson;
    expect(comparison.a.name).toBe('staircase');
    expect(comparison.b.name).toBe('single');
    expect([comparison.wins, comparison.ties, comparison.losses]).toEqual([8, 4, 0]);
    expect(comparison.winRate).toBeCloseTo(((8 + 0.5 * 4) / 12) * 100, 10);
    expect(comparison.consistent).toBe(8);
    // Per category (the instructions' dataset).
    for (const [category, entry] of Object.entries(comparison.categories)) {
      const inCategory = instructions.filter((instruction) => instruction.dataset === category);
      const ties = inCategory.filter((instruction) => biased.has(instruction.instruction)).length;
      expect([entry.wins, entry.ties, entry.losses]).toEqual([inCategory.length - ties, ties, 0]);
    }
    // The interval with --seed recipe, --resamples 500, redone here.
    const generator = new PythonRandom('recipe');
    const values = instructions.map((instruction) => (biased.has(instruction.instruction) ? 0.5 : 1));
    const [low, high] = bootstrap(values, () => generator.random(), 500);
    expect(comparison.interval[0]).toBeCloseTo(low, 8);
    expect(comparison.interval[1]).toBeCloseTo(high, 8);
    // The first 12 instructions of AlpacaEval's set, in order: the length-controlled win rate is defined.
    expect(comparison.lengthControlled?.winRate).toBeGreaterThan(50);
    expect(comparison.lengthControlled?.winRate).toBeLessThan(100);

    // Each side's spending: the sums of its own sidecar, read here.
    for (const [side, file] of [
      [comparison.a, 'staircase.json.progress.jsonl'],
      [comparison.b, 'single.json.progress.jsonl'],
    ] as const) {
      const records = readLines<{ usage: { inputTokens: number; outputTokens: number }; costUsd: number }>(workspace.path(file));
      expect(side.progressFile).toBe(workspace.path(file));
      expect(side.itemsWithUsage).toBe(12);
      expect(side.usage).toEqual({
        inputTokens: records.reduce((sum, record) => sum + record.usage.inputTokens, 0),
        outputTokens: records.reduce((sum, record) => sum + record.usage.outputTokens, 0),
      });
      expect(side.costUsd as number).toBeCloseTo(
        records.reduce((sum, record) => sum + record.costUsd, 0),
        10,
      );
    }
    expect(comparison.a.costUsd as number).toBeGreaterThan(comparison.b.costUsd as number); // three calls per item against one

    // The annotations: AlpacaEval's records with B as the baseline, both replies kept.
    const written = JSON.parse(readFileSync(comparison.judgments, 'utf8')) as Array<{
      generator_1: string;
      generator_2: string;
      preference: number;
      raw_completion: { orders: unknown[] };
    }>;
    expect(written).toHaveLength(12);
    expect(
      written.every((annotation) => annotation.generator_1 === 'single' && annotation.generator_2 === 'staircase' && annotation.raw_completion.orders.length === 2),
    ).toBe(true);

    // The readable summary, from a rerun that calls nothing.
    const rerun = await runCli(['eval', 'compare', '--a', 'staircase.json', '--b', 'single.json', '--judge', 'fake:judge', '--resamples', '500', '--seed', 'recipe'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(rerun.code, describeRun(rerun)).toBe(0);
    expect(server.log.length - generationCalls).toBe(24);
    expect(rerun.stdout).toContain('AlpacaEval comparison (judge fake:judge): A = staircase vs B = single, 12 instructions, each judged in both orders');
    expect(rerun.stdout).toMatch(/win rate of A\s+83\.33/);
    expect(rerun.stdout).toMatch(/wins \/ ties \/ losses\s+8 \/ 4 \/ 0/);
  });

  it('files that do not answer the same instructions are exit 2 before any call, and so is an MT-Bench flag', async () => {
    const { workspace, server } = suite;
    workspace.write(
      'x1.json',
      JSON.stringify([
        { instruction: 'one', output: 'a', generator: 'x', dataset: 'd' },
        { instruction: 'two', output: 'b', generator: 'x', dataset: 'd' },
      ]),
    );
    workspace.write('x2.json', JSON.stringify([{ instruction: 'one', output: 'c', generator: 'y', dataset: 'd' }]));
    const mismatch = await runCli(['eval', 'compare', '--a', 'x1.json', '--b', 'x2.json', '--judge', 'fake:judge'], { cwd: workspace.dir, env: env() });
    expect(mismatch.code, describeRun(mismatch)).toBe(2);
    expect(mismatch.stderr).toContain('A and B must answer the same instructions: 1 only in A');
    const foreign = await runCli(['eval', 'compare', '--a', 'x1.json', '--b', 'x2.json', '--judge', 'fake:judge', '--judge-prompts', 'p.jsonl'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(foreign.code, describeRun(foreign)).toBe(2);
    expect(foreign.stderr).toContain('--judge-prompts is for MT-Bench comparisons');
    expect(server.log).toHaveLength(0);
  });
});

describe.skipIf(!haveData)('moa eval compare --benchmark mt-bench', () => {
  it("plays two games per question and turn with FastChat's pairwise prompts, and counts as show_result.py does", async () => {
    const { workspace, server } = suite;
    const questions = readLines<{ question_id: number; category: string; turns: string[] }>(questionFile)
      .filter((question) => ['writing', 'roleplay', 'stem'].includes(question.category))
      .slice(0, 9);
    const answer = (model: string, id: number, turn: number): string => `${model} answer Q${id}T${turn}`;
    for (const model of ['moa-a', 'moa-b']) {
      workspace.write(
        `${model}.jsonl`,
        questions
          .map((question) =>
            JSON.stringify({
              question_id: question.question_id,
              answer_id: `${model}-${question.question_id}`,
              model_id: model,
              choices: [{ index: 0, turns: [answer(model, question.question_id, 1), answer(model, question.question_id, 2)] }],
              tstamp: 1,
            }),
          )
          .join('\n') + '\n',
      );
    }
    // The rule: question 0 → always "[[A]]" (position bias: a tie); question 1 → "[[C]]" (a tie);
    // question 2 → no verdict (an error, left out); the rest → A's answer wins, except turn 2 of question 3 (B wins).
    const [biased, tied, broken, reversed] = questions.map((question) => question.question_id);
    server.setBehavior('judge', {
      text: (request) => {
        const user = userText(request);
        const id = Number(/Q(\d+)T/.exec(user)?.[1]);
        const turn = user.includes('T2') ? 2 : 1;
        if (id === biased) return 'Assistant A is more helpful. [[A]]';
        if (id === tied) return 'Both are equally good. [[C]]';
        if (id === broken) return 'I am unable to decide.';
        const aShownFirst = user.indexOf('moa-a answer') < user.indexOf('moa-b answer');
        const aWins = !(id === reversed && turn === 2);
        return aWins === aShownFirst ? 'Assistant A follows the instructions better. [[A]]' : 'Assistant B is better. [[B]]';
      },
    });
    const result = await runCli(['eval', 'compare', '--a', 'moa-a.jsonl', '--b', 'moa-b.jsonl', '--judge', 'fake:judge', '--json'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(server.log).toHaveLength(9 * 2 * 2);
    expect(server.log.every((entry) => entry.temperature === 0 && entry.maxTokens === 2048)).toBe(true);
    const comparison = JSON.parse(result.stdout) as ComparisonJson;
    // 9 questions × 2 turns = 18 pairs; question 2's two are errors.
    expect(comparison.n).toBe(16);
    expect(comparison.unparsed).toBe(2);
    const expectedWins = 2 * (9 - 4) + 1; // questions 4…8 both turns, question 3 turn 1
    expect([comparison.wins, comparison.ties, comparison.losses]).toEqual([expectedWins, 4, 1]);
    expect(comparison.winRate).toBeCloseTo(((expectedWins + 0.5 * 4) / 16) * 100, 10);
    expect(comparison.turns?.['2']?.n).toBe(8);
    expect(comparison.lengthControlled).toBeNull();
    expect(comparison.lengthControlledNote).toContain('MT-Bench defines no length-controlled win rate');

    // FastChat's pairwise judgments: model_1 = A, model_2 = B, game 2 shows B first.
    const judgments = readLines<Record<string, unknown>>(workspace.path('moa-a.vs.moa-b.pair.jsonl'));
    expect(judgments).toHaveLength(18);
    for (const judgment of judgments) {
      expect(Object.keys(judgment)).toEqual([
        'question_id',
        'model_1',
        'model_2',
        'g1_winner',
        'g2_winner',
        'judge',
        'g1_user_prompt',
        'g1_judgment',
        'g2_user_prompt',
        'g2_judgment',
        'turn',
        'tstamp',
      ]);
      expect([judgment.model_1, judgment.model_2]).toEqual(['moa-a', 'moa-b']);
      expect((judgment.judge as string[])[0]).toBe('judge');
      expect((judgment.judge as string[])[1]).toBe(judgment.turn === 2 ? 'pair-v2-multi-turn' : 'pair-v2');
      expect((judgment.g1_user_prompt as string).indexOf('moa-a answer')).toBeLessThan((judgment.g1_user_prompt as string).indexOf('moa-b answer'));
      expect((judgment.g2_user_prompt as string).indexOf('moa-b answer')).toBeLessThan((judgment.g2_user_prompt as string).indexOf('moa-a answer'));
      if (judgment.question_id === biased) expect([judgment.g1_winner, judgment.g2_winner]).toEqual(['model_1', 'model_2']);
      if (judgment.question_id === broken) expect([judgment.g1_winner, judgment.g2_winner]).toEqual(['error', 'error']);
    }
  });
});
