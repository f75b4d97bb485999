/**
 * `moa eval compare --a FILE --b FILE --judge MODEL [--benchmark alpaca-eval|mt-bench]`: is A
 * better than B, and at what cost? The library's job (src/eval/jobs/compare.ts) judges every pair
 * in both orders on the batch runner; this file parses the flags, runs it with the runner's CLI
 * behaviour, and prints the win rate with its bootstrap interval, the length-controlled win rate
 * (AlpacaEval), per category (and per turn), and each side's tokens, cost and latency.
 */
import { readFileSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { Option } from 'commander';
import { loadConfig } from '../node/load-config.js';
import type { WinRateInterval } from '../eval/pairwise-statistics.js';
import { comparisonJson, prepareComparison, type ComparisonBenchmark, type ComparisonResult, type ComparisonSide } from '../eval/jobs/compare.js';
import { ConfigError } from '../util/errors.js';
import { benchDataFile, optionalBenchDataFile, runJobForCli, runnerSummaryJson } from './eval-batch.js';
import { addJudgeOptions, requireJudge, type JudgeFlags } from './eval-judge.js';
import { EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import { integer } from './options.js';
import type { CliStreams } from './run-for-cli.js';
import { formatCount, formatDuration } from '../util/format.js';

export interface CompareFlags extends JudgeFlags {
  a?: string;
  b?: string;
  benchmark?: ComparisonBenchmark;
  output?: string;
  judgePrompt?: string;
  lcData?: string;
  evalSet?: string;
  questions?: string;
  judgePrompts?: string;
  referenceAnswers?: string;
  seed?: string;
  resamples?: number;
}

/** Options that belong to one benchmark only: given with the other, they are an error rather than ignored. */
const ALPACA_EVAL_ONLY = { judgePrompt: '--judge-prompt', lcData: '--lc-data', evalSet: '--eval-set' } as const;
const MT_BENCH_ONLY = { questions: '--questions', judgePrompts: '--judge-prompts', referenceAnswers: '--reference-answers' } as const;

export function registerCompareCommand(evaluate: Command, io: CliStreams, setExitCode: (code: number) => void): void {
  addJudgeOptions(
    evaluate
      .command('compare')
      .description(
        "is A better than B? judge two output files pairwise (both orders): win rate of A with a bootstrap 95% interval, length-controlled win rate (AlpacaEval), per category, and each side's cost",
      ),
  )
    .option('--a <file>', "A's outputs: model_outputs.json (AlpacaEval) or FastChat answer JSONL (MT-Bench)")
    .option('--b <file>', "B's outputs, on the same instructions or questions")
    .addOption(
      new Option('--benchmark <name>', 'the benchmark (default: from the files, a JSON array is AlpacaEval, JSON Lines MT-Bench)').choices(['alpaca-eval', 'mt-bench']),
    )
    .option(
      '--output <file>',
      'the judgments: AlpacaEval annotations (default <a>.vs.<b>.annotations.json), or FastChat pairwise judgments (default <a>.vs.<b>.pair.jsonl, or <bench>/model_judgment/<judge>_pair.jsonl for answers in model_answer/)',
    )
    .option('--judge-prompt <file>', 'AlpacaEval: alpaca_eval_clf.txt (default: $MOA_BENCH_DATA/alpaca_eval/judge/alpaca_eval_clf.txt)')
    .option(
      '--lc-data <dir>',
      'AlpacaEval: folder with instruction_difficulty.csv and df_gamed.csv for the length-controlled win rate (default: $MOA_BENCH_DATA/alpaca_eval/lc)',
    )
    .option('--eval-set <file>', "AlpacaEval: the evaluation set, for each instruction's difficulty by instruction")
    .option('--questions <file>', 'MT-Bench: question.jsonl (default: $MOA_BENCH_DATA/mt_bench/question.jsonl)')
    .option('--judge-prompts <file>', 'MT-Bench: judge_prompts.jsonl (default: $MOA_BENCH_DATA/mt_bench/judge_prompts.jsonl)')
    .option('--reference-answers <file>', 'MT-Bench: reference answers for math, reasoning and coding (default: $MOA_BENCH_DATA/mt_bench/reference_answer/gpt-4.jsonl)')
    .option('--seed <text>', 'seed of the bootstrap\'s generator (default "moa-compare": the same interval on every run)')
    .option('--resamples <n>', 'bootstrap resamples (default 2000)', integer('--resamples', 100, 1_000_000))
    .action(async (flags: CompareFlags) => setExitCode(await compareCommand(flags, io)));
}

/** The benchmark of a file from its first character: a JSON array is AlpacaEval's model_outputs.json, JSON Lines FastChat's answers. */
export function detectBenchmark(file: string): ComparisonBenchmark {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new ConfigError(`${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'file not found' : (error as Error).message}`, {
      code: 'eval_data_invalid',
      path: file,
    });
  }
  const first = text.trimStart()[0];
  if (first === '[') return 'alpaca-eval';
  if (first === '{') return 'mt-bench';
  throw new ConfigError(`${file}: neither a JSON array (AlpacaEval's model_outputs.json) nor JSON Lines (FastChat answers); pass --benchmark alpaca-eval|mt-bench`, {
    code: 'usage',
    path: '--benchmark',
  });
}

function rejectOtherBenchmarkFlags(flags: CompareFlags, benchmark: ComparisonBenchmark): void {
  const foreign = benchmark === 'alpaca-eval' ? MT_BENCH_ONLY : ALPACA_EVAL_ONLY;
  for (const [key, flag] of Object.entries(foreign)) {
    if (flags[key as keyof CompareFlags] !== undefined) {
      throw new ConfigError(
        `${flag} is for ${benchmark === 'alpaca-eval' ? 'MT-Bench' : 'AlpacaEval'} comparisons, and this is ${benchmark === 'alpaca-eval' ? 'an AlpacaEval' : 'an MT-Bench'} one`,
        { code: 'usage', path: flag },
      );
    }
  }
}

export async function compareCommand(flags: CompareFlags, io: CliStreams): Promise<number> {
  if (!flags.a || !flags.b)
    throw new ConfigError(
      'moa eval compare needs --a FILE and --b FILE (the two output files to compare), e.g. moa eval compare --a staircase.json --b barrier.json --judge openai:gpt-4-1106-preview',
      { code: 'usage', path: flags.a ? '--b' : '--a' },
    );
  const judge = requireJudge(flags, 'openai:gpt-4-1106-preview');
  const a = resolvePath(flags.a);
  const b = resolvePath(flags.b);
  const benchmark = flags.benchmark ?? detectBenchmark(a);
  if (flags.benchmark === undefined && detectBenchmark(b) !== benchmark)
    throw new ConfigError(`--a is ${benchmark === 'alpaca-eval' ? 'an AlpacaEval' : 'an MT-Bench'} file and --b is not`, { code: 'usage', path: '--b' });
  rejectOtherBenchmarkFlags(flags, benchmark);
  const common = {
    a,
    b,
    judge,
    ...(flags.output !== undefined ? { output: flags.output } : {}),
    ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
    ...(flags.resamples !== undefined ? { resamples: flags.resamples } : {}),
  };
  const job =
    benchmark === 'alpaca-eval'
      ? prepareComparison({
          benchmark,
          ...common,
          judgePrompt: benchDataFile(flags.judgePrompt, '--judge-prompt', 'alpaca_eval/judge/alpaca_eval_clf.txt', io, "AlpacaEval's judge prompt alpaca_eval_clf.txt"),
          ...optionalEntry('lengthControlData', optionalBenchDataFile(flags.lcData, 'alpaca_eval/lc', io)),
          ...optionalEntry('evalSet', flags.evalSet),
        })
      : prepareComparison({
          benchmark,
          ...common,
          questions: benchDataFile(flags.questions, '--questions', 'mt_bench/question.jsonl', io, 'the MT-Bench questions'),
          judgePrompts: benchDataFile(flags.judgePrompts, '--judge-prompts', 'mt_bench/judge_prompts.jsonl', io, "FastChat's judge prompts"),
          referenceAnswers: () =>
            benchDataFile(flags.referenceAnswers, '--reference-answers', 'mt_bench/reference_answer/gpt-4.jsonl', io, 'reference answers for math, reasoning and coding'),
        });
  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env: io.env });
  const run = await runJobForCli(job, flags, config, io);
  if (run.dryRun) return EXIT_OK;
  const { outcome, result } = run;
  if (!flags.quiet) {
    const notes = [`judged ${result.total - result.missing} of ${result.total} pairs in both orders → ${result.judgmentsPath}`];
    if (result.missing > 0) notes.push(outcome.colors.yellow(`${result.missing} missing: the numbers below leave them out; run the same command again to complete them`));
    if (result.unparsed > 0 && !result.noneParsed) notes.push(outcome.colors.yellow(`${result.unparsed} pair(s) with an unreadable verdict in either order (left out)`));
    io.stderr.write(`${job.label}: ${notes.join(' — ')}\n`);
  }
  if (flags.json) io.stdout.write(`${JSON.stringify({ ...comparisonJson(result), runner: runnerSummaryJson(outcome) }, null, 2)}\n`);
  if (result.noneParsed) {
    io.stderr.write(
      outcome.colors.red(
        `${job.label}: no verdict could be read from any judged pair (${result.benchmark === 'alpaca-eval' ? 'no "m" or "M"' : 'no [[A]], [[B]] or [[C]]'} in a reply of every pair), so there is no win rate; ` +
          `the raw replies are in ${result.judgmentsPath}\n`,
      ),
    );
    return outcome.exitCode === EXIT_OK ? EXIT_RUN_FAILED : outcome.exitCode;
  }
  if (!flags.json) io.stdout.write(renderComparison(result));
  return outcome.exitCode;
}

