// End-to-end tests of `moa eval mt-bench | alpaca-eval | flask`: the built CLI against the fake
// OpenAI-compatible server, on the real benchmark files (read from $MOA_BENCH_DATA or
// /work/shared/data at run time; subsets are written to the temp workspace, never to the repo).
import { existsSync, readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { cliEnv, contentText, conversation, describeRun, runCli, useCliSuite } from '../e2e/run-cli.js';
import type { FakeLogEntry, FakeRequest } from '../support/fake-llm-server.js';
import { benchFile, haveBenchFiles } from './bench-data.js';

const questionFile = benchFile('mt_bench', 'question.jsonl');
const alpacaSetFile = benchFile('alpaca_eval', 'alpaca_eval_instructions.json');
const flaskFile = benchFile('flask', 'flask_evaluation.jsonl');
const haveData = haveBenchFiles(questionFile, alpacaSetFile, flaskFile);

const PRICE = { input: 1, output: 2 }; // USD per million tokens
const suite = useCliSuite({
  presets: {
    small: { layers: 2, proposers: ['fake:p1', 'fake:p2'], aggregator: 'fake:agg', maxTokens: 200 },
  },
  prices: { 'fake:p1': PRICE, 'fake:p2': PRICE, 'fake:agg': PRICE },
  defaultPreset: 'small',
});

const env = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: suite.workspace.path('cache') });

/** The last user message of a request. */
function lastUser(messages: FakeRequest['messages']): string {
  const users = messages.filter((message) => message.role === 'user');
  return contentText(users[users.length - 1]?.content);
}

/** Every model answers with a text that names the model and the question it was asked (its first 40 characters). */
function answerText(request: FakeRequest): string {
  return `${request.model} answers: ${lastUser(request.messages).slice(0, 40)}`;
}

interface MtBenchQuestionLine {
  question_id: number;
  category: string;
  turns: string[];
}

function readLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

const EXPECTED_TEMPERATURE: Record<string, number> = {
  writing: 0.7,
  roleplay: 0.7,
  extraction: 0,
  math: 0,
  coding: 0,
  reasoning: 0,
  stem: 0.1,
  humanities: 0.1,
};

beforeEach(() => {
  suite.server.reset();
  suite.server.setDefaultBehavior({ text: answerText });
});

