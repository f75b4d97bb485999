/**
 * `moa report FILES… -o report.html`: any mix of result files (and folders of them) → one
 * self-contained HTML report (src/eval/report/): AlpacaEval win rates with intervals beside the
 * leaderboard, comparisons, MT-Bench per category and turn, FLASK skills, cost against quality,
 * latency and time-to-first-token distributions, per-model failures from traces.
 */
import { existsSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import { writeFileAtomically } from '../eval/jobs/progress-file.js';
import { createReport } from '../eval/report/create-report.js';
import { ConfigError } from '../util/errors.js';
import type { CommandRegistration } from './command-registration.js';
import { optionalBenchDataFile } from './eval-batch.js';
import { EXIT_OK } from './exit-codes.js';
import { modelList } from './options.js';
import type { CliStreams } from './run-for-cli.js';

export interface ReportFlags {
  output?: string;
  lcData?: string;
  evalSet?: string;
  leaderboard?: string;
  referenceRows?: string[];
  questions?: string;
  title?: string;
  json?: boolean;
  quiet?: boolean;
}

export function registerReportCommand(registration: CommandRegistration): void {
  const { program, io, setExitCode } = registration;
  program
    .command('report')
    .description(
      'one self-contained HTML report (offline, light and dark, laptop and phone) from benchmark results: annotations, comparisons, judgments, reviews, moa eval progress files, traces',
    )
    .argument(
      '<files...>',
      'result files or folders: AlpacaEval annotations, moa eval compare --json output, FastChat MT-Bench judgments (single or pairwise), FLASK reviews, moa eval progress files (<output>.progress.jsonl), traces',
    )
    .requiredOption('-o, --output <file>', 'the HTML file to write')
    .option('--lc-data <dir>', "AlpacaEval's instruction_difficulty.csv and df_gamed.csv, for the length-controlled win rate (default: $MOA_BENCH_DATA/alpaca_eval/lc)")
    .option(
      '--eval-set <file>',
      "AlpacaEval's evaluation set, to look up instruction difficulties by instruction (default: $MOA_BENCH_DATA/alpaca_eval/alpaca_eval_instructions.json)",
    )
    .option(
      '--leaderboard <file>',
      "AlpacaEval's leaderboard CSV, for the reference rows (default: $MOA_BENCH_DATA/alpaca_eval/leaderboard/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv)",
    )
    .option('--reference-rows <names>', 'comma-separated leaderboard rows to show (default: gpt-4o-2024-05-13,Together-MoA)', modelList)
    .option('--questions <file>', "MT-Bench's question.jsonl, for the categories (default: $MOA_BENCH_DATA/mt_bench/question.jsonl)")
    .option('--title <text>', "the report's title")
    .option('--json', "also print the report's numbers as JSON on stdout")
    .option('-q, --quiet', 'no summary on stderr')
    .action(async (files: string[], flags: ReportFlags) => setExitCode(reportCommand(files, flags, io)));
}

/** An explicit flag must name an existing file; a $MOA_BENCH_DATA default may be absent (the report says so). */
function contextFile(value: string | undefined, flag: string, relative: string, io: CliStreams): string | undefined {
  if (value !== undefined) {
    const path = resolvePath(value);
    if (!existsSync(path)) throw new ConfigError(`${flag}: ${path} not found`, { code: 'usage', path: flag });
    return path;
  }
  return optionalBenchDataFile(undefined, relative, io);
}

export function reportCommand(files: string[], flags: ReportFlags, io: CliStreams): number {
  if (!flags.output) throw new ConfigError('-o, --output FILE is required (the HTML file to write)', { code: 'usage', path: '--output' });
  const output = resolvePath(flags.output);
  if (files.map((file) => resolvePath(file)).includes(output)) throw new ConfigError(`--output ${output} is one of the inputs`, { code: 'usage', path: '--output' });
  const lengthControlData = contextFile(flags.lcData, '--lc-data', 'alpaca_eval/lc', io);
  const evalSet = contextFile(flags.evalSet, '--eval-set', 'alpaca_eval/alpaca_eval_instructions.json', io);
  const leaderboard = contextFile(flags.leaderboard, '--leaderboard', 'alpaca_eval/leaderboard/weighted_alpaca_eval_gpt4_turbo_leaderboard.csv', io);
  const questions = contextFile(flags.questions, '--questions', 'mt_bench/question.jsonl', io);
  const { html, model } = createReport(files, {
    ...(lengthControlData !== undefined ? { lengthControlData } : {}),
    ...(evalSet !== undefined ? { evalSet } : {}),
    ...(leaderboard !== undefined ? { leaderboard } : {}),
    ...(questions !== undefined ? { questions } : {}),
    ...(flags.referenceRows ? { referenceRows: flags.referenceRows } : {}),
    ...(flags.title !== undefined ? { title: flags.title } : {}),
  });
  if (model.inputs.length === 0) {
    throw new ConfigError(
      `no result file among ${files.join(', ')}${
        model.skipped.length > 0
          ? ` (skipped: ${model.skipped
              .slice(0, 3)
              .map((entry) => `${entry.file}: ${entry.reason}`)
              .join('; ')})`
          : ''
      }`,
      { code: 'usage', path: 'files' },
    );
  }
  writeFileAtomically(output, html);
  if (flags.json) io.stdout.write(`${JSON.stringify(model, null, 2)}\n`);
  if (!flags.quiet) {
    const counts = new Map<string, number>();
    for (const input of model.inputs) counts.set(input.kind, (counts.get(input.kind) ?? 0) + 1);
    const kinds = [...counts].map(([kind, count]) => `${count} ${kind}`).join(', ');
    io.stderr.write(
      `moa report: wrote ${output} (${html.length.toLocaleString('en-US')} bytes) from ${kinds}${model.skipped.length > 0 ? `; skipped ${model.skipped.length} other file(s)` : ''}\n`,
    );
  }
  return EXIT_OK;
}
