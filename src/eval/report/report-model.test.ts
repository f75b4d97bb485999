import { describe, expect, it } from 'vitest';
import type { MoAEvent } from '../../core/events.js';
import type { AlpacaEvalAnnotation, AlpacaEvalLeaderboardRow } from '../alpaca-eval-data.js';
import { buildReportModel, traceTtftMs } from './report-model.js';
import type { LoadedResult } from './report-inputs.js';

const envelope = (seq: number, t: number) => ({ runId: 'r', seq, t });
function run(layers: number, events: Array<Record<string, unknown>>, end: Record<string, unknown> = {}): MoAEvent[] {
  const start = {
    type: 'run-start',
    layers: Array.from({ length: layers }, (_, index) => ({ agents: [{ model: 'fake:m' }], aggregator: index === layers - 1, minSuccessful: 1 })),
    stream: 'final',
    messages: [],
  };
  const all: Array<Record<string, unknown>> = [start, ...events, { type: 'run-end', text: 'x', usage: { inputTokens: 1, outputTokens: 1 }, latencyMs: 900, ...end }];
  return all.map((event, index) => ({ ...envelope(index, (event.t as number | undefined) ?? index * 10), ...event })) as unknown as MoAEvent[];
}

describe('traceTtftMs', () => {
  it("the engine's ttftMs when present, else the first final-layer token, else nothing", () => {
    const deltas = [
      { type: 'agent-delta', layer: 0, agent: 0, delta: 'proposer token', t: 50 },
      { type: 'agent-delta', layer: 1, agent: 0, delta: '', t: 60 },
      { type: 'agent-delta', layer: 1, agent: 0, delta: 'final', t: 120 },
    ];
    expect(traceTtftMs(run(2, deltas))).toBe(120);
    expect(traceTtftMs(run(2, deltas, { ttftMs: 95 }))).toBe(95);
    expect(traceTtftMs(run(2, [{ type: 'agent-delta', layer: 0, agent: 0, delta: 'only a proposer streamed', t: 30 }]))).toBeUndefined();
  });
});

function annotation(instruction: string, output: string, preference: number, generator = 'mine'): AlpacaEvalAnnotation {
  return { instruction, output_1: `baseline ${instruction}`, generator_1: 'gpt4_1106_preview', output_2: output, generator_2: generator, preference };
}

