// End-to-end tests of `moa judge mt-bench` and `moa judge alpaca-eval --outputs`: the built CLI
// with a fake judge whose verdicts follow rules the tests control, on the real judge prompts,
// questions and reference answers (read at run time from $MOA_BENCH_DATA or /work/shared/data).
import { readFileSync } from 'node:fs';
import { beforeEach, describe, expect, it } from 'vitest';
import { isSwitchedOutputs } from '../../src/eval/alpaca-eval-judge.js';
import { cliEnv, contentText, describeRun, runCli, systemText, useCliSuite } from '../e2e/run-cli.js';
import type { FakeRequest } from '../support/fake-llm-server.js';
import { benchFile, haveBenchFiles } from './bench-data.js';

const questionFile = benchFile('mt_bench', 'question.jsonl');
const judgePromptsFile = benchFile('mt_bench', 'judge_prompts.jsonl');
const referenceFile = benchFile('mt_bench', 'reference_answer', 'gpt-4.jsonl');
const baselineFile = benchFile('alpaca_eval', 'alpaca_eval_gpt4_baseline.json');
const alpacaPromptFile = benchFile('alpaca_eval', 'judge', 'alpaca_eval_clf.txt');
const lcDirectory = benchFile('alpaca_eval', 'lc');
const haveData = haveBenchFiles(questionFile, judgePromptsFile, referenceFile, baselineFile, alpacaPromptFile, benchFile('alpaca_eval', 'lc', 'df_gamed.csv'));

const suite = useCliSuite({ presets: { small: { layers: 1, aggregator: 'fake:agg' } }, defaultPreset: 'small' });
const env = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: suite.workspace.path('cache') });

function userText(request: Pick<FakeRequest, 'messages'>): string {
  return request.messages
    .filter((message) => message.role === 'user')
    .map((message) => contentText(message.content))
    .join('\n');
}

function readLines<T>(path: string): T[] {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as T);
}

beforeEach(() => suite.server.reset());

