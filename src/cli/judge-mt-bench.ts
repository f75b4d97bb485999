/**
 * `moa judge mt-bench`: FastChat's single-answer grading by one judge model ("provider:model-id"),
 * the library's job (src/eval/jobs/judge-mt-bench.ts) run with the batch runner's CLI behaviour;
 * then the scores per turn, per category and overall.
 */
import { resolve as resolvePath } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../node/load-config.js';
import type { MtBenchModelScores, ScoreSummary } from '../eval/index.js';
import { prepareMtBenchJudging } from '../eval/jobs/judge-mt-bench.js';
import { benchDataFile, runJobForCli } from './eval-batch.js';
import { addJudgeOptions, requireJudge, type JudgeFlags } from './eval-judge.js';
import { EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import type { CliStreams } from './run-for-cli.js';

function formatScore(value: number): string {
  return Number.isFinite(value) ? value.toFixed(2) : '  – ';
}

function jsonScore(summary: ScoreSummary): number | null {
  return Number.isFinite(summary.score) ? summary.score : null;
}

// ---------------------------------------------------------------------------------------------
// MT-Bench

export interface JudgeMtBenchFlags extends JudgeFlags {
  answers: string;
  questions?: string;
  judgePrompts?: string;
  referenceAnswers?: string;
  judgmentsOutput?: string;
}

/** The `--json` shape of MT-Bench scores. */
export interface MtBenchScoresJson {
  model: string;
  overall: number | null;
  turns: { 1: number | null; 2: number | null };
  categories: Record<string, { overall: number | null; turns: { 1: number | null; 2: number | null }; n: number }>;
  /** Valid judgments counted (ratings of −1 are left out). */
  n: number;
}

export function mtBenchScoresJson(scores: MtBenchModelScores): MtBenchScoresJson {
  const categories: MtBenchScoresJson['categories'] = {};
  for (const [category, summary] of Object.entries(scores.byCategory)) {
    categories[category] = {
      overall: jsonScore(summary.overall),
      turns: { 1: jsonScore(summary.firstTurn), 2: jsonScore(summary.secondTurn) },
      n: summary.overall.count,
    };
  }
  return {
    model: scores.model,
    overall: jsonScore(scores.overall),
    turns: { 1: jsonScore(scores.firstTurn), 2: jsonScore(scores.secondTurn) },
    categories,
    n: scores.overall.count,
  };
}

export function renderMtBenchScores(scores: MtBenchModelScores, judge: string): string {
  const lines = [
    `MT-Bench: ${scores.model} (judge ${judge}), ${scores.overall.count} rated turns${scores.unparsed ? `, ${scores.unparsed} without a rating (left out)` : ''}`,
  ];
  lines.push(`  ${'category'.padEnd(12)} ${'turn 1'.padStart(7)} ${'turn 2'.padStart(7)} ${'overall'.padStart(8)}`);
  for (const [category, summary] of Object.entries(scores.byCategory)) {
    lines.push(
      `  ${category.padEnd(12)} ${formatScore(summary.firstTurn.score).padStart(7)} ${formatScore(summary.secondTurn.score).padStart(7)} ${formatScore(summary.overall.score).padStart(8)}`,
    );
  }
  lines.push(
    `  ${'all'.padEnd(12)} ${formatScore(scores.firstTurn.score).padStart(7)} ${formatScore(scores.secondTurn.score).padStart(7)} ${formatScore(scores.overall.score).padStart(8)}`,
  );
  return `${lines.join('\n')}\n`;
}

export function registerJudgeMtBench(judge: Command, io: CliStreams, setExitCode: (code: number) => void): void {
  addJudgeOptions(judge.command('mt-bench').description("MT-Bench single-answer grading with FastChat's judge prompts; scores per turn, per category and overall"))
    .requiredOption('--answers <file>', 'the answers to judge (FastChat answer JSONL, e.g. from moa eval mt-bench)')
    .option('--questions <file>', 'question.jsonl (default: $MOA_BENCH_DATA/mt_bench/question.jsonl)')
    .option('--judge-prompts <file>', 'judge_prompts.jsonl (default: $MOA_BENCH_DATA/mt_bench/judge_prompts.jsonl)')
    .option('--reference-answers <file>', 'reference answers for math, reasoning and coding (default: $MOA_BENCH_DATA/mt_bench/reference_answer/gpt-4.jsonl)')
    .option(
      '--judgments-output <file>',
      "FastChat judgment JSONL to write (default: <bench>/model_judgment/<judge>_single.jsonl for answers in FastChat's model_answer/, else <answers>.judgments.jsonl); other models' lines in it are kept",
    )
    .action(async (flags: JudgeMtBenchFlags) => setExitCode(await judgeMtBench(flags, io)));
}

export async function judgeMtBench(flags: JudgeMtBenchFlags, io: CliStreams): Promise<number> {
  const judgeModel = requireJudge(flags, 'openai:gpt-4');
  const job = prepareMtBenchJudging({
    answers: flags.answers,
    questions: benchDataFile(flags.questions, '--questions', 'mt_bench/question.jsonl', io, 'the MT-Bench questions'),
    judgePrompts: benchDataFile(flags.judgePrompts, '--judge-prompts', 'mt_bench/judge_prompts.jsonl', io, "FastChat's judge prompts"),
    referenceAnswers: () =>
      benchDataFile(flags.referenceAnswers, '--reference-answers', 'mt_bench/reference_answer/gpt-4.jsonl', io, 'reference answers for math, reasoning and coding'),
    judge: judgeModel,
    ...(flags.judgmentsOutput !== undefined ? { judgmentsOutput: flags.judgmentsOutput } : {}),
  });
  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env: io.env });
  const run = await runJobForCli(job, flags, config, io);
  if (run.dryRun) return EXIT_OK;
  const { outcome, result } = run;
  const label = job.label;
  if (!flags.quiet) {
    const notes = [
      `wrote ${result.judgments.length} of ${result.total} judgments of ${result.model} to ${result.judgmentsPath}${result.otherLinesKept > 0 ? ` (${result.otherLinesKept} lines of other models or judges kept)` : ''}`,
    ];
    if (result.missing > 0) notes.push(outcome.colors.yellow(`${result.missing} missing: the scores below leave them out; run the same command again to complete them`));
    if (result.questionsWithoutAnswer > 0)
      notes.push(outcome.colors.yellow(`${result.questionsWithoutAnswer} question(s) have no answer in ${resolvePath(flags.answers)}`));
    io.stderr.write(`${label}: ${notes.join(' — ')}\n`);
  }
  const { scores } = result;
  if (scores && (flags.json || !result.noneParsed)) {
    io.stdout.write(flags.json ? `${JSON.stringify(mtBenchScoresJson(scores), null, 2)}\n` : renderMtBenchScores(scores, judgeModel));
  } else if (flags.json) {
    io.stdout.write(`${JSON.stringify({ model: result.model, overall: null, turns: { 1: null, 2: null }, categories: {}, n: 0 }, null, 2)}\n`);
  }
  if (result.noneParsed) {
    // Judge replies were written, yet not one holds a rating: the scores would be empty, so that is a failed run.
    io.stderr.write(
      outcome.colors.red(
        `${label}: no rating in any of the ${result.judgments.length} judge replies (no [[rating]], nor [rating], found), so there is no score; ` +
          `the raw replies are the "judgment" fields of ${result.judgmentsPath}\n`,
      ),
    );
    return outcome.exitCode === EXIT_OK ? EXIT_RUN_FAILED : outcome.exitCode;
  }
  return outcome.exitCode;
}
