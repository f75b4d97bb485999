// The benchmark jobs as library functions (no CLI): `evaluation.judgeMtBench`, `generateFlask`,
// `comparePairwise` from the package's `moa-engine/eval` entry point, run against the fake OpenAI-compatible server.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ConfigError, resolvePreset } from '../../src/index.js';
import * as evaluation from '../../src/eval/index.js';
import { startFakeLLMServer, type FakeLLMServer } from '../support/fake-llm-server.js';
import { benchFile, haveBenchFiles } from './bench-data.js';

const questionFile = benchFile('mt_bench', 'question.jsonl');
const promptsFile = benchFile('mt_bench', 'judge_prompts.jsonl');
const flaskFile = benchFile('flask', 'flask_evaluation.jsonl');
const haveData = haveBenchFiles(questionFile, promptsFile, flaskFile);

let server: FakeLLMServer;
let directory: string;
const runner = (): evaluation.EvalRunnerOptions => ({
  providers: { fake: { type: 'openai-compatible', baseURL: server.url, apiKeyEnv: 'FAKE_KEY' } },
  env: { FAKE_KEY: 'sk-library-test' },
  prices: { 'fake:judge': { input: 1, output: 2 }, 'fake:agg': { input: 1, output: 2 } },
});

beforeAll(async () => {
  server = await startFakeLLMServer();
  directory = mkdtempSync(join(tmpdir(), 'moa-eval-jobs-'));
});
afterAll(async () => {
  await server?.close();
  rmSync(directory, { recursive: true, force: true });
});
beforeEach(() => server.reset());

describe.skipIf(!haveData)('evaluation jobs as library functions', () => {
  it('judgeMtBench: prepare, estimate, run; the result holds the judgments and the scores', async () => {
    const writing = readFileSync(questionFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as { question_id: number; category: string })
      .filter((question) => question.category === 'writing')
      .slice(0, 2);
    const answers = join(directory, 'lib-answers.jsonl');
    writeFileSync(
      answers,
      writing
        .map((question) => JSON.stringify({ question_id: question.question_id, answer_id: 'x', model_id: 'lib', choices: [{ index: 0, turns: ['a', 'b'] }], tstamp: 1 }))
        .join('\n') + '\n',
    );
    server.setBehavior('judge', { text: 'Good. [[8]]' });
    const options = { answers, questions: questionFile, judgePrompts: promptsFile, judge: 'fake:judge' };
    const job = evaluation.prepareMtBenchJudging(options);
    expect(job.items).toHaveLength(4);
    const estimate = evaluation.estimateJob(job, runner().prices);
    expect([estimate.calls, estimate.outputTokens]).toEqual([4, 4 * 2048]);
    expect(estimate.costUsd).not.toBeNull();

    const { result, summary } = await evaluation.judgeMtBench(options, runner());
    expect(summary.succeeded).toBe(4);
    expect(server.log).toHaveLength(4);
    expect(result.model).toBe('lib-answers');
    expect(result.judgeName).toBe('judge');
    expect(result.scores?.overall.score).toBe(8);
    expect(result.judgments.every((judgment) => judgment.score === 8)).toBe(true);
    expect(readFileSync(result.judgmentsPath, 'utf8').trim().split('\n')).toHaveLength(4);
  });

  it("generateFlask with a resolved preset writes FLASK's answers; an unknown provider is a ConfigError before any call", async () => {
    server.setBehavior('agg', { text: 'a FLASK answer' });
    const set = join(directory, 'flask-3.jsonl');
    writeFileSync(set, readFileSync(flaskFile, 'utf8').split('\n').slice(0, 3).join('\n') + '\n');
    const output = join(directory, 'flask-answers.jsonl');
    const preset = resolvePreset({ layers: 1, aggregator: 'fake:agg' }, { name: 'lib' });
    const { result } = await evaluation.generateFlask({ preset, questions: set, output }, runner());
    expect(result.written).toBe(3);
    const lines = readFileSync(output, 'utf8')
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { question_id: number; text: string });
    expect(lines.map((line) => line.text)).toEqual(['a FLASK answer', 'a FLASK answer', 'a FLASK answer']);
    // The sidecar records carry what the report reads: usage, latency, cost, the preset.
    const record = JSON.parse(readFileSync(`${output}.progress.jsonl`, 'utf8').split('\n')[0] ?? '{}') as Record<string, unknown>;
    expect(record).toMatchObject({ preset: 'lib', question_id: lines[0]?.question_id });
    expect(typeof record.costUsd).toBe('number');

    const broken = resolvePreset({ layers: 1, aggregator: 'nowhere:model' }, { name: 'broken' });
    await expect(evaluation.generateFlask({ preset: broken, questions: set, output: join(directory, 'never.jsonl') }, runner())).rejects.toBeInstanceOf(ConfigError);
    expect(server.log).toHaveLength(3);
  });
});
