/**
 * `runBatch`'s twin for a queue: instead of running the items, it enqueues them for `moa worker`s
 * (any number, on any machine) and collects their results into the same results JSONL, with the
 * same events (so the same progress bar) and the same summary.
 *
 * - Resume is the results file's, as in a local run: ids already there are skipped; failed lines
 *   are removed and only those ids are sent again (their failed jobs retried).
 * - Each item is a job whose id hashes the item's id and content (queued-batch.ts): enqueuing what
 *   is already queued adds nothing, so an interrupted enqueue, rerun, adds only what is missing.
 *   Jobs that finished while nobody was collecting are collected, not redone.
 * - Results come from BullMQ's event stream (QueueEvents) and, as a safety net, from a periodic
 *   sweep of the pending ids against the queue's completed / failed sets; a pending job that has
 *   vanished from Redis (someone cleaned the queue) is enqueued again.
 * - Exactly one line per id: a result is written once, whichever path brought it.
 * - `budgetUsd`: once the collected items cost that much, the waiting jobs are removed; the ones
 *   running finish and are written. `signal`: stop collecting (the queued jobs stay queued and a
 *   rerun collects them).
 */
import { hostname } from 'node:os';
import { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { addUsage, ZERO_USAGE } from '../../core/events.js';
import type { ErrorInfo } from '../../util/errors.js';
import { roundUsd } from '../../core/cost.js';
import type { ItemRunDefaults } from '../item-runner.js';
import { itemsToRun, type SourceReading } from '../items-to-run.js';
import { openResultsAppender, prepareResultsFile } from '../results-file.js';
import type { BatchEvent, BatchItem, BatchSource, BatchStats, BatchStopReason, BatchSummary } from '../run-batch.js';
import type { ModelPrice } from '../../core/config-schema.js';
import {
  BATCHES_CHANNEL,
  BATCHES_KEY,
  batchIdFor,
  COLLECTED_KEY,
  decodeFailure,
  jobIdFor,
  QUEUE_PREFIX,
  queueNameFor,
  workerKey,
  WORKERS_KEY,
  type BatchDescriptor,
  type JobData,
  type JobOutcome,
} from './queued-batch.js';
import { closeRedis, type RedisConnection } from './redis-connection.js';

export interface RunQueuedBatchOptions<Item extends BatchItem> {
  connection: RedisConnection;
  /** The job kind the workers run ("moa-batch", …) and its settings (plain JSON). */
  kind: string;
  settings: unknown;
  label: string;
  items: BatchSource<Item>;
  total?: number;
  outputPath: string;
  /** What of an item the job carries (default: the item); it must keep the id. */
  jobItem?: (item: Item) => BatchItem;
  prices?: Readonly<Record<string, ModelPrice>>;
  runDefaults?: ItemRunDefaults;
  budgetUsd?: number;
  retryFailed?: boolean;
  strict?: boolean;
  signal?: AbortSignal;
  onEvent?: (event: BatchEvent) => void;
  /** Once every item is enqueued: the batch, what was added, and how many workers are alive now. */
  onEnqueued?: (info: { batchId: string; queue: string; enqueued: number; alreadyQueued: number; workersAlive: number }) => void;
  /** How often pending ids are checked against the queue (default 5 s). */
  sweepMs?: number;
  clock?: () => number;
}

export interface QueuedBatchSummary extends BatchSummary {
  batchId: string;
  queue: string;
  /** Jobs this run added, and items it found already queued (from an earlier, interrupted run). */
  enqueued: number;
  alreadyQueued: number;
  /** Ids collected that had finished before this run looked (while nobody was collecting). */
  collectedFromEarlier: number;
}

const ADD_CHUNK = 500;
const CHECK_CHUNK = 1000;

interface Pending {
  itemId: string;
}

export async function runQueuedBatch<Item extends BatchItem>(options: RunQueuedBatchOptions<Item>): Promise<QueuedBatchSummary> {
  const clock = options.clock ?? (() => performance.now());
  const startedAt = clock();
  const prices = { ...(options.prices ?? {}) };
  const runDefaults = { ...(options.runDefaults ?? {}) };
  const batchId = batchIdFor(options.kind, options.settings, { prices, runDefaults }, options.outputPath);
  const queueName = queueNameFor(batchId);
  const jobItem = options.jobItem ?? ((item: Item) => item);

  const resume = prepareResultsFile(options.outputPath, { retryFailed: options.retryFailed ?? true });
  const stats: BatchStats = {
    ...(options.total !== undefined ? { total: options.total } : {}),
    alreadyDone: 0,
    retrying: resume.retrying,
    started: 0,
    succeeded: 0,
    failed: 0,
    invalid: 0,
    inFlight: 0,
    calls: 0,
    cacheHits: 0,
    usage: { ...ZERO_USAGE },
    costUsd: 0,
    unpricedModels: [],
    elapsedMs: 0,
  };
  const unpriced = new Set<string>();
  const emit = (event: BatchEvent): void => {
    stats.elapsedMs = clock() - startedAt;
    options.onEvent?.(event);
  };

  const client: Redis = options.connection.connect('moa-enqueue');
  const eventsClient: Redis = options.connection.connect('moa-enqueue-events');
  const queue = new Queue<JobData, JobOutcome>(queueName, { connection: client, prefix: QUEUE_PREFIX });
  const events = new QueueEvents(queueName, { connection: eventsClient, prefix: QUEUE_PREFIX });
  events.on('error', () => undefined); // reconnects by itself; the sweep covers what it misses

  const pending = new Map<string, Pending>(); // by job id
  const active = new Set<string>();
  let enqueued = 0;
  let alreadyQueued = 0;
  let collectedFromEarlier = 0;
  let enqueueing = true;
  let stopReason: BatchStopReason | undefined;
  const reading: SourceReading = {};
  let budgetStopped = false;
  const output = openResultsAppender(options.outputPath);
  /** Ends the collector's current wait: when nothing is pending, or `force`d (a sweep is due now). */
  let wakeCollector: (force?: boolean) => void = () => undefined;

  const collect = (jobId: string, outcome: JobOutcome & { error?: ErrorInfo }, failed: boolean, early: boolean): void => {
    const entry = pending.get(jobId);
    if (!entry) return; // not ours, or already written
    pending.delete(jobId);
    if (active.delete(jobId)) stats.inFlight = active.size;
    else stats.started++; // finished without us seeing it start
    if (early) collectedFromEarlier++;
    const line: Record<string, unknown> = { ...outcome.line, id: entry.itemId };
    output.append(line);
    const account = outcome.account;
    stats.calls += account.calls;
    stats.cacheHits += account.cacheHits;
    stats.usage = addUsage(stats.usage, account.usage);
    if (account.costUsd !== undefined) stats.costUsd += account.costUsd;
    for (const model of account.unpricedModels) unpriced.add(model);
    stats.unpricedModels = [...unpriced].sort();
    // The limit of the worker that ran the latest item (each worker adapts its own unless a global limit is set).
    if (account.concurrency) Object.assign((stats.concurrency ??= {}), account.concurrency);
    if (failed) {
      stats.failed++;
      const lineError = line['error'] as { code?: string; message?: string } | undefined;
      const error: ErrorInfo = outcome.error ?? { name: 'Error', code: lineError?.code ?? 'failed', message: lineError?.message ?? 'failed' };
      emit({ type: 'item-error', id: entry.itemId, error, stats });
    } else {
      stats.succeeded++;
      emit({ type: 'item-end', id: entry.itemId, ...(account.costUsd !== undefined ? { costUsd: account.costUsd } : {}), stats });
    }
    if (options.budgetUsd !== undefined && !budgetStopped && stats.costUsd >= options.budgetUsd) void stopForBudget();
    wakeCollector();
  };

  const stopForBudget = async (): Promise<void> => {
    budgetStopped = true;
    stopReason ??= 'budget';
    // Waiting jobs are removed (a rerun enqueues them again); the running ones finish.
    await queue.drain(true).catch(() => undefined);
    wakeCollector(true);
  };

  events.on('completed', ({ jobId, returnvalue }) => {
    if (pending.has(jobId)) collect(jobId, returnvalue as JobOutcome, false, false);
  });
  events.on('failed', ({ jobId, failedReason }) => {
    const entry = pending.get(jobId);
    if (entry) collect(jobId, decodeFailure(entry.itemId, failedReason), true, false);
  });
  events.on('active', ({ jobId }) => {
    const entry = pending.get(jobId);
    if (!entry || active.has(jobId)) return;
    active.add(jobId);
    stats.started++;
    stats.inFlight = active.size;
    emit({ type: 'item-start', id: entry.itemId, stats });
  });

  /** Pending ids against the queue's finished sets; vanished jobs are added again (unless the budget stopped the batch). */
  const sweep = async (early: boolean): Promise<void> => {
    const ids = [...pending.keys()];
    for (let start = 0; start < ids.length; start += CHECK_CHUNK) {
      const chunk = ids.slice(start, start + CHECK_CHUNK);
      const pipeline = client.pipeline();
      pipeline.zmscore(queue.keys.completed!, ...chunk);
      pipeline.zmscore(queue.keys.failed!, ...chunk);
      for (const id of chunk) pipeline.exists(queue.toKey(id));
      const replies = (await pipeline.exec()) ?? [];
      const completed = (replies[0]?.[1] ?? []) as Array<string | null>;
      const failed = (replies[1]?.[1] ?? []) as Array<string | null>;
      const missing: string[] = [];
      for (let index = 0; index < chunk.length; index++) {
        const jobId = chunk[index]!;
        if (completed[index] !== null || failed[index] !== null) {
          const job = await queue.getJob(jobId);
          const entry = pending.get(jobId);
          if (!job || !entry) continue;
          if (completed[index] !== null) collect(jobId, job.returnvalue, false, early);
          else collect(jobId, decodeFailure(entry.itemId, job.failedReason), true, early);
        } else if (replies[2 + index]?.[1] === 0) missing.push(jobId);
      }
      if (missing.length > 0 && !enqueueing) await requeue(missing);
    }
  };

  const itemsByJob = new Map<string, BatchItem>(); // only for jobs that may need adding again
  const requeue = async (jobIds: string[]): Promise<void> => {
    if (budgetStopped) {
      for (const jobId of jobIds) pending.delete(jobId);
      wakeCollector();
      return;
    }
    const jobs = jobIds.flatMap((jobId) => {
      const item = itemsByJob.get(jobId);
      return item ? [{ name: options.kind, data: { item }, opts: { jobId } }] : [];
    });
    if (jobs.length > 0) await queue.addBulk(jobs);
  };

  /** Adds the chunk's new jobs; retries the failed ones whose error line this run removed. */
  const flush = async (chunk: Array<{ jobId: string; item: BatchItem; retry: boolean }>): Promise<void> => {
    if (chunk.length === 0) return;
    const pipeline = client.pipeline();
    for (const { jobId } of chunk) pipeline.exists(queue.toKey(jobId));
    const replies = (await pipeline.exec()) ?? [];
    const toAdd: Array<{ name: string; data: JobData; opts: { jobId: string } }> = [];
    for (let index = 0; index < chunk.length; index++) {
      const { jobId, item, retry } = chunk[index]!;
      const exists = replies[index]?.[1] === 1;
      if (!exists) {
        toAdd.push({ name: options.kind, data: { item }, opts: { jobId } });
        pending.set(jobId, { itemId: item.id });
        enqueued++;
        continue;
      }
      if (retry) {
        const job = await queue.getJob(jobId);
        const state = job ? await job.getState() : 'unknown';
        if (job && state === 'failed') {
          pending.set(jobId, { itemId: item.id });
          await job.retry('failed');
          enqueued++;
          continue;
        }
      }
      pending.set(jobId, { itemId: item.id });
      alreadyQueued++;
    }
    if (toAdd.length > 0) await queue.addBulk(toAdd);
  };

  const controller = new AbortController();
  const onAbort = (): void => controller.abort();
  if (options.signal?.aborted) onAbort();
  else options.signal?.addEventListener('abort', onAbort, { once: true });

  emit({ type: 'batch-start', stats });
  try {
    await queue.waitUntilReady();
    await events.waitUntilReady();
    // The descriptor first: workers that see the jobs can read how to run them.
    const descriptor: BatchDescriptor = {
      id: batchId,
      kind: options.kind,
      label: options.label,
      settings: options.settings,
      prices,
      runDefaults,
      outputPath: options.outputPath,
      host: hostname(),
      createdAt: Date.now(),
      ...(options.total !== undefined ? { total: options.total } : {}),
    };
    const previous = await client.hget(BATCHES_KEY, batchId);
    if (previous) {
      const earlier = JSON.parse(previous) as BatchDescriptor;
      descriptor.createdAt = earlier.createdAt;
    }
    await client.multi().hset(BATCHES_KEY, batchId, JSON.stringify(descriptor)).hdel(COLLECTED_KEY, batchId).exec();
    await client.publish(BATCHES_CHANNEL, batchId);

    let chunk: Array<{ jobId: string; item: BatchItem; retry: boolean }> = [];
    for await (const item of itemsToRun(options.items, reading, {
      signal: controller.signal,
      strict: options.strict,
      done: resume.done,
      stats,
      onInvalid: (entry) => emit({ type: 'input-error', line: entry.line, message: entry.message, stats }),
    })) {
      const carried = jobItem(item);
      const jobId = jobIdFor(carried);
      if (pending.has(jobId)) continue;
      itemsByJob.set(jobId, carried);
      chunk.push({ jobId, item: carried, retry: resume.retryingIds.has(item.id) });
      if (chunk.length >= ADD_CHUNK) {
        await flush(chunk);
        chunk = [];
      }
    }
    stopReason ??= reading.stoppedBy;
    if (stopReason === undefined) await flush(chunk);
    enqueueing = false;
    // Again now that the jobs are there: a worker that looked when the batch was first announced found none.
    await client.publish(BATCHES_CHANNEL, batchId);
    if (stopReason === undefined && options.onEnqueued) {
      options.onEnqueued({ batchId, queue: queueName, enqueued, alreadyQueued, workersAlive: await workersAlive(client) });
    }

    // Collect: events as they come; a sweep now (what finished meanwhile) and every sweepMs.
    if (stopReason === undefined || stopReason === 'budget') {
      await sweep(true);
      const sweepMs = options.sweepMs ?? 5_000;
      while (pending.size > 0 && !controller.signal.aborted) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, sweepMs);
          const onStop = (): void => done();
          controller.signal.addEventListener('abort', onStop, { once: true });
          function done(): void {
            clearTimeout(timer);
            controller.signal.removeEventListener('abort', onStop);
            wakeCollector = () => undefined;
            resolve();
          }
          wakeCollector = (force) => {
            if (force || pending.size === 0) done();
          };
        });
        if (pending.size === 0 || controller.signal.aborted) break;
        await sweep(false);
      }
      if (controller.signal.aborted && pending.size > 0) stopReason ??= 'interrupted';
    }
    // Every result of this input is in the file: the batch may be cleaned.
    if (stopReason === undefined && pending.size === 0) await client.hset(COLLECTED_KEY, batchId, String(Date.now()));
  } finally {
    output.close();
    options.signal?.removeEventListener('abort', onAbort);
    await events.close().catch(() => undefined);
    await queue.close().catch(() => undefined);
    await Promise.all([closeRedis(client), closeRedis(eventsClient)]);
  }

  stats.costUsd = roundUsd(stats.costUsd);
  stats.elapsedMs = clock() - startedAt;
  stats.inFlight = 0;
  const attempted = stats.alreadyDone + stats.succeeded + stats.failed;
  const summary: QueuedBatchSummary = {
    ...stats,
    usage: { ...stats.usage },
    unpricedModels: [...stats.unpricedModels],
    ...(stats.concurrency ? { concurrency: { ...stats.concurrency } } : {}),
    ...(stopReason ? { stoppedBy: stopReason } : {}),
    ...(options.total !== undefined ? { notStarted: Math.max(0, options.total - attempted) } : {}),
    outputPath: options.outputPath,
    repairs: resume.repairs,
    batchId,
    queue: queueName,
    enqueued,
    alreadyQueued,
    collectedFromEarlier,
  };
  emit({ type: 'batch-end', summary });
  if (reading.strictError) throw reading.strictError;
  return summary;
}

/** Workers whose heartbeat key has not expired. */
async function workersAlive(client: Redis): Promise<number> {
  const ids = await client.zrange(WORKERS_KEY, 0, -1);
  if (ids.length === 0) return 0;
  const pipeline = client.pipeline();
  for (const id of ids) pipeline.exists(workerKey(id));
  const replies = (await pipeline.exec()) ?? [];
  return replies.filter((reply) => reply[1] === 1).length;
}
