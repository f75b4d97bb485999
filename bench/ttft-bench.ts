/**
 * Time-to-first-token benchmark: `npm run bench:ttft` (or `npx tsx bench/ttft-bench.ts [--json]`).
 *
 * The aggregation policies against each other, every ratio measured in the same run, the engine in
 * this process and the fake OpenAI-compatible provider in a child process (bench/support/
 * fake-provider-main.ts: its CPU is not counted, and it sends back its request log).
 *
 * Models stream at the paper's relative speeds — each proposer 300–600 tokens at 35–70 tokens/s,
 * the aggregator 450 at 45 — with time compressed TIME_SCALE times (10: 350–700 tokens/s, 50 ms to
 * the first byte instead of 0.5 s), so the token counts, and with them the staircase's chunk sizes
 * (the default 32 tokens, doubling), are the paper's. A request not streamed takes as long as the
 * same answer streamed (the fake's `paceNonStreamed`), as a real model's would. Every model writes
 * its whole answer once: a request that continues the caller's text (a staircase part, an early
 * start's continuation) gets the words after those already written, cut at `max_tokens`.
 *
 * 1. A 3-layer preset (6 proposers, 6 synthesizers, the aggregator), `barrier` vs `staircase`:
 *    TTFT ratio (target ≤ 0.25), end-to-end ratio (≤ 1.2), input tokens sent (the fake server's
 *    count of every request's words; a ratio, no target), and `barrier` end-to-end ÷ its
 *    critical-path bound (≤ 1.05).
 * 2. A 2-layer preset whose 6th proposer is 3× slower than the other five: `early` (K = n−1 = 5)
 *    vs `barrier`: TTFT ratio (target ≤ 0.5).
 *
 * TTFT is the result's `ttftMs` (run start to the first token of the final answer, stream 'final').
 * Runs alternate between the two policies; every number is the median of RUNS runs after one
 * warm-up run of each. Prints one measure per line with its target and PASS/FAIL; `--json` adds
 * every number. Always exits 0 once the measures ran: a missed target is reported, not an error.
 */
import { startFakeProvider, stopChild, type BenchLogEntry, type FakeProvider } from './support/child-processes.js';
import { cpus, loadavg } from 'node:os';
import type { AggregationInput } from '../src/core/config-schema.js';
import { streamMoA, type MoAEvent, type MoAResult, type PresetInput } from '../src/index.js';

const JSON_OUTPUT = process.argv.includes('--json');
const PROMPT = 'Explain, in a few paragraphs, why the sky is blue and why sunsets are red.';
/** Time runs this many times faster than on the paper's hosted models (token counts unchanged). */
const TIME_SCALE = Number(process.env['BENCH_TIME_SCALE'] ?? 10);
const RUNS = Number(process.env['BENCH_RUNS'] ?? 3);
/** Tokens per SSE chunk: keeps the fake's timers at ≥ 5 ms (a timer per token at 700 tokens/s would be < 1.5 ms). */
const SSE_CHUNK_TOKENS = 4;
/** Time to the first byte of every answer, in the paper's time (0.5 s), before scaling. */
const FIRST_BYTE_MS = 500;

const TARGETS = { staircaseTtft: 0.25, staircaseEndToEnd: 1.2, barrierCriticalPath: 1.05, earlyTtft: 0.5 } as const;

interface ModelSpeed {
  tokens: number;
  tokensPerSecond: number;
}

/** The six proposers of the 3-layer preset: 300–600 tokens at 70–35 tokens/s (the slowest writes the most). */
const PAPER_PROPOSERS: ModelSpeed[] = [
  { tokens: 300, tokensPerSecond: 70 },
  { tokens: 360, tokensPerSecond: 63 },
  { tokens: 420, tokensPerSecond: 56 },
  { tokens: 480, tokensPerSecond: 49 },
  { tokens: 540, tokensPerSecond: 42 },
  { tokens: 600, tokensPerSecond: 35 },
];
const PAPER_AGGREGATOR: ModelSpeed = { tokens: 450, tokensPerSecond: 45 };
/** The 2-layer preset: five proposers alike, the sixth 3× slower (same length, a third of the speed). */
const EARLY_FAST: ModelSpeed = { tokens: 400, tokensPerSecond: 60 };
const EARLY_SLOW: ModelSpeed = { tokens: 400, tokensPerSecond: 20 };
const EARLY_AGGREGATOR: ModelSpeed = PAPER_AGGREGATOR;