describe('buildReportModel', () => {
  const leaderboard: AlpacaEvalLeaderboardRow[] = [
    {
      name: 'gpt-4o-2024-05-13',
      win_rate: 51.3,
      standard_error: 1.47,
      length_controlled_winrate: 57.46,
      lc_standard_error: null,
      n_total: 805,
      avg_length: 1873,
      mode: 'minimal',
    },
    {
      name: 'Together-MoA',
      win_rate: 59.87,
      standard_error: 1.43,
      length_controlled_winrate: 65.38,
      lc_standard_error: 0.74,
      n_total: 805,
      avg_length: 1825,
      mode: 'community',
    },
  ];

  it('AlpacaEval rows with 95% intervals beside the leaderboard rows; a missing reference row is said', () => {
    const results: LoadedResult[] = [
      {
        kind: 'alpaca-eval-annotations',
        file: 'a.json',
        annotations: [annotation('q1', 'o1', 2), annotation('q2', 'o2', 1), annotation('q3', 'o3', 1.5), annotation('q4', 'o4', 2)],
      },
    ];
    const model = buildReportModel({ results, skipped: [] }, { leaderboard, referenceRows: ['Together-MoA', 'gpt-4o-2024-05-13', 'nobody'] });
    const mine = model.alpacaEval[0];
    expect(mine?.winRate).toBe(62.5);
    // sd of [1, 0, 0.5, 1] = 0.4787; se = 0.2394 → ±1.96 · 23.94
    const se = Math.sqrt([0.375, 0.625, 0.125, 0.375].reduce((sum, deviation) => sum + deviation ** 2, 0) / 3 / 4) * 100;
    expect(mine?.winRateInterval?.[0]).toBeCloseTo(62.5 - 1.959963984540054 * se, 8);
    expect(mine?.lengthControlled).toBeNull(); // no lc data given
    expect(model.alpacaEvalNotes.join('\n')).toContain('no length-control data');
    expect(model.alpacaEval.slice(1).map((row) => [row.name, row.reference])).toEqual([
      ['Together-MoA', true],
      ['gpt-4o-2024-05-13', true],
    ]);
    expect(model.alpacaEval.find((row) => row.name === 'Together-MoA')?.lengthControlledInterval?.[1]).toBeCloseTo(65.38 + 1.959963984540054 * 0.74, 8);
    expect(model.alpacaEval.find((row) => row.name === 'gpt-4o-2024-05-13')?.lengthControlledInterval).toBeNull();
    expect(model.alpacaEvalNotes.join('\n')).toContain('the leaderboard has no row "nobody"');
  });

  it('links a configuration to the judged file of the same answers, and costs it only when every record is priced', () => {
    const results: LoadedResult[] = [
      { kind: 'alpaca-eval-annotations', file: 'mine.annotations.json', annotations: [annotation('q1', 'o1', 2), annotation('q2', 'o2', 1.5)] },
      {
        kind: 'alpaca-eval-annotations',
        file: 'other.annotations.json',
        annotations: [annotation('q1', 'other 1', 1, 'other'), annotation('q2', 'other 2', 1, 'other')],
      },
      {
        kind: 'generation',
        file: 'mine.json.progress.jsonl',
        benchmark: 'alpaca-eval',
        name: 'mine',
        records: [
          { key: 'q1', answer: 'o1', costUsd: 0.002, latencyMs: 100 },
          { key: 'q2', answer: 'o2', costUsd: 0.004, latencyMs: 300 },
        ],
      },
      {
        kind: 'generation',
        file: 'unpriced.json.progress.jsonl',
        benchmark: 'alpaca-eval',
        name: 'unpriced',
        records: [
          { key: 'q1', answer: 'other 1', costUsd: 0.001 },
          { key: 'q2', answer: 'other 2' },
        ],
      },
      { kind: 'generation', file: 'moa-x.jsonl.progress.jsonl', benchmark: 'mt-bench', name: 'moa-x', records: [{ key: '81', answer: 'a', costUsd: 0.01 }] },
      {
        kind: 'mt-bench-judgments',
        file: 'gpt-4_single.jsonl',
        judgments: [
          { question_id: 81, model: 'moa-x', judge: ['gpt-4', 'single-v1'], score: 7, turn: 1 },
          { question_id: 81, model: 'moa-y', judge: ['gpt-4', 'single-v1'], score: 3, turn: 1 },
        ],
      },
    ];
    const model = buildReportModel({ results, skipped: [] });
    const mine = model.configurations.find((entry) => entry.name === 'mine');
    expect(mine?.costPerItemUsd).toBeCloseTo(0.003, 12);
    expect(mine?.quality).toEqual({ value: 75, label: 'AlpacaEval win rate (%)', source: 'mine.annotations.json' });
    expect(mine?.latenciesMs).toEqual([100, 300]);
    const unpriced = model.configurations.find((entry) => entry.name === 'unpriced');
    expect(unpriced?.costPerItemUsd).toBeNull();
    expect(unpriced?.quality?.source).toBe('other.annotations.json');
    // MT-Bench by FastChat's model name (the answer file's).
    expect(model.configurations.find((entry) => entry.name === 'moa-x')?.quality).toEqual({ value: 7, label: 'MT-Bench score', source: 'gpt-4_single.jsonl' });
  });

  it('FastChat pairwise judgments become a comparison counted as show_result.py counts', () => {
    const pair = (question_id: number, g1: 'model_1' | 'model_2' | 'tie' | 'error', g2: 'model_1' | 'model_2' | 'tie' | 'error', turn: 1 | 2 = 1) => ({
      question_id,
      model_1: 'a',
      model_2: 'b',
      g1_winner: g1,
      g2_winner: g2,
      judge: ['gpt-4', 'pair-v2'] as [string, string],
      turn,
    });
    const results: LoadedResult[] = [
      {
        kind: 'mt-bench-pairwise',
        file: 'gpt-4_pair.jsonl',
        judgments: [
          pair(1, 'model_1', 'model_1'),
          pair(2, 'model_1', 'model_2'),
          pair(3, 'tie', 'tie'),
          pair(4, 'model_2', 'model_2', 2),
          pair(5, 'error', 'model_1', 2),
        ],
      },
    ];
    const [comparison] = buildReportModel({ results, skipped: [] }).comparisons;
    expect(comparison?.overall).toMatchObject({ wins: 1, ties: 2, losses: 1, n: 4, winRate: 50 });
    expect(comparison?.turns.map((turn) => [turn.name, turn.n])).toEqual([
      ['turn 1', 3],
      ['turn 2', 1],
    ]);
    expect(comparison?.consistent).toBe(3);
  });

  it('per-model calls, retries, failures, cuts and cache hits from traces', () => {
    const events = run(2, [
      { type: 'agent-start', layer: 0, agent: 0, model: 'fake:a' },
      { type: 'agent-retry', layer: 0, agent: 0, attempt: 1, model: 'fake:a', error: { code: 'x', message: 'y' }, delayMs: 1 },
      {
        type: 'agent-error',
        layer: 0,
        agent: 0,
        model: 'fake:a',
        error: { code: 'x', message: 'y' },
        errors: [],
        cut: false,
        usage: { inputTokens: 0, outputTokens: 0 },
        latencyMs: 1,
        attempts: 2,
      },
      { type: 'agent-start', layer: 0, agent: 1, model: 'fake:b' },
      {
        type: 'agent-error',
        layer: 0,
        agent: 1,
        model: 'fake:b',
        error: { code: 'cut', message: 'cut' },
        errors: [],
        cut: true,
        usage: { inputTokens: 0, outputTokens: 0 },
        latencyMs: 1,
        attempts: 1,
      },
      { type: 'agent-start', layer: 1, agent: 0, model: 'fake:c' },
      {
        type: 'agent-end',
        layer: 1,
        agent: 0,
        model: 'fake:c',
        text: 'x',
        usage: { inputTokens: 1, outputTokens: 1 },
        finishReason: 'stop',
        latencyMs: 1,
        attempts: 1,
        cached: true,
      },
    ]);
    const model = buildReportModel({ results: [{ kind: 'trace', file: 't/1.jsonl', group: 't', events }], skipped: [] });
    expect(model.reliability).toEqual([
      { model: 'fake:a', calls: 1, retries: 1, failures: 1, cuts: 0, cacheHits: 0 },
      { model: 'fake:b', calls: 1, retries: 0, failures: 0, cuts: 1, cacheHits: 0 },
      { model: 'fake:c', calls: 1, retries: 0, failures: 0, cuts: 0, cacheHits: 1 },
    ]);
    expect(model.traceGroups).toEqual([{ name: 't', runs: 1, latenciesMs: [900], ttftsMs: [] }]);
  });
});
