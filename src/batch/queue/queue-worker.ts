/**
 * A queue worker (`moa worker`): takes items of every batch enqueued in the Redis it is given and
 * runs them exactly as `runBatch` runs its items (item-runner.ts: the same engine, registry limits,
 * cache, prices and traces), so an item's line is the same whoever ran it.
 *
 * - Discovery: the batches' descriptors in `moa:batches`, read every `discoveryMs` and whenever an
 *   enqueuer announces one; a BullMQ Worker runs for each batch that has jobs left, and is closed
 *   once it has none. The worker's `concurrency` (items in flight) is shared among them.
 * - A job's kind names the work; a kind this worker does not know fails the item with that
 *   message, as does anything the item's work throws (a provider missing from this worker's
 *   config, a key not set): the failed job carries the item's error line.
 * - Stopping: `close()` takes no new job and lets the items in flight finish; `close({ force })`
 *   cuts them and puts their jobs back in the queue for another worker. A worker that dies
 *   (SIGKILL, power) stops renewing its jobs' locks: after `lockMs` BullMQ's stalled-job check,
 *   done by any other worker, puts them back (at-least-once; finished calls are in the response
 *   cache, so a redo costs little).
 * - Presence: a heartbeat every `heartbeatMs` in `moa:workers` / `moa:worker:<id>` (expiring),
 *   for `moa queue status`.
 */