function behavior(speed: ModelSpeed): Record<string, unknown> {
  const scaledRate = speed.tokensPerSecond * TIME_SCALE;
  return {
    continues: true,
    tokens: speed.tokens,
    delayMs: Math.round(FIRST_BYTE_MS / TIME_SCALE),
    chunkTokens: SSE_CHUNK_TOKENS,
    tokenDelayMs: (SSE_CHUNK_TOKENS * 1000) / scaledRate,
    paceNonStreamed: true,
  };
}

/** Service time of a call at these settings (first byte, then one chunk every tokenDelayMs after the first). */
function serviceMs(speed: ModelSpeed): number {
  const chunks = Math.ceil(speed.tokens / SSE_CHUNK_TOKENS);
  return FIRST_BYTE_MS / TIME_SCALE + ((chunks - 1) * SSE_CHUNK_TOKENS * 1000) / (speed.tokensPerSecond * TIME_SCALE);
}

const paperModel = (layer: number, index: number): string => `paper-l${layer}-p${index + 1}`;
const earlyModel = (index: number): string => (index === 5 ? 'early-slow' : `early-fast-${index + 1}`);

const behaviors: Record<string, Record<string, unknown>> = { 'paper-agg': behavior(PAPER_AGGREGATOR), 'early-agg': behavior(EARLY_AGGREGATOR) };
for (const layer of [0, 1]) PAPER_PROPOSERS.forEach((speed, index) => (behaviors[paperModel(layer, index)] = behavior(speed)));
for (let index = 0; index < 6; index++) behaviors[earlyModel(index)] = behavior(index === 5 ? EARLY_SLOW : EARLY_FAST);

/** The 3-layer preset with its own model names per layer, so the fake server's log tells the layers apart. */
function paperPreset(aggregation: AggregationInput): PresetInput {
  return {
    layers: [0, 1].map((layer) => ({ proposers: PAPER_PROPOSERS.map((_, index) => `fake:${paperModel(layer, index)}`) })),
    aggregator: 'fake:paper-agg',
    aggregation,
  };
}

function earlyPreset(aggregation: AggregationInput): PresetInput {
  return { layers: 2, proposers: Array.from({ length: 6 }, (_, index) => `fake:${earlyModel(index)}`), aggregator: 'fake:early-agg', aggregation };
}

/** Which layer a logged call belongs to (by its model's name). */
function layerOf(model: string): number {
  if (model.endsWith('-agg')) return model.startsWith('paper') ? 2 : 1;
  const match = /^paper-l(\d)-/.exec(model);
  return match ? Number(match[1]) : 0;
}

// ---------------------------------------------------------------- helpers

const loadText = (): string =>
  loadavg()
    .map((value) => value.toFixed(2))
    .join(' ');
const round = (value: number, digits = 2): number => Number(value.toFixed(digits));

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

const misses: string[] = [];
let measured = 0;
function report(name: string, value: number, target: number | undefined, detail: string): void {
  const pass = target === undefined ? undefined : value <= target;
  if (pass !== undefined) measured++;
  const status = pass === undefined ? 'INFO' : pass ? 'PASS' : 'FAIL';
  const targetText = target === undefined ? '' : `  (target ≤ ${target})`;
  if (pass === false) misses.push(`${name}: ${round(value, 3)}, target ≤ ${target}`);
  process.stdout.write(`${status.padEnd(4)}  ${name}: ${round(value, 3)}${targetText}  ${detail}\n`);
}

// ---------------------------------------------------------------- one run

