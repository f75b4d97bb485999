// `moa eval mt-bench --queue` and `moa judge mt-bench --queue` with two `moa worker`s: the official
// FastChat files are written by the enqueuing command exactly as a local run writes them. A real
// redis-server, the fake LLM server, and the real MT-Bench files ($MOA_BENCH_DATA).
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { assertCliBuilt, cliEnv, contentText, describeRun, makeWorkspace, runCli, type Workspace } from '../e2e/run-cli.js';
import { benchFile, haveBenchFiles } from '../eval/bench-data.js';
import { startFakeLLMServer, type FakeLLMServer, type FakeRequest } from '../support/fake-llm-server.js';
import { startRedisServer, type TestRedisServer } from '../support/redis-server.js';
import { startWorker, stopAllWorkers } from './worker-process.js';

const questionFile = benchFile('mt_bench', 'question.jsonl');
const judgePromptsFile = benchFile('mt_bench', 'judge_prompts.jsonl');
const referenceFile = benchFile('mt_bench', 'reference_answer', 'gpt-4.jsonl');
const haveData = haveBenchFiles(questionFile, judgePromptsFile, referenceFile);

let redis: TestRedisServer;
let server: FakeLLMServer;
let workspace: Workspace;

function lastUser(messages: FakeRequest['messages']): string {
  const users = messages.filter((message) => message.role === 'user');
  return contentText(users[users.length - 1]?.content);
}

beforeAll(async () => {
  assertCliBuilt();
  redis = await startRedisServer();
  server = await startFakeLLMServer({
    defaultBehavior: { delayMs: 10, text: (request) => `${request.model} answers: ${lastUser(request.messages).slice(0, 40)}` },
    behaviors: { judge: { text: 'Fair enough. Rating: [[7]]' } },
  });
  workspace = makeWorkspace({
    providers: { fake: { type: 'openai-compatible', baseURL: server.url, apiKeyEnv: 'FAKE_KEY', maxConcurrency: 4 } },
    presets: { small: { layers: 2, proposers: ['fake:p1', 'fake:p2'], aggregator: 'fake:agg', maxTokens: 100 } },
    defaultPreset: 'small',
  });
});
afterAll(async () => {
  await stopAllWorkers();
  await server?.close();
  await redis?.stop();
  workspace?.remove();
});

interface AnswerLine {
  question_id: number;
  answer_id: string;
  model_id: string;
  choices: Array<{ index: number; turns: string[] }>;
  tstamp: number;
}

function readLines<T>(name: string): T[] {
  return readFileSync(workspace.path(name), 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

describe.skipIf(!haveData)('moa eval / judge mt-bench --queue', () => {
  it("two workers answer the questions; the enqueuer writes FastChat's answer file, the same as a local run; the judge runs on the queue too", async () => {
    const questions = readFileSync(questionFile, 'utf8').trim().split('\n').slice(0, 10);
    workspace.write('questions.jsonl', `${questions.join('\n')}\n`);
    const env = cliEnv({ MOA_CACHE_DIR: workspace.path('cache'), MOA_QUEUE_LOCK_MS: '1500' });
    const workers = await Promise.all([0, 1].map(() => startWorker(['--queue', redis.url, '--concurrency', '2'], { cwd: workspace.dir, env })));

    const queued = await runCli(['eval', 'mt-bench', '--questions', 'questions.jsonl', '--output', 'queued-answers.jsonl', '--queue', redis.url], {
      cwd: workspace.dir,
      env,
      timeoutMs: 90_000,
    });
    expect(queued.code, describeRun(queued)).toBe(0);
    expect(queued.stderr).toMatch(/wrote 10 of 10/);
    const answers = readLines<AnswerLine>('queued-answers.jsonl');
    const expectedIds = questions.map((line) => (JSON.parse(line) as { question_id: number }).question_id).sort((a, b) => a - b);
    expect(answers.map((answer) => answer.question_id)).toEqual(expectedIds);
    for (const answer of answers) {
      expect(Object.keys(answer).sort()).toEqual(['answer_id', 'choices', 'model_id', 'question_id', 'tstamp']);
      expect(answer.model_id).toBe('small');
      expect(answer.choices).toHaveLength(1);
      expect(answer.choices[0]!.turns).toHaveLength(2);
      expect(answer.choices[0]!.turns.every((turn) => turn.startsWith('agg answers: '))).toBe(true);
    }
    // Turn 2 saw turn 1's answer, on whichever worker ran it.
    const secondTurns = server.log.filter((entry) => entry.model === 'agg' && entry.messages.filter((message) => message.role === 'assistant').length === 1);
    expect(secondTurns).toHaveLength(10);

    // The same command without --queue writes the same answers (ids and timestamps aside).
    const local = await runCli(['eval', 'mt-bench', '--questions', 'questions.jsonl', '--output', 'local-answers.jsonl', '--no-cache'], {
      cwd: workspace.dir,
      env,
      timeoutMs: 90_000,
    });
    expect(local.code, describeRun(local)).toBe(0);
    const turnsOf = (lines: AnswerLine[]): Array<[number, string[]]> => lines.map((line) => [line.question_id, line.choices[0]!.turns]);
    expect(turnsOf(readLines<AnswerLine>('local-answers.jsonl'))).toEqual(turnsOf(answers));

    // Judged on the queue: FastChat's judgment records.
    const judged = await runCli(
      [
        'judge',
        'mt-bench',
        '--answers',
        'queued-answers.jsonl',
        '--questions',
        'questions.jsonl',
        '--judge-prompts',
        judgePromptsFile,
        '--reference-answers',
        referenceFile,
        '--judge',
        'fake:judge',
        '--judgments-output',
        'judgments.jsonl',
        '--queue',
        redis.url,
      ],
      { cwd: workspace.dir, env, timeoutMs: 90_000 },
    );
    expect(judged.code, describeRun(judged)).toBe(0);
    const judgments = readLines<{ question_id: number; model: string; judge: unknown[]; score: number; turn: number }>('judgments.jsonl');
    expect(judgments).toHaveLength(20);
    expect(judgments.every((judgment) => judgment.score === 7 && judgment.model === 'queued-answers')).toBe(true);
    const done = await Promise.all(workers.map((worker) => worker.stop().then(() => worker.stderr())));
    expect(done.every((text) => /stopped · [1-9]\d* done/.test(text))).toBe(true);
  }, 180_000);
});