import { setMaxListeners } from 'node:events';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { Queue, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { addUsage, ZERO_USAGE, type Usage } from '../../core/events.js';
import type { ResponseCache } from '../../core/response-cache.js';
import type { ModelRegistry } from '../../models/registry.js';
import { toErrorInfo, type ErrorInfo } from '../../util/errors.js';
import { createItemRunner, type ItemRunner } from '../item-runner.js';
import {
  BATCHES_CHANNEL,
  BATCHES_KEY,
  DEFAULT_LOCK_MS,
  encodeFailure,
  QUEUE_PREFIX,
  queueNameFor,
  workerKey,
  WORKERS_KEY,
  type BatchDescriptor,
  type JobData,
  type JobKind,
  type JobOutcome,
} from './queued-batch.js';
import { closeRedis, type RedisConnection } from './redis-connection.js';

export interface QueueWorkerStats {
  running: number;
  done: number;
  failed: number;
  calls: number;
  cacheHits: number;
  usage: Usage;
  /** Batches this worker takes items of now. */
  batches: number;
}

export type QueueWorkerEvent =
  | { type: 'batch-joined'; batch: BatchDescriptor }
  | { type: 'batch-left'; batch: BatchDescriptor }
  | { type: 'item-end'; batch: BatchDescriptor; id: string; stats: QueueWorkerStats }
  | { type: 'item-error'; batch: BatchDescriptor; id: string; error: ErrorInfo; stats: QueueWorkerStats }
  | { type: 'item-requeued'; batch: BatchDescriptor; id: string }
  | { type: 'problem'; message: string };

export interface QueueWorkerOptions {
  connection: RedisConnection;
  /** The job kinds this worker can run, by name. */
  kinds: ReadonlyMap<string, JobKind>;
  registry: ModelRegistry;
  cache?: ResponseCache;
  /** One trace JSONL per item run (the folder must exist). */
  tracesDir?: string;
  /** Items in flight at once, over every batch. */
  concurrency: number;
  /** BullMQ's job lock; a dead worker's items come back after about this long. Default 30 s. */
  lockMs?: number;
  discoveryMs?: number;
  heartbeatMs?: number;
  onEvent?: (event: QueueWorkerEvent) => void;
  clock?: () => number;
}

export interface QueueWorker {
  readonly id: string;
  readonly stats: QueueWorkerStats;
  /** Stop taking jobs; wait for the items in flight (`force`: cut them and put them back). */
  close(options?: { force?: boolean }): Promise<void>;
}

interface BatchRun {
  descriptor: BatchDescriptor;
  queue: Queue<JobData, JobOutcome>;
  worker?: Worker<JobData, JobOutcome>;
  runner: ItemRunner;
  /** Polls in a row that found nothing left to do. */
  idlePolls: number;
}

/** Jobs that can still run: waiting, prioritized, delayed or active. */
async function jobsLeft(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts('waiting', 'active', 'prioritized', 'delayed');
  return Object.values(counts).reduce((sum, count) => sum + count, 0);
}

export async function startQueueWorker(options: QueueWorkerOptions): Promise<QueueWorker> {
  const id = `${hostname()}:${process.pid}:${randomBytes(3).toString('hex')}`;
  const lockMs = options.lockMs ?? DEFAULT_LOCK_MS;
  const discoveryMs = options.discoveryMs ?? 1_000;
  const heartbeatMs = options.heartbeatMs ?? 2_000;
  const concurrency = Math.max(1, options.concurrency);
  const startedAt = Date.now();
  const stats: QueueWorkerStats = { running: 0, done: 0, failed: 0, calls: 0, cacheHits: 0, usage: { ...ZERO_USAGE }, batches: 0 };
  const emit = (event: QueueWorkerEvent): void => options.onEvent?.(event);

  const client: Redis = options.connection.connect(`moa-worker:${id}`);
  const subscriber: Redis = options.connection.connect(`moa-worker-sub:${id}`);
  /** Cuts every item in flight (a forced stop); their jobs go back to the queue. */
  const cut = new AbortController();
  setMaxListeners(0, cut.signal); // every run in flight listens to it
  const runs = new Map<string, BatchRun>();
  let closing = false;

  const problem = (message: string): void => emit({ type: 'problem', message });

  const share = (): void => {
    // Items in flight are shared among the batches with work: each gets its part, at least one.
    const working = [...runs.values()].filter((run) => run.worker);
    working.forEach((run, index) => {
      const part = Math.max(1, Math.floor(concurrency / working.length) + (index < concurrency % working.length ? 1 : 0));
      if (run.worker && run.worker.concurrency !== part) run.worker.concurrency = part;
    });
    stats.batches = working.length;
  };

  const runJob = async (run: BatchRun, job: Job<JobData, JobOutcome>, token: string | undefined): Promise<JobOutcome> => {
    const item = job.data.item;
    const kind = options.kinds.get(job.name);
    if (!kind) {
      const message = `this worker cannot run jobs of kind "${job.name}" (it knows ${[...options.kinds.keys()].join(', ')}): run a moa worker of the same version as the enqueuing command`;
      const error: ErrorInfo = { name: 'QueueError', code: 'unknown_job_kind', message };
      stats.failed++;
      emit({ type: 'item-error', batch: run.descriptor, id: item.id, error, stats });
      throw new UnrecoverableError(
        encodeFailure({
          line: { id: item.id, error: { code: error.code, message }, usage: { ...ZERO_USAGE }, latencyMs: 0 },
          account: { usage: { ...ZERO_USAGE }, costUsd: 0, calls: 0, cacheHits: 0, latencyMs: 0, unpricedModels: [] },
          error,
          worker: id,
        }),
      );
    }
    stats.running++;
    let outcome;
    try {
      outcome = await run.runner.run(item, (batchItem, context) => kind.work(batchItem, context, run.descriptor.settings));
    } finally {
      stats.running--;
    }
    if (outcome.status === 'interrupted') {
      // Cut by a forced stop: back to the queue for another worker (nothing of it is written).
      if (token !== undefined) await job.moveToWait(token);
      emit({ type: 'item-requeued', batch: run.descriptor, id: item.id });
      throw new WaitingError();
    }
    if (outcome.status === 'failed') {
      stats.failed++;
      emit({ type: 'item-error', batch: run.descriptor, id: item.id, error: outcome.error, stats });
      throw new UnrecoverableError(encodeFailure({ line: outcome.line, account: outcome.account, error: outcome.error, worker: id }));
    }
    stats.done++;
    emit({ type: 'item-end', batch: run.descriptor, id: item.id, stats });
    return { line: outcome.line, account: outcome.account, worker: id };
  };

  const startWorker = (run: BatchRun): void => {
    const connection = options.connection.connect(`moa-worker-jobs:${id}`);
    const worker = new Worker<JobData, JobOutcome>(queueNameFor(run.descriptor.id), (job, token) => runJob(run, job, token), {
      connection,
      prefix: QUEUE_PREFIX,
      name: id,
      concurrency: 1,
      lockDuration: lockMs,
      stalledInterval: lockMs,
      maxStalledCount: 3,
      // Finished jobs stay (BullMQ's default) until `moa queue clean`: they are the batch's results until collected.
      drainDelay: Math.max(1, Math.min(5, Math.round(lockMs / 1000))),
    });
    worker.on('error', (error) => problem(`batch ${run.descriptor.id}: ${toErrorInfo(error).message}`));
    worker.on('closed', () => void closeRedis(connection));
    run.worker = worker;
    run.idlePolls = 0;
    emit({ type: 'batch-joined', batch: run.descriptor });
    share();
  };

  const stopWorker = async (run: BatchRun): Promise<void> => {
    const worker = run.worker;
    if (!worker) return;
    run.worker = undefined;
    share();
    await worker.close().catch(() => undefined);
    emit({ type: 'batch-left', batch: run.descriptor });
  };

  const runnerFor = (descriptor: BatchDescriptor): ItemRunner =>
    createItemRunner({
      registry: options.registry,
      ...(options.cache ? { cache: options.cache } : {}),
      prices: descriptor.prices,
      ...(options.tracesDir ? { tracesDir: options.tracesDir } : {}),
      runDefaults: descriptor.runDefaults,
      signal: cut.signal,
      ...(options.clock ? { clock: options.clock } : {}),
      onCall: () => void stats.calls++,
      onAnswer: ({ usage, cached }) => {
        stats.usage = addUsage(stats.usage, usage);
        if (cached) stats.cacheHits++;
      },
    });

  let discovering: Promise<void> | undefined;
  let again = false;
  const discover = (): Promise<void> => {
    if (discovering) {
      again = true;
      return discovering;
    }
    discovering = (async () => {
      do {
        again = false;
        if (closing) return;
        let descriptors: Record<string, string>;
        try {
          descriptors = await client.hgetall(BATCHES_KEY);
        } catch (error) {
          problem(`cannot read the batches: ${toErrorInfo(error).message}`);
          return;
        }
        for (const [batchId, text] of Object.entries(descriptors)) {
          if (closing) return;
          let run = runs.get(batchId);
          if (!run) {
            let descriptor: BatchDescriptor;
            try {
              descriptor = JSON.parse(text) as BatchDescriptor;
            } catch {
              continue;
            }
            run = {
              descriptor,
              queue: new Queue<JobData, JobOutcome>(queueNameFor(batchId), { connection: client, prefix: QUEUE_PREFIX }),
              runner: runnerFor(descriptor),
              idlePolls: 0,
            };
            runs.set(batchId, run);
          }
          let left: number;
          try {
            left = await jobsLeft(run.queue);
          } catch (error) {
            problem(`batch ${batchId}: ${toErrorInfo(error).message}`);
            continue;
          }
          if (left > 0 && !run.worker) startWorker(run);
          else if (left === 0 && run.worker && ++run.idlePolls >= 3) await stopWorker(run);
          else if (left > 0) run.idlePolls = 0;
        }
        // Batches removed from Redis (moa queue clean): stop and forget them.
        for (const [batchId, run] of runs) {
          if (batchId in descriptors) continue;
          runs.delete(batchId);
          await stopWorker(run);
          await run.queue.close().catch(() => undefined);
        }
      } while (again && !closing);
    })().finally(() => {
      discovering = undefined;
    });
    return discovering;
  };

  const heartbeat = async (): Promise<void> => {
    const presence = {
      id,
      host: hostname(),
      pid: process.pid,
      startedAt,
      concurrency,
      running: stats.running,
      done: stats.done,
      failed: stats.failed,
      batches: [...runs.values()].filter((run) => run.worker).map((run) => run.descriptor.id),
    };
    await client
      .multi()
      .set(workerKey(id), JSON.stringify(presence), 'PX', heartbeatMs * 3)
      .zadd(WORKERS_KEY, Date.now(), id)
      .exec()
      .catch((error: unknown) => problem(`heartbeat: ${toErrorInfo(error).message}`));
  };

  subscriber.on('message', () => void discover());
  await subscriber.subscribe(BATCHES_CHANNEL);
  await heartbeat();
  await discover();
  const discoveryTimer = setInterval(() => void discover(), discoveryMs);
  const heartbeatTimer = setInterval(() => void heartbeat(), heartbeatMs);

  return {
    id,
    stats,
    async close(closeOptions = {}) {
      if (closing) {
        if (closeOptions.force) cut.abort();
        return;
      }
      closing = true;
      clearInterval(discoveryTimer);
      clearInterval(heartbeatTimer);
      if (closeOptions.force) cut.abort();
      await discovering?.catch(() => undefined);
      await Promise.all([...runs.values()].map((run) => stopWorker(run)));
      await Promise.all([...runs.values()].map((run) => run.queue.close().catch(() => undefined)));
      runs.clear();
      await client
        .multi()
        .del(workerKey(id))
        .zrem(WORKERS_KEY, id)
        .exec()
        .catch(() => undefined);
      await Promise.all([closeRedis(client), closeRedis(subscriber)]);
    },
  };
}
