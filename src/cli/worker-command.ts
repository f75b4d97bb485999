/**
 * `moa worker --queue redis://HOST:PORT[/DB] [--config FILE] [--concurrency N]`: takes the items
 * that `moa batch|eval|judge … --queue URL` enqueued and runs them with the same engine, cache and
 * limits as a local run (src/batch/queue/queue-worker.ts). Start and stop workers at any time, on
 * any machine; their provider limits are global (the Redis-backed lane coordinator).
 *
 * - The config (providers, keys from the environment, limits) is this worker's: an item that
 *   needs a provider it lacks fails with that message, on this worker's stderr and in the
 *   enqueuer's output.
 * - `--cache redis://…` shares the response cache with every worker; the SQLite file (default, or
 *   `--cache PATH`) is this machine's; `--no-cache`.
 * - Ctrl-C / SIGTERM: no new item; the items in flight finish (exit 130 / 0). A second one cuts
 *   them and puts their jobs back in the queue for another worker.
 * - A bad URL, an unreachable Redis, a Redis older than 6.2, a bad config: exit 2 before taking
 *   anything.
 */
import { mkdirSync } from 'node:fs';
import { resolve as resolvePath } from 'node:path';
import type { QueueWorkerEvent, QueueWorkerStats } from '../batch/queue/queue-worker.js';
import { defaultCachePath, openResponseCache } from '../batch/response-cache.js';
import { DEFAULT_BATCH_CONCURRENCY } from '../batch/run-batch.js';
import type { ResponseCache } from '../core/response-cache.js';
import { loadConfig } from '../node/load-config.js';
import { CallScheduler } from '../models/call-scheduler.js';
import { createNodeHttpFetch } from '../models/node-http-fetch.js';
import { createModelRegistry } from '../models/registry.js';
import type { CommandRegistration } from './command-registration.js';
import { EXIT_INTERRUPTED, EXIT_OK } from './exit-codes.js';
import { integer } from './options.js';
import { queueJobKinds } from './queue-job-kinds.js';
import type { CliStreams } from './run-for-cli.js';
import { colorsFor } from './terminal.js';
import { formatCount } from '../util/format.js';
import '../models/local/register-local-provider.js'; // the local: provider (GGUF through node-llama-cpp) in this Node face's registries

export interface WorkerFlags {
  queue: string;
  config?: string;
  concurrency?: number;
  /** A path or redis:// URL, false for --no-cache, undefined for the default SQLite file. */
  cache?: string | false;
  traces?: string;
  quiet?: boolean;
}

const STATUS_INTERVAL_MS = 10_000;

export function registerWorkerCommand({ program, io, setExitCode }: CommandRegistration): void {
  program
    .command('worker')
    .description('take the items enqueued with --queue (moa batch, eval, judge) and run them; start as many as you like, on any machine (docs/scale-out.md)')
    .requiredOption('--queue <url>', 'the queue: redis://HOST:PORT[/DB] (rediss:// for TLS, redis://:PASSWORD@HOST:PORT with a password)')
    .option('-c, --config <file>', "config file: this worker's providers, keys and limits (default ./moa.config.yaml or $MOA_CONFIG)")
    .option(
      '--concurrency <n>',
      `items in flight at once, over every batch (default ${DEFAULT_BATCH_CONCURRENCY}); provider limits still apply underneath, across every worker`,
      integer('--concurrency', 1, 100_000),
    )
    .option(
      '--cache <path-or-url>',
      'response cache: a SQLite file (default $MOA_CACHE_DIR/cache.sqlite or ~/.cache/moa/cache.sqlite), or redis://HOST:PORT[/DB] to share it between machines',
    )
    .option('--no-cache', 'neither read nor write the response cache')
    .option('--traces <dir>', "write each item's event stream to <dir>/<id>.jsonl on this machine")
    .option('-q, --quiet', 'only problems on stderr')
    .action(async (flags: WorkerFlags) => {
      setExitCode(await workerCommand(flags, io));
    });
}

function statusLine(stats: QueueWorkerStats): string {
  return (
    `${formatCount(stats.done)} done, ${formatCount(stats.failed)} failed, ${formatCount(stats.running)} running ` +
    `(${stats.batches} batch${stats.batches === 1 ? '' : 'es'}) · ${formatCount(stats.calls)} calls · ${formatCount(stats.cacheHits)} cache hits`
  );
}