interface RunNumbers {
  ttftMs: number;
  endToEndMs: number;
  /** Words of every request the fake server received (its prompt-token count), interrupted calls included. */
  inputTokensSent: number;
  /** The engine's own count (usage of the calls that completed). */
  inputTokensCounted: number;
  requests: number;
  requestsPerLayer: number[];
  /** Σ over layers of the longest service time of a completed call (the fake server's log). */
  criticalPathMs: number;
  /** Tokens of the final answer (words, as the fake server counts them). */
  answerTokens: number;
}

let fake: FakeProvider;

async function runOnce(preset: PresetInput): Promise<RunNumbers> {
  await fake.clearLog();
  const started = performance.now();
  const run = streamMoA(preset, PROMPT, {
    providers: { fake: { type: 'openai-compatible', baseURL: fake.url, apiKeyEnv: 'FAKE_KEY' } },
    env: { FAKE_KEY: 'bench-key' },
    stream: 'final',
    maxRetries: 0,
  });
  for await (const event of run as AsyncIterable<MoAEvent>) void event;
  const result: MoAResult = await run.result;
  const endToEndMs = performance.now() - started;
  if (result.status !== 'done' || !result.text) throw new Error(`bench run failed: ${result.error?.message ?? 'empty answer'}`);
  if (result.ttftMs === undefined) throw new Error('the result has no ttftMs');
  if (result.degraded.length > 0) throw new Error(`the run was degraded: ${JSON.stringify(result.degraded)}`);
  const log: BenchLogEntry[] = await fake.log();
  const layers = Math.max(...log.map((entry) => layerOf(entry.model))) + 1;
  const longest = Array.from({ length: layers }, () => 0);
  const perLayer = Array.from({ length: layers }, () => 0);
  for (const entry of log) {
    const layer = layerOf(entry.model);
    perLayer[layer]!++;
    if (entry.outcome === 'ok' && entry.endedAt !== undefined) longest[layer] = Math.max(longest[layer]!, entry.endedAt - entry.startedAt);
  }
  return {
    ttftMs: result.ttftMs,
    endToEndMs,
    inputTokensSent: log.reduce((sum, entry) => sum + entry.promptWords, 0),
    inputTokensCounted: result.usage.inputTokens,
    requests: log.length,
    requestsPerLayer: perLayer,
    criticalPathMs: longest.reduce((sum, ms) => sum + ms, 0),
    answerTokens: result.text.match(/\S+/g)?.length ?? 0,
  };
}

/** Both presets alternately (so load and warm-up favour neither): one warm-up each, then RUNS each. */
async function compare(a: PresetInput, b: PresetInput): Promise<[RunNumbers[], RunNumbers[]]> {
  await runOnce(a);
  await runOnce(b);
  const first: RunNumbers[] = [];
  const second: RunNumbers[] = [];
  for (let run = 0; run < RUNS; run++) {
    first.push(await runOnce(a));
    second.push(await runOnce(b));
  }
  return [first, second];
}

interface Summary {
  ttftMs: number;
  endToEndMs: number;
  inputTokensSent: number;
  inputTokensCounted: number;
  requests: number;
  requestsPerLayer: number[];
  /** Barrier runs only: the bound and the ratio (a pipelined run has no such sum). */
  criticalPathMs: number;
  endToEndOverCriticalPath: number;
  answerTokens: number;
  runs: Array<{ ttftMs: number; endToEndMs: number; criticalPathMs?: number }>;
}

function summarize(runs: RunNumbers[], barrier: boolean): Summary {
  const of = (pick: (run: RunNumbers) => number): number => median(runs.map(pick));
  return {
    ttftMs: round(
      of((run) => run.ttftMs),
      1,
    ),
    endToEndMs: round(
      of((run) => run.endToEndMs),
      1,
    ),
    inputTokensSent: of((run) => run.inputTokensSent),
    inputTokensCounted: of((run) => run.inputTokensCounted),
    requests: of((run) => run.requests),
    requestsPerLayer: runs[0]!.requestsPerLayer.map((_, layer) => of((run) => run.requestsPerLayer[layer] ?? 0)),
    criticalPathMs: barrier
      ? round(
          of((run) => run.criticalPathMs),
          1,
        )
      : NaN,
    endToEndOverCriticalPath: barrier
      ? round(
          of((run) => run.endToEndMs / run.criticalPathMs),
          4,
        )
      : NaN,
    answerTokens: of((run) => run.answerTokens),
    runs: runs.map((run) => ({
      ttftMs: round(run.ttftMs, 1),
      endToEndMs: round(run.endToEndMs, 1),
      ...(barrier ? { criticalPathMs: round(run.criticalPathMs, 1) } : {}),
    })),
  };
}

