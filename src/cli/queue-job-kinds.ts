/**
 * The job kinds a `moa worker` can run, by name: each is the work of a command that accepts
 * `--queue` (the same function runs the item locally), so a worker runs exactly what the
 * enqueuing command would have run.
 */
import type { JobKind } from '../batch/queue/queued-batch.js';
import { alpacaEvalAnswerJob, flaskAnswerJob, mtBenchAnswerJob } from '../eval/jobs/generate.js';
import { alpacaEvalJudgeJob } from '../eval/jobs/judge-alpaca-eval.js';
import { flaskJudgeJob } from '../eval/jobs/judge-flask.js';
import { mtBenchJudgeJob } from '../eval/jobs/judge-mt-bench.js';
import { moaBatchJob } from './batch-command.js';

export function queueJobKinds(): ReadonlyMap<string, JobKind> {
  const kinds = [moaBatchJob, alpacaEvalAnswerJob, mtBenchAnswerJob, flaskAnswerJob, mtBenchJudgeJob, alpacaEvalJudgeJob, flaskJudgeJob] as unknown as JobKind[];
  return new Map(kinds.map((kind) => [kind.name, kind]));
}
