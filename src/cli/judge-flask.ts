/**
 * `moa judge flask`: FLASK's review by one judge model ("provider:model-id"), the library's job
 * (src/eval/jobs/judge-flask.ts) run with the batch runner's CLI behaviour; then the per-skill
 * averages (1–5) in the order of the MoA paper's Figure 3.
 */
import type { Command } from 'commander';
import { loadConfig } from '../node/load-config.js';
import { prepareFlaskJudging, type FlaskJudgingResult } from '../eval/jobs/judge-flask.js';
import { benchDataFile, runJobForCli } from './eval-batch.js';
import { addJudgeOptions, requireJudge, type JudgeFlags } from './eval-judge.js';
import { EXIT_OK, EXIT_RUN_FAILED } from './exit-codes.js';
import type { CliStreams } from './run-for-cli.js';

export interface JudgeFlaskFlags extends JudgeFlags {
  answers: string;
  questions?: string;
  skills?: string;
  reviewPrompts?: string;
  reviewers?: string;
  reviewsOutput?: string;
}

/** The `--json` shape: every skill in the paper's order, its mean (null without scores) and count. */
export function flaskScoresJson(result: FlaskJudgingResult): Record<string, unknown> {
  return {
    reviews: result.reviewsPath,
    n: result.reviews.length,
    unparsed: result.unparsed,
    skills: Object.fromEntries(result.skills.map((entry) => [entry.skill, { average: entry.average, count: entry.count }])),
  };
}

export function renderFlaskScores(result: FlaskJudgingResult): string {
  const lines = [
    `FLASK (judge ${result.judge}), ${result.reviews.length - result.unparsed} reviews with scores${result.unparsed ? `, ${result.unparsed} without (left out)` : ''}`,
    `  ${'skill'.padEnd(15)} ${'score'.padStart(6)} ${'n'.padStart(6)}`,
  ];
  for (const entry of result.skills) {
    lines.push(`  ${entry.skill.padEnd(15)} ${(entry.average === null ? '–' : entry.average.toFixed(2)).padStart(6)} ${String(entry.count).padStart(6)}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerJudgeFlask(judge: Command, io: CliStreams, setExitCode: (code: number) => void): void {
  addJudgeOptions(judge.command('flask').description("FLASK: each instance's three skills scored 1–5 with FLASK's review prompt; averages per skill"))
    .requiredOption('--answers <file>', 'the answers to review ({question_id, text} JSONL, e.g. from moa eval flask)')
    .option('--questions <file>', 'flask_evaluation.jsonl (default: $MOA_BENCH_DATA/flask/flask_evaluation.jsonl)')
    .option('--skills <file>', 'skillset_description.json (default: $MOA_BENCH_DATA/flask/skillset_description.json)')
    .option('--review-prompts <file>', 'gpt_review/prompt.jsonl (default: $MOA_BENCH_DATA/flask/gpt_review/prompt.jsonl)')
    .option('--reviewers <file>', 'gpt_review/reviewer.jsonl, which prompt the judge uses (default: $MOA_BENCH_DATA/flask/gpt_review/reviewer.jsonl)')
    .option('--reviews-output <file>', 'FLASK review JSONL to write (default: <answers>_review.jsonl; progress in <file>.progress.jsonl)')
    .action(async (flags: JudgeFlaskFlags) => setExitCode(await judgeFlaskCommand(flags, io)));
}

export async function judgeFlaskCommand(flags: JudgeFlaskFlags, io: CliStreams): Promise<number> {
  const judgeModel = requireJudge(flags, 'openai:gpt-4-0613');
  const job = prepareFlaskJudging({
    answers: flags.answers,
    evaluationSet: benchDataFile(flags.questions, '--questions', 'flask/flask_evaluation.jsonl', io, 'the FLASK evaluation set'),
    skills: benchDataFile(flags.skills, '--skills', 'flask/skillset_description.json', io, "FLASK's skill rubrics"),
    prompts: benchDataFile(flags.reviewPrompts, '--review-prompts', 'flask/gpt_review/prompt.jsonl', io, "FLASK's review prompts"),
    reviewers: benchDataFile(flags.reviewers, '--reviewers', 'flask/gpt_review/reviewer.jsonl', io, "FLASK's reviewer settings"),
    judge: judgeModel,
    ...(flags.reviewsOutput !== undefined ? { reviewsOutput: flags.reviewsOutput } : {}),
  });
  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env: io.env });
  const run = await runJobForCli(job, flags, config, io);
  if (run.dryRun) return EXIT_OK;
  const { outcome, result } = run;
  if (!flags.quiet) {
    const notes = [`wrote ${result.reviews.length} of ${result.total} reviews to ${result.reviewsPath}`];
    if (result.missing > 0) notes.push(outcome.colors.yellow(`${result.missing} missing: the scores below leave them out; run the same command again to complete them`));
    if (result.instancesWithoutAnswer > 0) notes.push(outcome.colors.yellow(`${result.instancesWithoutAnswer} instance(s) have no answer`));
    io.stderr.write(`${job.label}: ${notes.join(' — ')}\n`);
  }
  if (result.noneParsed) {
    io.stderr.write(
      outcome.colors.red(
        `${job.label}: no scores in any of the ${result.reviews.length} judge reviews (no Python dict of skill → score at the end, as FLASK asks for), so there is no skill score; ` +
          `the raw reviews are the "review" fields of ${result.reviewsPath}\n`,
      ),
    );
    if (flags.json) io.stdout.write(`${JSON.stringify(flaskScoresJson(result), null, 2)}\n`);
    return outcome.exitCode === EXIT_OK ? EXIT_RUN_FAILED : outcome.exitCode;
  }
  if (result.reviews.length > 0) io.stdout.write(flags.json ? `${JSON.stringify(flaskScoresJson(result), null, 2)}\n` : renderFlaskScores(result));
  return outcome.exitCode;
}