const runsText = (summary: Summary, pick: (run: Summary['runs'][number]) => number): string => summary.runs.map((run) => Math.round(pick(run))).join('/');

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const benchStart = performance.now();
  const startLoad = loadavg()[0]!;
  fake = await startFakeProvider({ behaviors, defaultBehavior: { tokens: 20 } });
  process.on('exit', () => fake.child.kill('SIGTERM'));
  const numbers: Record<string, unknown> = {
    node: process.version,
    cpus: cpus().length,
    loadAverageAtStart: loadavg().map((value) => round(value)),
    timeScale: TIME_SCALE,
    runs: RUNS,
  };
  try {
    process.stdout.write(
      `TTFT bench — node ${process.version}, ${cpus().length} CPUs shared with other work, load average ${loadText()}; fake provider pid ${fake.child.pid} (child process, not counted)\n` +
        `models at the paper's speeds with time ${TIME_SCALE}× compressed (tokens unchanged, first byte ${FIRST_BYTE_MS / TIME_SCALE} ms); medians of ${RUNS} runs per policy after one warm-up each\n` +
        `critical path of a barrier run: Σ over its layers of the longest service time of a completed call (request arrival to last byte, from the fake server's log)\n\n`,
    );

    // 1. The 3-layer preset: staircase vs barrier.
    const [barrierRuns, staircaseRuns] = await compare(paperPreset('barrier'), paperPreset({ mode: 'staircase' }));
    const barrier = summarize(barrierRuns, true);
    const staircase = summarize(staircaseRuns, false);
    const slowest = Math.max(...PAPER_PROPOSERS.map(serviceMs));
    process.stdout.write(
      `3 layers (6 proposers 300–600 tokens at 70–35 tokens/s, 6 synthesizers alike, aggregator ${PAPER_AGGREGATOR.tokens} tokens at ${PAPER_AGGREGATOR.tokensPerSecond}/s; scaled: slowest call ${Math.round(slowest)} ms); staircase: chunks of 32 tokens, doubling\n`,
    );
    report(
      'TTFT staircase ÷ barrier',
      staircase.ttftMs / barrier.ttftMs,
      TARGETS.staircaseTtft,
      `${staircase.ttftMs} ms ÷ ${barrier.ttftMs} ms (runs ${runsText(staircase, (run) => run.ttftMs)} / ${runsText(barrier, (run) => run.ttftMs)} ms)`,
    );
    report(
      'end-to-end staircase ÷ barrier',
      staircase.endToEndMs / barrier.endToEndMs,
      TARGETS.staircaseEndToEnd,
      `${staircase.endToEndMs} ms ÷ ${barrier.endToEndMs} ms (runs ${runsText(staircase, (run) => run.endToEndMs)} / ${runsText(barrier, (run) => run.endToEndMs)} ms)`,
    );
    report(
      'input tokens sent, staircase ÷ barrier',
      staircase.inputTokensSent / barrier.inputTokensSent,
      undefined,
      `${staircase.inputTokensSent} ÷ ${barrier.inputTokensSent} prompt words received by the fake server (${staircase.requests} requests [${staircase.requestsPerLayer.join('+')} per layer] vs ${barrier.requests}); the engine's usage counts ${staircase.inputTokensCounted} vs ${barrier.inputTokensCounted}`,
    );
    report(
      'barrier end-to-end ÷ critical path',
      barrier.endToEndOverCriticalPath,
      TARGETS.barrierCriticalPath,
      `median of the runs' ratios; runs ${runsText(barrier, (run) => run.endToEndMs)} ms vs bound ${runsText(barrier, (run) => run.criticalPathMs ?? NaN)} ms`,
    );
    report(
      "staircase end-to-end ÷ the barrier run's critical path",
      staircase.endToEndMs / barrier.criticalPathMs,
      undefined,
      `what pipelining the layers saves: ${staircase.endToEndMs} ms ÷ ${barrier.criticalPathMs} ms`,
    );
    if (staircase.answerTokens !== barrier.answerTokens) {
      report('answer length staircase ÷ barrier', staircase.answerTokens / barrier.answerTokens, undefined, `${staircase.answerTokens} vs ${barrier.answerTokens} words`);
    }
    numbers['threeLayers'] = { barrier, staircase };

    // 2. The 2-layer preset with one proposer 3× slower: early (K = 5) vs barrier.
    const [earlyBarrierRuns, earlyRuns] = await compare(earlyPreset('barrier'), earlyPreset({ mode: 'early' }));
    const earlyBarrier = summarize(earlyBarrierRuns, true);
    const early = summarize(earlyRuns, false);
    process.stdout.write(
      `\n2 layers (5 proposers ${EARLY_FAST.tokens} tokens at ${EARLY_FAST.tokensPerSecond}/s, the 6th at ${EARLY_SLOW.tokensPerSecond}/s: ${Math.round(serviceMs(EARLY_SLOW))} vs ${Math.round(serviceMs(EARLY_FAST))} ms scaled); early: K = n−1 = 5, restarts ≤ 2 (defaults)\n`,
    );
    report(
      'TTFT early ÷ barrier',
      early.ttftMs / earlyBarrier.ttftMs,
      TARGETS.earlyTtft,
      `${early.ttftMs} ms ÷ ${earlyBarrier.ttftMs} ms (runs ${runsText(early, (run) => run.ttftMs)} / ${runsText(earlyBarrier, (run) => run.ttftMs)} ms)`,
    );
    report(
      'end-to-end early ÷ barrier',
      early.endToEndMs / earlyBarrier.endToEndMs,
      undefined,
      `${early.endToEndMs} ms ÷ ${earlyBarrier.endToEndMs} ms; input tokens sent ${early.inputTokensSent} ÷ ${earlyBarrier.inputTokensSent} = ${round(early.inputTokensSent / earlyBarrier.inputTokensSent, 3)} (${early.requests} vs ${earlyBarrier.requests} requests)`,
    );
    report(
      'barrier end-to-end ÷ critical path, 2 layers',
      earlyBarrier.endToEndOverCriticalPath,
      undefined,
      `runs ${runsText(earlyBarrier, (run) => run.endToEndMs)} ms vs bound ${runsText(earlyBarrier, (run) => run.criticalPathMs ?? NaN)} ms`,
    );
    numbers['slowProposer'] = { barrier: earlyBarrier, early };
  } finally {
    await stopChild(fake.child);
  }
  const totalSeconds = (performance.now() - benchStart) / 1000;
  Object.assign(numbers, { loadAverageAtEnd: loadavg().map((value) => round(value)), totalSeconds: round(totalSeconds, 1), misses });
  if (startLoad > 1 || loadavg()[0]! > cpus().length) {
    process.stdout.write(
      `\nnote: the machine looked busy (1-min load ${round(startLoad)} at start, ${loadText()} at the end, ${cpus().length} CPUs): times may be stretched; the ratios compare runs made side by side\n`,
    );
  }
  process.stdout.write(`\n${measured - misses.length} passed, ${misses.length} missed (${round(totalSeconds, 1)} s, load ${loadText()})\n`);
  if (misses.length > 0) process.stdout.write(`\nMISSED TARGETS:\n${misses.map((miss) => `  ✗ ${miss}`).join('\n')}\n`);
  if (JSON_OUTPUT) process.stdout.write(`\n${JSON.stringify(numbers, null, 2)}\n`);
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