describe.skipIf(!haveData)('moa judge mt-bench', () => {
  interface Question {
    question_id: number;
    category: string;
    turns: string[];
  }
  const questions = haveData ? readLines<Question>(questionFile) : [];
  const judgePrompts = new Map((haveData ? readLines<{ name: string; system_prompt: string }>(judgePromptsFile) : []).map((prompt) => [prompt.name, prompt] as const));
  const references = haveData ? readLines<{ question_id: number; choices: Array<{ turns: string[] }> }>(referenceFile) : [];
  /** The rating the fake judge gives: a known function of question and turn; question 85 turn 2 gets no rating. */
  const ratingOf = (questionId: number, turn: number): number | undefined => (questionId === 85 && turn === 2 ? undefined : ((questionId * 3 + turn * 5) % 10) + 1);

  it('grades every turn with the official prompts (reference-guided for math/reasoning/coding) and reports the right scores', async () => {
    const { workspace, server } = suite;
    // The answers carry markers; the judge rates the marked answer it is asked about.
    const answers = questions.map((question) => ({
      question_id: question.question_id,
      answer_id: `a${question.question_id}`,
      model_id: 'my-moa',
      choices: [{ index: 0, turns: [`first answer MARK-${question.question_id}-1`, `second answer MARK-${question.question_id}-2`] }],
      tstamp: 1,
    }));
    workspace.write('judge-answers.jsonl', answers.map((answer) => JSON.stringify(answer)).join('\n') + '\n');
    server.setBehavior('judge', {
      text: (request) => {
        const user = userText(request);
        // A turn-2 prompt shows the whole dialogue and asks about the second answer.
        const marks = [...user.matchAll(/MARK-(\d+)-(\d)/g)].map((match) => [Number(match[1]), Number(match[2])] as const);
        const [questionId, turn] = marks[marks.length - 1] ?? [0, 0];
        const rating = ratingOf(questionId, turn);
        return rating === undefined ? 'I cannot decide on a rating.' : `The answer is fine. Rating: [[${rating}]]`;
      },
    });

    const args = [
      'judge',
      'mt-bench',
      '--answers',
      'judge-answers.jsonl',
      '--questions',
      questionFile,
      '--judge-prompts',
      judgePromptsFile,
      '--reference-answers',
      referenceFile,
      '--judge',
      'fake:judge',
    ];
    const result = await runCli([...args, '--json'], { cwd: workspace.dir, env: env(), timeoutMs: 60_000 });
    expect(result.code, describeRun(result)).toBe(0);

    // Requests: 160, temperature 0, max 2048 tokens, the official system prompt; math-like categories carry the reference answer.
    expect(server.log).toHaveLength(160);
    expect(server.log.every((entry) => entry.temperature === 0 && entry.maxTokens === 2048)).toBe(true);
    for (const entry of server.log) {
      const user = userText(entry);
      const questionId = Number(/MARK-(\d+)-/.exec(user)?.[1]);
      const question = questions.find((candidate) => candidate.question_id === questionId);
      expect(question, user.slice(0, 200)).toBeDefined();
      const reference = references.find((candidate) => candidate.question_id === questionId)?.choices[0]?.turns[0];
      const math = ['math', 'reasoning', 'coding'].includes(question?.category ?? '');
      const multiTurn = user.includes(`MARK-${questionId}-2`);
      if (math) {
        expect(reference).toBeDefined();
        expect(user).toContain(reference as string);
        expect(user).toContain('Reference');
      } else {
        expect(user).not.toContain('Reference Answer');
      }
      // The official prompts: FastChat's system prompt, and the judge instruction (in the system prompt or the template).
      expect(systemText(entry)).toBe(judgePrompts.get(`single-${math ? 'math-' : ''}v1${multiTurn ? '-multi-turn' : ''}`)?.system_prompt);
      expect(`${systemText(entry)}\n${user}`).toMatch(/impartial judge/);
    }

    // Judgments in FastChat's format.
    const judgments = readLines<Record<string, unknown>>(workspace.path('judge-answers.judgments.jsonl'));
    expect(judgments).toHaveLength(160);
    for (const judgment of judgments) {
      expect(Object.keys(judgment)).toEqual(['question_id', 'model', 'judge', 'user_prompt', 'judgment', 'score', 'turn', 'tstamp']);
      const question = questions.find((candidate) => candidate.question_id === judgment.question_id) as Question;
      const math = ['math', 'reasoning', 'coding'].includes(question.category);
      // FastChat's naming: the judge without moa's provider prefix, the model by its answer file's name.
      expect(judgment.judge).toEqual(['judge', `single-${math ? 'math-' : ''}v1${judgment.turn === 2 ? '-multi-turn' : ''}`]);
      expect(judgment.score).toBe(ratingOf(question.question_id, judgment.turn as number) ?? -1);
      expect(judgment.model).toBe('judge-answers');
    }

    // The scores, computed here from the rule.
    const mean = (values: number[]): number => values.reduce((sum, value) => sum + value, 0) / values.length;
    const ratings = (filter: (question: Question, turn: number) => boolean): number[] =>
      questions.flatMap((question) =>
        [1, 2]
          .filter((turn) => filter(question, turn))
          .map((turn) => ratingOf(question.question_id, turn))
          .filter((rating): rating is number => rating !== undefined),
      );
    const scores = JSON.parse(result.stdout) as {
      model: string;
      overall: number;
      turns: Record<string, number>;
      categories: Record<string, { overall: number; turns: Record<string, number>; n: number }>;
      n: number;
    };
    expect(Object.keys(scores)).toEqual(['model', 'overall', 'turns', 'categories', 'n']);
    expect(scores.model).toBe('judge-answers');
    expect(scores.n).toBe(159);
    expect(scores.overall).toBeCloseTo(mean(ratings(() => true)), 10);
    expect(scores.turns['1']).toBeCloseTo(mean(ratings((_, turn) => turn === 1)), 10);
    expect(scores.turns['2']).toBeCloseTo(mean(ratings((_, turn) => turn === 2)), 10);
    expect(Object.keys(scores.categories).sort()).toEqual(['coding', 'extraction', 'humanities', 'math', 'reasoning', 'roleplay', 'stem', 'writing']);
    for (const [category, summary] of Object.entries(scores.categories)) {
      expect(summary.overall).toBeCloseTo(mean(ratings((question) => question.category === category)), 10);
      expect(summary.turns['1']).toBeCloseTo(mean(ratings((question, turn) => question.category === category && turn === 1)), 10);
      expect(summary.turns['2']).toBeCloseTo(mean(ratings((question, turn) => question.category === category && turn === 2)), 10);
    }
    expect(scores.categories.writing?.n).toBe(questions.find((question) => question.question_id === 85)?.category === 'writing' ? 19 : 20);

    // A rerun: no request; the human-readable table.
    const rerun = await runCli(args, { cwd: workspace.dir, env: env() });
    expect(rerun.code, describeRun(rerun)).toBe(0);
    expect(server.log).toHaveLength(160);
    expect(rerun.stdout).toContain('MT-Bench: judge-answers (judge fake:judge), 159 rated turns, 1 without a rating (left out)');
    expect(rerun.stdout).toMatch(
      new RegExp(
        `all\\s+${mean(ratings((_, turn) => turn === 1)).toFixed(2)}\\s+${mean(ratings((_, turn) => turn === 2)).toFixed(2)}\\s+${mean(ratings(() => true)).toFixed(2)}`,
      ),
    );
  });

  it('a judge whose replies never hold a rating is a failed run (exit 1) that says why and where the raw replies are', async () => {
    const { workspace, server } = suite;
    const writing = questions.filter((question) => question.category === 'writing').slice(0, 3);
    workspace.write(
      'unrated-answers.jsonl',
      writing
        .map((question) => JSON.stringify({ question_id: question.question_id, answer_id: 'x', model_id: 'm', choices: [{ index: 0, turns: ['a', 'b'] }], tstamp: 1 }))
        .join('\n') + '\n',
    );
    server.setBehavior('judge', { text: 'Both answers are fine; I would rather not give a number.' });
    const args = ['judge', 'mt-bench', '--answers', 'unrated-answers.jsonl', '--questions', questionFile, '--judge-prompts', judgePromptsFile, '--judge', 'fake:judge'];
    const result = await runCli(args, { cwd: workspace.dir, env: env() });
    expect(result.code, describeRun(result)).toBe(1);
    expect(server.log).toHaveLength(6);
    const judgmentsPath = workspace.path('unrated-answers.judgments.jsonl');
    expect(result.stderr).toContain('no rating in any of the 6 judge replies (no [[rating]], nor [rating], found)');
    expect(result.stderr).toContain(`the raw replies are the "judgment" fields of ${judgmentsPath}`);
    expect(result.stdout).not.toContain('0 rated turns');
    // The raw replies are indeed there.
    const judgments = readLines<{ judgment: string; score: number }>(judgmentsPath);
    expect(judgments.map((judgment) => [judgment.judgment, judgment.score])).toEqual(
      Array.from({ length: 6 }, () => ['Both answers are fine; I would rather not give a number.', -1]),
    );
    // --json still prints the (empty) scores for scripts, and still exits 1.
    const json = await runCli([...args, '--json'], { cwd: workspace.dir, env: env() });
    expect(json.code, describeRun(json)).toBe(1);
    expect((JSON.parse(json.stdout) as { n: number }).n).toBe(0);
  });

  it('a math answer without reference answers is exit 2 before any call', async () => {
    const { workspace, server } = suite;
    const math = questions.find((question) => question.category === 'math') as Question;
    workspace.write(
      'math-answer.jsonl',
      `${JSON.stringify({ question_id: math.question_id, answer_id: 'x', model_id: 'm', choices: [{ index: 0, turns: ['a', 'b'] }], tstamp: 1 })}\n`,
    );
    workspace.write(
      'empty-references.jsonl',
      `${JSON.stringify({ question_id: 1, answer_id: 'x', model_id: 'gpt-4', choices: [{ index: 0, turns: ['a', 'b'] }], tstamp: 1 })}\n`,
    );
    const result = await runCli(
      [
        'judge',
        'mt-bench',
        '--answers',
        'math-answer.jsonl',
        '--questions',
        questionFile,
        '--judge-prompts',
        judgePromptsFile,
        '--reference-answers',
        'empty-references.jsonl',
        '--judge',
        'fake:judge',
      ],
      { cwd: workspace.dir, env: env() },
    );
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain(`question ${math.question_id} (math) needs a reference answer`);
    expect(server.log).toHaveLength(0);
  });
});