export async function workerCommand(flags: WorkerFlags, io: CliStreams): Promise<number> {
  // Loaded only here: BullMQ and ioredis take a second to import, which no other command should pay.
  const [{ startQueueWorker }, { lockMsFrom }, { closeRedis, openRedis }, { RedisLaneCoordinator }, { createRedisResponseCache }] = await Promise.all([
    import('../batch/queue/queue-worker.js'),
    import('../batch/queue/queued-batch.js'),
    import('../batch/queue/redis-connection.js'),
    import('../batch/queue/redis-lane-coordinator.js'),
    import('../batch/queue/redis-response-cache.js'),
  ]);
  const colors = colorsFor(io.stderr, io.env);
  const say = (text: string): void => void io.stderr.write(`${text}\n`);
  // Everything that can be wrong is checked before the first job is taken (exit 2).
  const connection = await openRedis(flags.queue, '--queue');
  const config = loadConfig({ ...(flags.config !== undefined ? { configPath: flags.config } : {}), env: io.env });
  const lockMs = lockMsFrom(io.env);

  let cache: (ResponseCache & { path: string }) | undefined;
  let closeCache: () => Promise<void> = async () => undefined;
  if (typeof flags.cache === 'string' && /^rediss?:\/\//.test(flags.cache)) {
    const cacheConnection = await openRedis(flags.cache, '--cache');
    const client = cacheConnection.connect('moa-cache');
    cache = createRedisResponseCache(client, cacheConnection.target.display);
    closeCache = () => closeRedis(client);
  } else if (flags.cache !== false) {
    const sqlite = openResponseCache(typeof flags.cache === 'string' ? resolvePath(flags.cache) : defaultCachePath(io.env));
    cache = sqlite;
    closeCache = async () => sqlite.close();
  }
  const tracesDir = flags.traces ? resolvePath(flags.traces) : undefined;
  if (tracesDir) mkdirSync(tracesDir, { recursive: true });

  const limitsClient = connection.connect('moa-limits');
  const limitsSubscriber = connection.connect('moa-limits-sub');
  const coordinator = new RedisLaneCoordinator({ client: limitsClient, subscriber: limitsSubscriber, leaseMs: lockMs });
  const fetch = createNodeHttpFetch();
  const registry = createModelRegistry({ providers: config.providers, env: io.env, fetch, scheduler: new CallScheduler({ coordinator }) });
  const concurrency = flags.concurrency ?? DEFAULT_BATCH_CONCURRENCY;

  const onEvent = (event: QueueWorkerEvent): void => {
    switch (event.type) {
      case 'batch-joined':
        if (!flags.quiet) say(`moa worker: taking items of batch ${event.batch.id} (${event.batch.label} from ${event.batch.host}, output ${event.batch.outputPath})`);
        break;
      case 'batch-left':
        if (!flags.quiet) say(`moa worker: batch ${event.batch.id} has no items left`);
        break;
      case 'item-error':
        say(colors.red(`moa worker: batch ${event.batch.id} item "${event.id}" failed: ${event.error.message}`));
        break;
      case 'item-requeued':
        if (!flags.quiet) say(colors.yellow(`moa worker: item "${event.id}" of batch ${event.batch.id} was put back in the queue`));
        break;
      case 'problem':
        say(colors.yellow(`moa worker: ${event.message}`));
        break;
      default:
        break;
    }
  };

  let worker;
  try {
    worker = await startQueueWorker({
      connection,
      kinds: queueJobKinds(),
      registry,
      ...(cache ? { cache } : {}),
      ...(tracesDir ? { tracesDir } : {}),
      concurrency,
      lockMs,
      onEvent,
    });
  } catch (error) {
    coordinator.close();
    await Promise.all([closeRedis(limitsClient), closeRedis(limitsSubscriber), closeCache()]);
    await registry.close().catch(() => undefined);
    fetch.close();
    throw error;
  }
  if (!flags.quiet) {
    say(
      `moa worker ${worker.id}: taking items from ${connection.target.display} (Redis ${connection.version}); concurrency ${concurrency}; ` +
        `cache ${cache ? cache.path : 'off'}${config.path ? `; config ${config.path}` : ''} — Ctrl-C to stop`,
    );
  }
  const statusTimer = flags.quiet ? undefined : setInterval(() => say(`moa worker: ${statusLine(worker.stats)}`), STATUS_INTERVAL_MS);
  statusTimer?.unref();

  // Runs until a signal: the first lets the items in flight finish, the second puts them back in the queue.
  let onSignal: (signal: NodeJS.Signals) => void = () => undefined;
  const stoppedBy = await new Promise<NodeJS.Signals>((resolve) => {
    let signals = 0;
    onSignal = (signal) => {
      signals++;
      if (signals === 1) {
        if (!flags.quiet) {
          say(
            `moa worker: stopping — ${worker.stats.running} item(s) in flight finish first (${signal === 'SIGINT' ? 'Ctrl-C' : signal} again puts them back in the queue)`,
          );
        }
        void worker.close().then(() => resolve(signal));
      } else {
        if (!flags.quiet) say('moa worker: cutting the items in flight; their jobs go back to the queue');
        void worker.close({ force: true });
      }
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
  process.off('SIGINT', onSignal);
  process.off('SIGTERM', onSignal);
  if (statusTimer) clearInterval(statusTimer);
  coordinator.close();
  await Promise.all([closeRedis(limitsClient), closeRedis(limitsSubscriber), closeCache()]);
  await registry.close().catch(() => undefined);
  fetch.close();
  if (!flags.quiet) say(`moa worker: stopped · ${statusLine(worker.stats)}`);
  return stoppedBy === 'SIGINT' ? EXIT_INTERRUPTED : EXIT_OK;
}