function optionalEntry<Key extends string>(key: Key, value: string | undefined): Partial<Record<Key, string>> {
  return value === undefined ? {} : ({ [key]: value } as Record<Key, string>);
}

function percent(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : 'n/a';
}

function describeInterval(interval: WinRateInterval): string {
  return `${percent(interval.winRate).padStart(6)}  [${percent(interval.interval[0])}, ${percent(interval.interval[1])}]  ${interval.wins}/${interval.ties}/${interval.losses}`;
}

function describeSide(side: ComparisonSide): string {
  if (side.progressFile === null) return `${side.name}: no usage data (no moa eval progress file beside ${side.file})`;
  const parts = [`${formatCount(side.itemsWithUsage)} items`];
  if (side.usage) parts.push(`${formatCount(side.usage.inputTokens)} in + ${formatCount(side.usage.outputTokens)} out tokens`);
  parts.push(side.costUsd === null ? 'cost unknown (no price for every model)' : `$${side.costUsd.toFixed(4)} ($${(side.costPerItemUsd ?? 0).toFixed(5)} per item)`);
  if (side.latencyMs) parts.push(`latency median ${formatDuration(side.latencyMs.median)}`);
  if (side.ttftMs) parts.push(`TTFT median ${formatDuration(side.ttftMs.median)}`);
  return `${side.name}: ${parts.join(', ')}`;
}