describe.skipIf(!haveData)('moa judge alpaca-eval --outputs', () => {
  it("judges with position randomisation, writes annotations, and the win rate is what the judge's rule implies", async () => {
    const { workspace, server } = suite;
    const baseline = (JSON.parse(readFileSync(baselineFile, 'utf8')) as Array<{ instruction: string; output: string; generator: string; dataset: string }>).slice(0, 30);
    workspace.write('reference-30.json', JSON.stringify(baseline, null, 2));
    // Every third model output is marked as the better one.
    const outputs = baseline.map((entry, index) => ({
      instruction: entry.instruction,
      output: `model answer ${index}${index % 3 === 0 ? ' WINNER' : ''}`,
      generator: 'my-moa',
      dataset: entry.dataset,
    }));
    workspace.write('my_outputs.json', JSON.stringify(outputs, null, 2));
    // The judge picks the output marked WINNER; with none marked, it always picks the first shown ("m").
    server.setBehavior('judge', {
      text: (request) => {
        const user = userText(request);
        const split = user.indexOf('"model_identifier": "M"');
        if (split === -1) return 'no idea';
        return user.slice(0, split).includes('WINNER') ? 'm' : user.slice(split).includes('WINNER') ? 'M' : 'm';
      },
    });

    const args = [
      'judge',
      'alpaca-eval',
      '--outputs',
      'my_outputs.json',
      '--reference-outputs',
      'reference-30.json',
      '--judge',
      'fake:judge',
      '--judge-prompt',
      alpacaPromptFile,
      '--lc-data',
      lcDirectory,
    ];
    const result = await runCli([...args, '--json'], { cwd: workspace.dir, env: env(), timeoutMs: 60_000 });
    expect(result.code, describeRun(result)).toBe(0);
    expect(server.log).toHaveLength(30);
    expect(server.log.every((entry) => entry.maxTokens === 1 && entry.temperature === 1)).toBe(true);
    // The top 5 log-probabilities were asked for; this server returns none, so the generated token decides.
    expect(server.log.every((entry) => entry.logprobs === true && entry.topLogprobs === 5)).toBe(true);
    expect(result.stderr).toContain('preferences: 0 from log-probabilities, 30 from the generated token');

    // The expected preference of each instruction under the rule: the marked model output wins
    // wherever it is shown; otherwise the first shown wins, which is the model's output exactly
    // when AlpacaEval's coin swapped the pair.
    const switched = outputs.map((output) => isSwitchedOutputs(output.instruction));
    expect(switched.some(Boolean) && !switched.every(Boolean)).toBe(true);
    const expectedPreferences = outputs.map((output, index) => (output.output.includes('WINNER') || switched[index] ? 2 : 1));

    const annotations = JSON.parse(workspace.read('my_outputs.annotations.json')) as Array<Record<string, unknown>>;
    expect(annotations).toHaveLength(30);
    annotations.forEach((annotation, index) => {
      expect(annotation.instruction).toBe(outputs[index]?.instruction);
      expect(annotation.output_1).toBe(baseline[index]?.output);
      expect(annotation.generator_1).toBe('gpt4_1106_preview');
      expect(annotation.output_2).toBe(outputs[index]?.output);
      expect(annotation.generator_2).toBe('my-moa');
      expect(annotation.is_switched_outputs).toBe(switched[index]);
      expect(annotation.preference).toBe(expectedPreferences[index]);
      expect(annotation.annotator).toBe('alpaca_eval_clf[fake:judge, generated token]');
      expect(annotation.raw_completion).toEqual({ text: expectedPreferences[index] === (switched[index] ? 1 : 2) ? 'M' : 'm', parsed_from: 'token' });
    });
    // The judge really saw the pair in the recorded order.
    for (const entry of server.log) {
      const user = userText(entry);
      const index = outputs.findIndex((output) => user.includes(`"""${output.output}"""`));
      const modelShownFirst = user.indexOf(outputs[index]?.output as string) < user.indexOf('"model_identifier": "M"');
      expect(modelShownFirst).toBe(switched[index]);
    }

    const metrics = JSON.parse(result.stdout) as Record<string, number>;
    expect(Object.keys(metrics)).toEqual(['win_rate', 'standard_error', 'length_controlled_winrate', 'lc_standard_error', 'n_total']);
    const wins = expectedPreferences.map((preference) => preference - 1);
    const winRate = (wins.reduce((sum, value) => sum + value, 0) / wins.length) * 100;
    expect(metrics.win_rate).toBeCloseTo(winRate, 10);
    const p = winRate / 100;
    expect(metrics.standard_error).toBeCloseTo(Math.sqrt((p * (1 - p) * 30) / 29 / 30) * 100, 8);
    expect(metrics.n_total).toBe(30);
    expect(metrics.length_controlled_winrate).toBeGreaterThan(0);
    expect(metrics.length_controlled_winrate).toBeLessThan(100);
    expect(metrics.lc_standard_error).toBeGreaterThan(0);

    // A rerun: no request, the same metrics, and the human-readable summary.
    const rerun = await runCli(args, { cwd: workspace.dir, env: env(), timeoutMs: 60_000 });
    expect(rerun.code, describeRun(rerun)).toBe(0);
    expect(server.log).toHaveLength(30);
    expect(rerun.stdout).toContain('AlpacaEval 2.0: my-moa vs gpt4_1106_preview (annotator alpaca_eval_clf[fake:judge, generated token])');
    expect(rerun.stdout).toMatch(new RegExp(`win rate\\s+${winRate.toFixed(2)} ±`));
    expect(rerun.stdout).toMatch(/judgments\s+0 from log-probabilities, 30 from the generated token/);
  });

  it('a judge that never answers "m" or "M" is a failed run (exit 1) that says why and where the raw replies are', async () => {
    const { workspace, server } = suite;
    const baseline = (JSON.parse(readFileSync(baselineFile, 'utf8')) as Array<{ instruction: string; output: string; generator: string; dataset: string }>).slice(0, 4);
    workspace.write('reference-4.json', JSON.stringify(baseline, null, 2));
    workspace.write(
      'unparsed_outputs.json',
      JSON.stringify(
        baseline.map((entry) => ({ ...entry, output: `mine: ${entry.instruction.slice(0, 20)}`, generator: 'mine' })),
        null,
        2,
      ),
    );
    server.setBehavior('judge', { text: 'Neither' });
    const result = await runCli(
      [
        'judge',
        'alpaca-eval',
        '--outputs',
        'unparsed_outputs.json',
        '--reference-outputs',
        'reference-4.json',
        '--judge',
        'fake:judge',
        '--judge-prompt',
        alpacaPromptFile,
        '--lc-data',
        lcDirectory,
      ],
      { cwd: workspace.dir, env: env(), timeoutMs: 60_000 },
    );
    expect(result.code, describeRun(result)).toBe(1);
    expect(server.log).toHaveLength(4);
    expect(result.stderr).toContain('no preference in any of the 4 judge replies');
    expect(result.stderr).toContain(`the raw replies are the "raw_completion" fields of ${workspace.path('unparsed_outputs.annotations.json')}`);
    const annotations = JSON.parse(workspace.read('unparsed_outputs.annotations.json')) as Array<{ preference: null; raw_completion: { text: string } }>;
    expect(annotations.map((annotation) => [annotation.preference, annotation.raw_completion.text])).toEqual(Array.from({ length: 4 }, () => [null, 'Neither']));
  });

  it('outputs whose instructions the reference does not have are exit 2 before any call', async () => {
    const { workspace, server } = suite;
    workspace.write('stray_outputs.json', JSON.stringify([{ instruction: 'not in the set', output: 'x', generator: 'g', dataset: 'd' }]));
    const result = await runCli(
      [
        'judge',
        'alpaca-eval',
        '--outputs',
        'stray_outputs.json',
        '--reference-outputs',
        baselineFile,
        '--judge',
        'fake:judge',
        '--judge-prompt',
        alpacaPromptFile,
        '--lc-data',
        lcDirectory,
      ],
      { cwd: workspace.dir, env: env() },
    );
    expect(result.code, describeRun(result)).toBe(2);
    expect(result.stderr).toContain('have no reference output');
    expect(server.log).toHaveLength(0);
  });
});