describe.skipIf(!haveData)('moa eval mt-bench', () => {
  it("answers the 80 real questions in two turns, in FastChat's format, at the category temperatures; a rerun makes no request", async () => {
    const { workspace, server } = suite;
    const questions = readLines<MtBenchQuestionLine>(questionFile);
    expect(questions).toHaveLength(80);
    const result = await runCli(['eval', 'mt-bench', '--questions', questionFile, '--output', 'mt-answers.jsonl', '--concurrency', '16'], {
      cwd: workspace.dir,
      env: env(),
      timeoutMs: 60_000,
    });
    expect(result.code, describeRun(result)).toBe(0);
    expect(result.stderr).toContain('wrote 80 of 80');

    const answers = readLines<Record<string, unknown>>(workspace.path('mt-answers.jsonl'));
    expect(answers).toHaveLength(80);
    expect(answers.map((answer) => answer.question_id)).toEqual(questions.map((question) => question.question_id).sort((a, b) => a - b));
    for (const answer of answers) {
      expect(Object.keys(answer)).toEqual(['question_id', 'answer_id', 'model_id', 'choices', 'tstamp']);
      expect(answer.model_id).toBe('small');
      expect(answer.answer_id).toMatch(/^[2-9A-HJ-NP-Za-km-z]{22}$/);
      expect(typeof answer.tstamp).toBe('number');
      const choices = answer.choices as Array<{ index: number; turns: string[] }>;
      expect(choices).toHaveLength(1);
      expect(choices[0]?.index).toBe(0);
      expect(choices[0]?.turns).toHaveLength(2);
      const question = questions.find((candidate) => candidate.question_id === answer.question_id);
      // The final answer of each turn is the aggregator's answer to that turn's question.
      expect(choices[0]?.turns[0]).toBe(`agg answers: ${question?.turns[0]?.slice(0, 40)}`);
      expect(choices[0]?.turns[1]).toBe(`agg answers: ${question?.turns[1]?.slice(0, 40)}`);
    }

    // 80 questions × 2 turns × 3 agents.
    expect(server.log).toHaveLength(480);
    const questionOf = (entry: FakeLogEntry): MtBenchQuestionLine => {
      const first = conversation(entry).find((message) => message.role === 'user')?.text;
      const question = questions.find((candidate) => candidate.turns[0] === first);
      if (!question) throw new Error(`request ${entry.id} matches no question`);
      return question;
    };
    const seenTemperatures = new Set<string>();
    for (const entry of server.log) {
      const question = questionOf(entry);
      expect(entry.temperature, `question ${question.question_id} (${question.category})`).toBe(EXPECTED_TEMPERATURE[question.category]);
      seenTemperatures.add(`${question.category}=${entry.temperature}`);
      const turns = conversation(entry);
      if (turns.length === 3) {
        // Turn 2: the turn-1 question, the preset's own turn-1 answer, then the turn-2 question.
        const answer = answers.find((candidate) => candidate.question_id === question.question_id) as { choices: Array<{ turns: string[] }> };
        expect(turns.map((turn) => turn.role)).toEqual(['user', 'assistant', 'user']);
        expect(turns[1]?.text).toBe(answer.choices[0]?.turns[0]);
        expect(turns[2]?.text).toBe(question.turns[1]);
      } else {
        expect(turns).toHaveLength(1);
      }
    }
    expect(seenTemperatures).toContain('math=0');
    expect(seenTemperatures).toContain('writing=0.7');
    expect(seenTemperatures).toContain('humanities=0.1');
    expect(server.log.filter((entry) => conversation(entry).length === 3)).toHaveLength(240);

    // A rerun of the finished eval: no request, the same file.
    const before = readFileSync(workspace.path('mt-answers.jsonl'), 'utf8');
    const rerun = await runCli(['eval', 'mt-bench', '--questions', questionFile, '--output', 'mt-answers.jsonl'], { cwd: workspace.dir, env: env() });
    expect(rerun.code, describeRun(rerun)).toBe(0);
    expect(server.log).toHaveLength(480);
    expect(readFileSync(workspace.path('mt-answers.jsonl'), 'utf8')).toBe(before);
  });

  it('stops at the budget with a partial official file, and a rerun completes it without redoing or duplicating anything', async () => {
    const { workspace, server } = suite;
    const lines = readFileSync(questionFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '');
    workspace.write('mt-subset.jsonl', `${lines.slice(0, 12).join('\n')}\n`);
    const subsetIds = lines.slice(0, 12).map((line) => (JSON.parse(line) as MtBenchQuestionLine).question_id);

    const first = await runCli(
      ['eval', 'mt-bench', '--questions', 'mt-subset.jsonl', '--output', 'mt-partial.jsonl', '--no-cache', '--concurrency', '1', '--budget-usd', '0.000001'],
      { cwd: workspace.dir, env: env() },
    );
    expect(first.code, describeRun(first)).toBe(1);
    expect(first.stderr).toMatch(/budget reached/);
    expect(first.stderr).toMatch(/wrote 1 of 12 .* 11 missing/);
    const partial = readLines<{ question_id: number; answer_id: string }>(workspace.path('mt-partial.jsonl'));
    expect(partial).toHaveLength(1);
    expect(server.log).toHaveLength(6);

    const second = await runCli(['eval', 'mt-bench', '--questions', 'mt-subset.jsonl', '--output', 'mt-partial.jsonl', '--no-cache', '--concurrency', '4'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(second.code, describeRun(second)).toBe(0);
    const complete = readLines<{ question_id: number; answer_id: string }>(workspace.path('mt-partial.jsonl'));
    expect(complete.map((answer) => answer.question_id)).toEqual([...subsetIds].sort((a, b) => a - b));
    expect(new Set(complete.map((answer) => answer.question_id)).size).toBe(12);
    // The answer of the first run is kept as it was (same answer_id), and only the 11 missing questions were asked.
    expect(complete.find((answer) => answer.question_id === partial[0]?.question_id)?.answer_id).toBe(partial[0]?.answer_id);
    expect(server.log).toHaveLength(12 * 6);
  });

  it('--temperature is refused (MT-Bench fixes temperatures) and a bad question file names file, line and field (exit 2)', async () => {
    const { workspace, server } = suite;
    const refused = await runCli(['eval', 'mt-bench', '--questions', questionFile, '--output', 'x.jsonl', '--temperature', '0.3'], { cwd: workspace.dir, env: env() });
    expect(refused.code, describeRun(refused)).toBe(2);
    expect(refused.stderr).toContain('--temperature cannot be used with moa eval mt-bench');

    const bad = workspace.write(
      'bad-questions.jsonl',
      `${JSON.stringify({ question_id: 1, category: 'math', turns: ['a', 'b'] })}\n${JSON.stringify({ question_id: 2, category: 'math', turns: 'b' })}\n`,
    );
    const result = await runCli(['eval', 'mt-bench', '--questions', bad, '--output', 'bad-out.jsonl'], { cwd: workspace.dir, env: env() });
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain(`${bad}:2 (field "turns")`);
    expect(server.log).toHaveLength(0);
  });
});

describe.skipIf(!haveData)('moa eval alpaca-eval', () => {
  it("writes model_outputs.json for the first 20 instructions, in the set's order", async () => {
    const { workspace, server } = suite;
    const set = (JSON.parse(readFileSync(alpacaSetFile, 'utf8')) as Array<{ instruction: string; dataset: string }>).slice(0, 20);
    workspace.write('alpaca-subset.json', JSON.stringify(set, null, 2));
    const result = await runCli(['eval', 'alpaca-eval', '--questions', 'alpaca-subset.json', '--output', 'model_outputs.json', '--generator', 'my-moa', '--json'], {
      cwd: workspace.dir,
      env: env(),
    });
    expect(result.code, describeRun(result)).toBe(0);
    const summary = JSON.parse(result.stdout) as { total: number; written: number; missing: number };
    expect(summary).toMatchObject({ total: 20, written: 20, missing: 0 });
    const outputs = JSON.parse(workspace.read('model_outputs.json')) as Array<Record<string, unknown>>;
    expect(outputs).toHaveLength(20);
    outputs.forEach((output, index) => {
      expect(Object.keys(output)).toEqual(['instruction', 'output', 'generator', 'dataset']);
      expect(output.instruction).toBe(set[index]?.instruction);
      expect(output.dataset).toBe(set[index]?.dataset);
      expect(output.generator).toBe('my-moa');
      expect(output.output).toBe(`agg answers: ${set[index]?.instruction.slice(0, 40)}`);
    });
    expect(server.log).toHaveLength(60);
    // The proposers saw just the instruction; the aggregator also the proposers' answers.
    const aggregatorRequests = server.log.filter((entry) => entry.model === 'agg');
    expect(aggregatorRequests).toHaveLength(20);
    expect(aggregatorRequests.every((entry) => entry.temperature === 0.7 && entry.maxTokens === 200)).toBe(true);
  });
});

describe.skipIf(!haveData)('moa eval alpaca-eval interrupted', () => {
  it('Ctrl-C keeps what finished (exit 130, a valid partial model_outputs.json); a rerun completes it without asking again', async () => {
    const { workspace, server } = suite;
    server.setDefaultBehavior({ text: answerText, delayMs: 30 });
    const set = (JSON.parse(readFileSync(alpacaSetFile, 'utf8')) as Array<{ instruction: string; dataset: string }>).slice(100, 120);
    workspace.write('alpaca-sigint.json', JSON.stringify(set));
    const args = ['eval', 'alpaca-eval', '--questions', 'alpaca-sigint.json', '--output', 'sigint_outputs.json', '--no-cache', '--concurrency', '2'];
    const progressLines = (): number =>
      existsSync(workspace.path('sigint_outputs.json.progress.jsonl'))
        ? readFileSync(workspace.path('sigint_outputs.json.progress.jsonl'), 'utf8').split('\n').filter(Boolean).length
        : 0;
    const interrupted = await runCli(args, {
      cwd: workspace.dir,
      env: env(),
      onSpawn: (child) => {
        const poll = setInterval(() => {
          if (progressLines() >= 3) {
            clearInterval(poll);
            child.kill('SIGINT');
          }
        }, 5);
        child.once('exit', () => clearInterval(poll));
      },
    });
    expect(interrupted.code, describeRun(interrupted)).toBe(130);
    const partial = JSON.parse(workspace.read('sigint_outputs.json')) as Array<{ instruction: string; output: string }>;
    expect(partial.length).toBeGreaterThanOrEqual(3);
    expect(partial.length).toBeLessThan(20);
    // In the set's order, each with its own answer.
    const positions = partial.map((output) => set.findIndex((entry) => entry.instruction === output.instruction));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    expect(partial.every((output) => output.output === `agg answers: ${output.instruction.slice(0, 40)}`)).toBe(true);

    const requestsBefore = server.log.length;
    const resumed = await runCli(args, { cwd: workspace.dir, env: env() });
    expect(resumed.code, describeRun(resumed)).toBe(0);
    const complete = JSON.parse(workspace.read('sigint_outputs.json')) as Array<{ instruction: string }>;
    expect(complete.map((output) => output.instruction)).toEqual(set.map((entry) => entry.instruction));
    const done = new Set(partial.map((output) => output.instruction));
    const askedAgain = server.log.slice(requestsBefore).filter((entry) => done.has(conversation(entry).find((message) => message.role === 'user')?.text ?? ''));
    expect(askedAgain).toEqual([]);
  });
});

describe.skipIf(!haveData)('moa eval flask', () => {
  it("writes {question_id, text} lines in the evaluation set's order", async () => {
    const { workspace, server } = suite;
    const lines = readFileSync(flaskFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim() !== '')
      .slice(0, 15);
    workspace.write('flask-subset.jsonl', `${lines.join('\n')}\n`);
    const instances = lines.map((line) => JSON.parse(line) as { idx: number; instruction: string });
    const result = await runCli(['eval', 'flask', '--questions', 'flask-subset.jsonl', '--output', 'flask-answers.jsonl'], { cwd: workspace.dir, env: env() });
    expect(result.code, describeRun(result)).toBe(0);
    const answers = readLines<Record<string, unknown>>(workspace.path('flask-answers.jsonl'));
    expect(answers).toHaveLength(15);
    answers.forEach((answer, index) => {
      expect(Object.keys(answer)).toEqual(['question_id', 'text']);
      expect(answer.question_id).toBe(instances[index]?.idx);
      expect(answer.text).toBe(`agg answers: ${instances[index]?.instruction.slice(0, 40)}`);
    });
    expect(server.log).toHaveLength(45);
  });
});