export function renderComparison(result: ComparisonResult): string {
  const { overall } = result.statistics;
  const benchmark = result.benchmark === 'alpaca-eval' ? 'AlpacaEval' : 'MT-Bench';
  const unit = result.benchmark === 'alpaca-eval' ? 'instructions' : 'question turns';
  const lines = [
    `${benchmark} comparison (judge ${result.judge}): A = ${result.a.name} vs B = ${result.b.name}, ${overall.n} ${unit}, each judged in both orders`,
    `  win rate of A              ${percent(overall.winRate)}  (95% CI ${percent(overall.interval[0])}–${percent(overall.interval[1])}, bootstrap of ${formatCount(result.bootstrap.resamples)}; ± ${percent(overall.standardError)} s.e.)`,
    `  wins / ties / losses       ${overall.wins} / ${overall.ties} / ${overall.losses}   (both orders agreed on ${result.consistent} of ${overall.n})`,
    result.lengthControlled
      ? `  length-controlled win rate ${percent(result.lengthControlled.winRate)} ± ${percent(result.lengthControlled.standardError)}`
      : `  length-controlled win rate n/a: ${result.lengthControlledNote ?? 'not computed'}`,
  ];
  const categories = Object.entries(result.statistics.categories);
  if (categories.length > 0) {
    lines.push(`  ${'by category'.padEnd(14)} ${'win %'.padStart(6)}  [95% CI]  wins/ties/losses`);
    for (const [category, interval] of categories) lines.push(`    ${category.padEnd(12)} ${describeInterval(interval)}`);
  }
  if (result.turns) {
    for (const turn of ['1', '2'] as const) lines.push(`    ${`turn ${turn}`.padEnd(12)} ${describeInterval(result.turns[turn])}`);
  }
  lines.push(`  A ${describeSide(result.a)}`, `  B ${describeSide(result.b)}`);
  return `${lines.join('\n')}\n`;
}
