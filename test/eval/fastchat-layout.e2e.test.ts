// FastChat's file layout rules, end to end with the built CLI: answers written into FastChat's
// `data/mt_bench/model_answer/` leave nothing else there (FastChat reads every *.jsonl of that
// folder as a model), judgments land in `model_judgment/<judge>_single.jsonl` with FastChat's
// names, and several models share that file as FastChat's own runs do.
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, describeRun, runCli, useCliSuite } from '../e2e/run-cli.js';
import { benchFile, haveBenchFiles } from './bench-data.js';

const questionFile = benchFile('mt_bench', 'question.jsonl');
const haveData = haveBenchFiles(questionFile, benchFile('mt_bench', 'judge_prompts.jsonl'));

const suite = useCliSuite({ presets: { small: { layers: 1, aggregator: 'fake:agg' } }, defaultPreset: 'small' });
const env = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: suite.workspace.path('cache'), MOA_BENCH_DATA: process.env.MOA_BENCH_DATA ?? benchFile() });

function readLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

/** What FastChat's load_model_answers does with the folder: every *.jsonl is a model named after the file, each line needs question_id and choices[0].turns. */
function fastChatModels(answerDir: string): Map<string, number> {
  const models = new Map<string, number>();
  for (const file of readdirSync(answerDir)
    .filter((name) => name.endsWith('.jsonl') && !name.startsWith('.'))
    .sort()) {
    const lines = readLines<{ question_id: unknown; choices: Array<{ turns: unknown[] }> }>(join(answerDir, file));
    for (const line of lines) {
      if (typeof line.question_id !== 'number' || !Array.isArray(line.choices?.[0]?.turns))
        throw new Error(`${file}: FastChat would crash on ${JSON.stringify(line).slice(0, 80)}`);
    }
    models.set(file.slice(0, -'.jsonl'.length), lines.length);
  }
  return models;
}

beforeEach(() => suite.server.reset());