describe.skipIf(!haveData)('moa judge alpaca-eval --outputs with a judge that returns log-probabilities', () => {
  const baseline = haveData
    ? (JSON.parse(readFileSync(baselineFile, 'utf8')) as Array<{ instruction: string; output: string; generator: string; dataset: string }>).slice(0, 30)
    : [];
  /**
   * The judge's belief per instruction. Every third instruction it is position-biased: p(m) = 0.7
   * whatever it is shown. Otherwise it believes the model's output better with probability
   * `strength` wherever that output is shown.
   */
  const positional = (index: number): boolean => index % 3 === 0;
  const strengths = [0.7, 0.3, 0.55, 0.9, 0.15];
  const strength = (index: number): number => strengths[index % strengths.length] as number;
  const outputs = baseline.map((entry, index) => ({
    instruction: entry.instruction,
    output: `model answer ${index} #${index}#`,
    generator: 'my-moa',
    dataset: entry.dataset,
  }));

  /** The fake judge: which item it is shown, and whether the model's output is shown first ("m"). */
  function shown(request: Pick<FakeRequest, 'messages'>): { index: number; modelFirst: boolean } {
    const user = userText(request);
    const index = Number(/#(\d+)#/.exec(user)?.[1]);
    const modelFirst = user.indexOf(`#${index}#`) < user.indexOf('"model_identifier": "M"');
    return { index, modelFirst };
  }
  /** p(m) and p(M) as the judge states them (they need not sum to 1: other tokens take 10%). */
  function judgeProbabilities(request: Pick<FakeRequest, 'messages'>): { m: number; M: number } {
    const { index, modelFirst } = shown(request);
    const pFirst = positional(index) ? 0.7 : modelFirst ? strength(index) : 1 - strength(index);
    return { m: 0.9 * pFirst, M: 0.9 * (1 - pFirst) };
  }
  const openaiConfig = (url: string): string => JSON.stringify({ providers: { oa: { type: 'openai', baseURL: url, apiKeyEnv: 'OA_JUDGE_KEY' } } });
  const judgeEnv = (): Record<string, string> => cliEnv({ MOA_CACHE_DIR: suite.workspace.path('cache-logprobs'), OA_JUDGE_KEY: 'sk-oa-judge-test-000' });

  it("reads soft preferences from the openai provider's log-probabilities, and the win rate is their mean", async () => {
    const { workspace, server } = suite;
    workspace.write('reference-30.json', JSON.stringify(baseline, null, 2));
    workspace.write('soft_outputs.json', JSON.stringify(outputs, null, 2));
    workspace.write('openai-judge.json', openaiConfig(server.url));
    server.setBehavior('judge', {
      // The generated token is the more likely one: a token-based judge would give hard 1/2 preferences.
      text: (request) => {
        const { m, M } = judgeProbabilities(request);
        return m >= M ? 'm' : 'M';
      },
      logprobs: (request) => {
        const { m, M } = judgeProbabilities(request);
        // Six candidates, most likely first; the judge is asked for five.
        const list = [
          { token: 'm', logprob: Math.log(m) },
          { token: 'M', logprob: Math.log(M) },
          { token: 'Output', logprob: Math.log(0.05) },
          { token: '"', logprob: Math.log(0.03) },
          { token: ' m', logprob: Math.log(0.015) },
          { token: 'The', logprob: Math.log(0.005) },
        ];
        return list.sort((left, right) => right.logprob - left.logprob);
      },
    });

    const args = [
      'judge',
      'alpaca-eval',
      '--outputs',
      'soft_outputs.json',
      '--reference-outputs',
      'reference-30.json',
      '--judge',
      'oa:judge',
      '--config',
      'openai-judge.json',
      '--judge-prompt',
      alpacaPromptFile,
      '--lc-data',
      lcDirectory,
    ];
    const result = await runCli([...args, '--json'], { cwd: workspace.dir, env: judgeEnv(), timeoutMs: 60_000 });
    expect(result.code, describeRun(result)).toBe(0);
    expect(server.log).toHaveLength(30);
    expect(server.log.every((entry) => entry.maxTokens === 1 && entry.temperature === 1 && entry.logprobs === true && entry.topLogprobs === 5)).toBe(true);
    expect(server.log.every((entry) => entry.authorization === 'Bearer sk-oa-judge-test-000')).toBe(true);
    expect(result.stderr).toContain('preferences: 30 from log-probabilities, 0 from the generated token');

    // Expected, from the judge's beliefs: a position-biased item gives 2 − 0.7 = 1.3, mapped back to
    // 1.7 when the pair was swapped; any other item gives 1 + strength wherever the model was shown.
    const switched = outputs.map((output) => isSwitchedOutputs(output.instruction));
    expect(switched.some(Boolean) && !switched.every(Boolean)).toBe(true);
    const expectedPreferences = outputs.map((_, index) => (positional(index) ? (switched[index] ? 1.7 : 1.3) : 1 + strength(index)));
    expect(expectedPreferences.filter((_, index) => positional(index))).toEqual(expect.arrayContaining([1.3, 1.7]));

    const annotations = JSON.parse(workspace.read('soft_outputs.annotations.json')) as Array<Record<string, unknown>>;
    expect(annotations).toHaveLength(30);
    annotations.forEach((annotation, index) => {
      expect(annotation.instruction).toBe(outputs[index]?.instruction);
      expect(annotation.is_switched_outputs).toBe(switched[index]);
      expect(annotation.preference as number).toBeCloseTo(expectedPreferences[index] as number, 10);
      expect(annotation.annotator).toBe('alpaca_eval_clf[oa:judge, logprobs]');
      const raw = annotation.raw_completion as { text: string; parsed_from: string; logprobs: { content: Array<{ top_logprobs: Array<{ token: string }> }> } };
      expect(raw.parsed_from).toBe('logprobs');
      expect(raw.logprobs.content[0]?.top_logprobs).toHaveLength(5);
      expect(raw.logprobs.content[0]?.top_logprobs.map((entry) => entry.token)).toEqual(expect.arrayContaining(['m', 'M']));
    });

    const metrics = JSON.parse(result.stdout) as Record<string, number>;
    const wins = expectedPreferences.map((preference) => preference - 1);
    const mean = wins.reduce((sum, value) => sum + value, 0) / wins.length;
    const variance = wins.reduce((sum, value) => sum + (value - mean) ** 2, 0) / (wins.length - 1);
    expect(metrics.win_rate).toBeCloseTo(mean * 100, 8);
    expect(metrics.standard_error).toBeCloseTo(Math.sqrt(variance / wins.length) * 100, 8);
    expect(metrics.n_total).toBe(30);

    // A second output path: nothing in its progress file. The answers cached with their
    // log-probabilities give the same soft preferences, never the generated token's hard ones.
    const again = await runCli([...args, '--annotations-output', 'again.annotations.json', '--json'], { cwd: workspace.dir, env: judgeEnv(), timeoutMs: 60_000 });
    expect(again.code, describeRun(again)).toBe(0);
    const againAnnotations = JSON.parse(workspace.read('again.annotations.json')) as Array<{ preference: number }>;
    againAnnotations.forEach((annotation, index) => expect(annotation.preference).toBeCloseTo(expectedPreferences[index] as number, 10));
    expect((JSON.parse(again.stdout) as Record<string, number>).win_rate).toBeCloseTo(mean * 100, 8);

    // The rerun of the first command: no request, and the summary says how the preferences were read.
    const requestsSoFar = server.log.length;
    const rerun = await runCli(args, { cwd: workspace.dir, env: judgeEnv(), timeoutMs: 60_000 });
    expect(rerun.code, describeRun(rerun)).toBe(0);
    expect(server.log).toHaveLength(requestsSoFar);
    expect(rerun.stdout).toContain('(annotator alpaca_eval_clf[oa:judge, logprobs])');
    expect(rerun.stdout).toMatch(new RegExp(`win rate\\s+${(mean * 100).toFixed(2)} ±`));
    expect(rerun.stdout).toMatch(/judgments\s+30 from log-probabilities, 0 from the generated token/);
  });

  it('falls back to the generated token when the server refuses the logprobs parameters', async () => {
    const { workspace, server } = suite;
    const five = baseline.slice(0, 5);
    workspace.write('reference-5.json', JSON.stringify(five, null, 2));
    workspace.write('refused_outputs.json', JSON.stringify(outputs.slice(0, 5), null, 2));
    workspace.write('openai-judge.json', openaiConfig(server.url));
    // Always the first shown ("m"), and an HTTP 400 whenever logprobs are asked for.
    server.setBehavior('judge', {
      text: 'm',
      rejectLogprobs: true,
      logprobs: [
        { token: 'm', logprob: Math.log(0.5) },
        { token: 'M', logprob: Math.log(0.5) },
      ],
    });
    const result = await runCli(
      [
        'judge',
        'alpaca-eval',
        '--outputs',
        'refused_outputs.json',
        '--reference-outputs',
        'reference-5.json',
        '--judge',
        'oa:judge',
        '--config',
        'openai-judge.json',
        '--judge-prompt',
        alpacaPromptFile,
        '--lc-data',
        lcDirectory,
        '--json',
      ],
      // Its own cache: the test before cached these very judge prompts (with logprobs).
      { cwd: workspace.dir, env: { ...judgeEnv(), MOA_CACHE_DIR: workspace.path('cache-logprobs-refused') }, timeoutMs: 60_000 },
    );
    expect(result.code, describeRun(result)).toBe(0);
    // Each item: the refused request, then the same request without logprobs.
    expect(server.log).toHaveLength(10);
    expect(server.log.filter((entry) => entry.status === 400 && entry.logprobs === true)).toHaveLength(5);
    expect(server.log.filter((entry) => entry.status === 200 && entry.logprobs === undefined)).toHaveLength(5);
    expect(result.stderr).toContain('preferences: 0 from log-probabilities, 5 from the generated token');
    const annotations = JSON.parse(workspace.read('refused_outputs.annotations.json')) as Array<{ preference: number; annotator: string; is_switched_outputs: boolean }>;
    expect(annotations).toHaveLength(5);
    for (const annotation of annotations) {
      expect(annotation.preference).toBe(annotation.is_switched_outputs ? 2 : 1);
      expect(annotation.annotator).toBe('alpaca_eval_clf[oa:judge, generated token]');
    }
  });
});
