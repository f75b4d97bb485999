// Before a benchmark run starts, the command says how many calls it will make and, with prices,
// what they may cost; `--dry-run` stops there (the built CLI, the fake server, real benchmark files).
import { existsSync, readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, describeRun, runCli, useCliSuite } from '../e2e/run-cli.js';
import { benchFile, haveBenchFiles } from './bench-data.js';

const alpacaSetFile = benchFile('alpaca_eval', 'alpaca_eval_instructions.json');
const questionFile = benchFile('mt_bench', 'question.jsonl');
const haveData = haveBenchFiles(alpacaSetFile, questionFile, benchFile('mt_bench', 'judge_prompts.jsonl'), benchFile('mt_bench', 'reference_answer', 'gpt-4.jsonl'));

const PRICE = { input: 3, output: 15 }; // USD per million tokens
const suite = useCliSuite({
  presets: {
    bounded: { layers: 2, proposers: ['fake:p1', 'fake:p2'], aggregator: 'fake:agg', maxTokens: 100 },
    unbounded: { layers: 1, aggregator: 'fake:agg' },
  },
  prices: { 'fake:p1': PRICE, 'fake:p2': PRICE, 'fake:agg': PRICE, 'fake:judge': PRICE },
});
const env = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: suite.workspace.path('cache'), MOA_BENCH_DATA: process.env.MOA_BENCH_DATA ?? benchFile() });

interface Estimate {
  dryRun: boolean;
  items: number;
  alreadyDone: number;
  calls: number;
  inputTokens: number;
  outputTokens: number;
  outputsBounded: boolean;
  costUsd: number | null;
  unpricedModels: string[];
  byModel: Array<{ model: string; calls: number; inputTokens: number; outputTokens: number; costUsd: number | null }>;
}

beforeEach(() => suite.server.reset());

describe.skipIf(!haveData)('the estimate before a run, and --dry-run', () => {
  it("moa eval alpaca-eval --dry-run: every agent's calls, outputs at max tokens, the cost bound; nothing called, no file written", async () => {
    const { workspace, server } = suite;
    const instructions = (JSON.parse(readFileSync(alpacaSetFile, 'utf8')) as Array<{ instruction: string }>).slice(0, 5);
    const result = await runCli(['eval', 'alpaca-eval', '--preset', 'bounded', '--limit', '5', '--output', 'dry.json', '--dry-run', '--json'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(server.log).toHaveLength(0);
    expect(existsSync(workspace.path('dry.json'))).toBe(false);
    expect(existsSync(workspace.path('dry.json.progress.jsonl'))).toBe(false);
    const estimate = JSON.parse(result.stdout) as Estimate;
    expect(estimate.dryRun).toBe(true);
    // Two proposers and the aggregator per instruction; each output at its max tokens (100).
    expect(estimate.calls).toBe(15);
    expect(estimate.outputTokens).toBe(1500);
    expect(estimate.outputsBounded).toBe(true);
    expect(estimate.byModel.map((entry) => [entry.model, entry.calls])).toEqual([
      ['fake:agg', 5],
      ['fake:p1', 5],
      ['fake:p2', 5],
    ]);
    // Inputs at four characters per token: proposers read the instruction; the aggregator also reads both references (≤ 100 tokens each).
    const instructionTokens = instructions.reduce((sum, entry) => sum + Math.ceil(entry.instruction.length / 4), 0);
    expect(estimate.byModel.find((entry) => entry.model === 'fake:p1')?.inputTokens).toBe(instructionTokens);
    const aggregator = estimate.byModel.find((entry) => entry.model === 'fake:agg');
    expect(aggregator?.inputTokens).toBeGreaterThan(instructionTokens + 5 * 200);
    // The cost is the priced sum of those tokens.
    expect(estimate.costUsd as number).toBeCloseTo((estimate.inputTokens * PRICE.input + estimate.outputTokens * PRICE.output) / 1e6, 8);

    const text = await runCli(['eval', 'alpaca-eval', '--preset', 'bounded', '--limit', '5', '--output', 'dry.json', '--dry-run'], { cwd: workspace.dir, env: env() });
    expect(text.code, describeRun(text)).toBe(0);
    expect(text.stdout).toMatch(
      /moa eval alpaca-eval \(dry run, nothing called\): 15 calls to make for 5 items: ≈ [\d,]+ input and ≤ 1,500 output tokens; estimated cost at most \$0\.\d{4}/,
    );
    expect(text.stdout).toContain('  fake:p1: 5 calls');
  });

  it('without max tokens the estimate says what it assumed; without a price it says which is missing', async () => {
    const { workspace, server } = suite;
    const unbounded = await runCli(['eval', 'alpaca-eval', '--preset', 'unbounded', '--limit', '2', '--output', 'u.json', '--dry-run'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(unbounded.code, describeRun(unbounded)).toBe(0);
    expect(unbounded.stdout).toContain('≈ 2,048 output tokens (outputs at 1,024 tokens where no max tokens is set); estimated cost about $');
    const unpriced = await runCli(['eval', 'alpaca-eval', '--aggregator', 'fake:nameless', '--layers', '1', '--limit', '2', '--output', 'n.json', '--dry-run'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(unpriced.code, describeRun(unpriced)).toBe(0);
    expect(unpriced.stdout).toContain('no cost estimate: no price for fake:nameless');
    expect(server.log).toHaveLength(0);
  });

  it('the line before a real run counts only what is left to do', async () => {
    const { workspace, server } = suite;
    server.setDefaultBehavior({ text: 'an answer' });
    const first = await runCli(['eval', 'alpaca-eval', '--preset', 'bounded', '--limit', '3', '--output', 'part.json'], { cwd: workspace.dir, env: env() });
    expect(first.code, describeRun(first)).toBe(0);
    expect(first.stderr).toMatch(/moa eval alpaca-eval: 9 calls to make for 3 items: /);
    const more = await runCli(['eval', 'alpaca-eval', '--preset', 'bounded', '--limit', '5', '--output', 'part.json', '--dry-run', '--json'], {
      cwd: workspace.dir,
      env: env(),
    });
    const estimate = JSON.parse(more.stdout) as Estimate;
    expect([estimate.items, estimate.alreadyDone, estimate.calls]).toEqual([5, 3, 6]);
  });

  it('moa judge mt-bench --dry-run: one call per question and turn, at most 2048 output tokens each', async () => {
    const { workspace, server } = suite;
    const questions = readFileSync(questionFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { question_id: number });
    workspace.write(
      'all-answers.jsonl',
      questions
        .map((question) =>
          JSON.stringify({ question_id: question.question_id, answer_id: 'a', model_id: 'm', choices: [{ index: 0, turns: ['one', 'two'] }], tstamp: 1 }),
        )
        .join('\n') + '\n',
    );
    const result = await runCli(['judge', 'mt-bench', '--answers', 'all-answers.jsonl', '--judge', 'fake:judge', '--dry-run', '--json'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(result.code, describeRun(result)).toBe(0);
    const estimate = JSON.parse(result.stdout) as Estimate;
    expect(estimate.calls).toBe(160);
    expect(estimate.outputTokens).toBe(160 * 2048);
    expect(estimate.costUsd as number).toBeCloseTo((estimate.inputTokens * PRICE.input + 160 * 2048 * PRICE.output) / 1e6, 8);
    expect(server.log).toHaveLength(0);
    expect(existsSync(workspace.path('all-answers.judgments.jsonl'))).toBe(false);
  });
});
