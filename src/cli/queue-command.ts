/**
 * `moa queue status URL` and `moa queue clean URL` (src/batch/queue/queue-admin.ts):
 *
 * - status: per batch, the jobs queued / running / done / failed, its label, where it was
 *   enqueued from and its output; then the workers alive (items running, done, failed). `--json`
 *   prints the same as one object.
 * - clean: removes the finished batches whose results are all in their output file;
 *   `--force` also those whose results were not all collected. Batches with jobs left are kept.
 *
 * A bad URL, an unreachable Redis, a Redis older than 6.2: exit 2.
 */
import type { BatchStatus } from '../batch/queue/queue-admin.js';
import type { CommandRegistration } from './command-registration.js';
import { EXIT_OK } from './exit-codes.js';
import type { CliStreams } from './run-for-cli.js';
import { colorsFor } from './terminal.js';
import { formatCount, formatDuration } from '../util/format.js';

export function registerQueueCommand({ program, io, setExitCode }: CommandRegistration): void {
  const queue = program.command('queue').description('look after the queue that moa worker processes take items from (docs/scale-out.md)');
  queue
    .command('status')
    .description('jobs queued / running / done / failed per batch, and the workers alive')
    .argument('<url>', 'redis://HOST:PORT[/DB]')
    .option('--json', 'machine-readable output')
    .action(async (url: string, flags: { json?: boolean }) => setExitCode(await queueStatusCommand(url, flags, io)));
  queue
    .command('clean')
    .description('remove the finished batches (every result collected into its output file)')
    .argument('<url>', 'redis://HOST:PORT[/DB]')
    .option('--force', 'also remove finished batches whose results were not all collected (a rerun of their command would redo those)')
    .option('--json', 'machine-readable output')
    .action(async (url: string, flags: { force?: boolean; json?: boolean }) => setExitCode(await queueCleanCommand(url, flags, io)));
}

function batchLine(batch: BatchStatus): string {
  const total = batch.total !== undefined ? ` of ${formatCount(batch.total)}` : '';
  return (
    `  ${batch.id}  ${batch.label}: ${formatCount(batch.queued)} queued, ${formatCount(batch.running)} running, ` +
    `${formatCount(batch.done)} done, ${formatCount(batch.failed)} failed${total}${batch.collected ? ' (all collected)' : ''} — ${batch.host}:${batch.outputPath}`
  );
}

/** Loaded only when used: BullMQ and ioredis take a second to import, which no other command should pay. */
async function queueModules(): Promise<[typeof import('../batch/queue/queue-admin.js'), typeof import('../batch/queue/redis-connection.js')]> {
  return Promise.all([import('../batch/queue/queue-admin.js'), import('../batch/queue/redis-connection.js')]);
}

export async function queueStatusCommand(url: string, flags: { json?: boolean }, io: CliStreams): Promise<number> {
  const [{ queueStatus }, { openRedis }] = await queueModules();
  const connection = await openRedis(url, 'URL');
  const status = await queueStatus(connection);
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return EXIT_OK;
  }
  const lines = [`${status.url} (Redis ${status.redisVersion})`];
  lines.push(status.batches.length ? `batches (${status.batches.length}):` : 'no batches');
  for (const batch of status.batches) lines.push(batchLine(batch));
  lines.push(status.workers.length ? `workers alive (${status.workers.length}):` : 'no worker alive');
  const now = Date.now();
  for (const worker of status.workers) {
    lines.push(
      `  ${worker.id}: ${formatCount(worker.running)} running, ${formatCount(worker.done)} done, ${formatCount(worker.failed)} failed; ` +
        `concurrency ${worker.concurrency}; up ${formatDuration(Math.max(0, now - worker.startedAt))}`,
    );
  }
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

export async function queueCleanCommand(url: string, flags: { force?: boolean; json?: boolean }, io: CliStreams): Promise<number> {
  const [{ cleanQueue }, { openRedis }] = await queueModules();
  const connection = await openRedis(url, 'URL');
  const result = await cleanQueue(connection, { force: flags.force ?? false });
  if (flags.json) {
    io.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    return EXIT_OK;
  }
  const colors = colorsFor(io.stdout, io.env);
  const lines = [result.removed.length ? `removed ${result.removed.length} finished batch(es):` : 'no finished batch to remove'];
  for (const batch of result.removed) lines.push(batchLine(batch));
  for (const { batch, reason } of result.kept) lines.push(colors.yellow(`kept ${batch.id} (${batch.label}): ${reason}`));
  io.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}