describe.skipIf(!haveData)('FastChat layout', () => {
  const writingIds = haveData
    ? readLines<{ question_id: number; category: string }>(questionFile)
        .filter((question) => question.category === 'writing')
        .slice(0, 3)
        .map((question) => question.question_id)
    : [];

  it('answers in model_answer/, judgments in model_judgment/<judge>_single.jsonl named as FastChat names them, two models in one file', async () => {
    const { workspace, server } = suite;
    const bench = workspace.path('data/mt_bench');
    mkdirSync(join(bench, 'model_answer'), { recursive: true });
    // Three writing questions (no reference answers needed), as FastChat's question file.
    const questions = readLines<Record<string, unknown>>(questionFile).filter((question) => writingIds.includes(question.question_id as number));
    workspace.write('data/mt_bench/question.jsonl', questions.map((question) => JSON.stringify(question)).join('\n') + '\n');
    server.setDefaultBehavior({ text: (request) => `answer of ${request.model}` });

    for (const model of ['moa-x', 'moa-y']) {
      const generated = await runCli(
        ['eval', 'mt-bench', '--questions', 'data/mt_bench/question.jsonl', '--output', `data/mt_bench/model_answer/${model}.jsonl`, '--model-id', model],
        { cwd: workspace.dir, env: env() },
      );
      expect(generated.code, describeRun(generated)).toBe(0);
      expect(generated.stderr).toContain(`(progress in ${join(bench, 'moa-progress', 'model_answer', `${model}.jsonl.progress.jsonl`)})`);
    }
    // FastChat sees exactly the two models, and nothing it would choke on.
    expect(readdirSync(join(bench, 'model_answer')).sort()).toEqual(['moa-x.jsonl', 'moa-y.jsonl']);
    expect(fastChatModels(join(bench, 'model_answer'))).toEqual(
      new Map([
        ['moa-x', 3],
        ['moa-y', 3],
      ]),
    );
    // The relocated sidecar is the resume state: a rerun calls nothing.
    const calls = server.log.length;
    const rerun = await runCli(['eval', 'mt-bench', '--questions', 'data/mt_bench/question.jsonl', '--output', 'data/mt_bench/model_answer/moa-x.jsonl'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(rerun.code, describeRun(rerun)).toBe(0);
    expect(server.log.length).toBe(calls);

    // The judge "fake:gpt-4" is FastChat's "gpt-4"; ratings by model and turn, known here.
    const rating = (model: string, turn: number): number => (model === 'moa-x' ? 7 : 4) + turn;
    server.setBehavior('gpt-4', {
      text: (request) => {
        const user = request.messages.map((message) => (typeof message.content === 'string' ? message.content : JSON.stringify(message.content))).join('\n');
        const model = user.includes('moa-x') ? 'moa-x' : 'moa-y';
        return `Fine. Rating: [[${rating(model, user.includes("Assistant A's Conversation with User") ? 2 : 1)}]]`;
      },
    });
    // The answers name no model in their text ("answer of agg"): mark each file's answers so the judge can tell them apart.
    for (const model of ['moa-x', 'moa-y']) {
      const file = join(bench, 'model_answer', `${model}.jsonl`);
      const lines = readLines<{ choices: Array<{ turns: string[] }> }>(file).map((line) => ({
        ...line,
        choices: [{ index: 0, turns: line.choices[0]?.turns.map((turn) => `${turn} from ${model}`) ?? [] }],
      }));
      workspace.write(`data/mt_bench/model_answer/${model}.jsonl`, lines.map((line) => JSON.stringify(line)).join('\n') + '\n');
    }
    const judged: Record<string, { turns: Record<string, number> }> = {};
    for (const model of ['moa-x', 'moa-y']) {
      const result = await runCli(
        ['judge', 'mt-bench', '--answers', `data/mt_bench/model_answer/${model}.jsonl`, '--questions', 'data/mt_bench/question.jsonl', '--judge', 'fake:gpt-4', '--json'],
        { cwd: workspace.dir, env: env() },
      );
      expect(result.code, describeRun(result)).toBe(0);
      judged[model] = JSON.parse(result.stdout) as { turns: Record<string, number> };
    }
    const judgmentsFile = join(bench, 'model_judgment', 'gpt-4_single.jsonl');
    expect(readdirSync(join(bench, 'model_judgment'))).toEqual(['gpt-4_single.jsonl']);
    const judgments = readLines<{ model: string; judge: [string, string]; score: number; turn: number }>(judgmentsFile);
    expect(judgments).toHaveLength(12);
    expect(new Set(judgments.map((judgment) => judgment.model))).toEqual(new Set(['moa-x', 'moa-y']));
    expect(judgments.every((judgment) => judgment.judge[0] === 'gpt-4')).toBe(true);
    // show_result.py's single mode over the shared file: mean score per model and turn (−1 dropped).
    for (const model of ['moa-x', 'moa-y']) {
      for (const turn of [1, 2]) {
        const scores = judgments.filter((judgment) => judgment.model === model && judgment.turn === turn && judgment.score !== -1).map((judgment) => judgment.score);
        expect(scores.reduce((sum, score) => sum + score, 0) / scores.length).toBe(rating(model, turn));
        expect(judged[model]?.turns[String(turn)]).toBe(rating(model, turn));
      }
    }
    // Judging moa-x again replaces its lines (no duplicates) and keeps moa-y's.
    const again = await runCli(
      ['judge', 'mt-bench', '--answers', 'data/mt_bench/model_answer/moa-x.jsonl', '--questions', 'data/mt_bench/question.jsonl', '--judge', 'fake:gpt-4'],
      { cwd: workspace.dir, env: env() },
    );
    expect(again.code, describeRun(again)).toBe(0);
    expect(again.stderr).toContain('(6 lines of other models or judges kept)');
    expect(readLines(judgmentsFile)).toHaveLength(12);
    // The judging sidecars stay out of FastChat's folders too, one per model.
    expect(existsSync(join(bench, 'moa-progress', 'model_judgment', 'gpt-4_single.jsonl.moa-x.progress.jsonl'))).toBe(true);
    expect(existsSync(join(bench, 'moa-progress', 'model_judgment', 'gpt-4_single.jsonl.moa-y.progress.jsonl'))).toBe(true);
  });
});
