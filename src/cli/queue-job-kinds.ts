/**
 * The job kinds a `moa worker` can run, by name: each is the work of a command that accepts
 * `--queue` (the same function runs the item locally), so a worker runs exactly what the
 * enqueuing command would have run.
 */
import type { JobKind } from '../batch/queue/queued-batch.js';
import { moaBatchJob } from './batch-command.js';

export function queueJobKinds(): ReadonlyMap<string, JobKind> {
  const kinds: JobKind[] = [moaBatchJob as unknown as JobKind];
  return new Map(kinds.map((kind) => [kind.name, kind]));
}
