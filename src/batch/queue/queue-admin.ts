/**
 * `moa queue status` / `moa queue clean`, as functions over a checked connection:
 *
 * - status: for each batch, its jobs queued (waiting, prioritized, delayed) / running (active) /
 *   done (completed) / failed, whether its enqueuer has written every result, and the workers
 *   alive (heartbeat key not expired; the dead ones are pruned from the set as they are found);
 * - clean: removes the batches that are finished — no job left to run — and whose results an
 *   enqueuer has written to its output; `force` removes finished batches whose results were not
 *   all collected too (a rerun of the enqueuing command would then redo them). A batch with jobs
 *   left is never removed.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { BATCHES_KEY, COLLECTED_KEY, QUEUE_PREFIX, queueNameFor, workerKey, WORKERS_KEY, type BatchDescriptor } from './queued-batch.js';
import { closeRedis, type RedisConnection } from './redis-connection.js';

export interface BatchStatus {
  id: string;
  label: string;
  kind: string;
  outputPath: string;
  host: string;
  createdAt: number;
  total?: number;
  queued: number;
  running: number;
  done: number;
  failed: number;
  /** Every result is in the output file (an enqueuer collected them all). */
  collected: boolean;
}

export interface WorkerStatus {
  id: string;
  host: string;
  pid: number;
  concurrency: number;
  running: number;
  done: number;
  failed: number;
  batches: string[];
  startedAt: number;
  /** ms since the epoch of its last heartbeat. */
  lastSeen: number;
}

export interface QueueStatus {
  url: string;
  redisVersion: string;
  batches: BatchStatus[];
  workers: WorkerStatus[];
}

async function withClient<T>(connection: RedisConnection, use: (client: Redis) => Promise<T>): Promise<T> {
  const client = connection.connect('moa-queue-admin');
  try {
    return await use(client);
  } finally {
    await closeRedis(client);
  }
}

async function batchStatus(client: Redis, descriptor: BatchDescriptor, collected: boolean): Promise<BatchStatus> {
  const queue = new Queue(queueNameFor(descriptor.id), { connection: client, prefix: QUEUE_PREFIX, skipMetasUpdate: true });
  try {
    const counts = await queue.getJobCounts('waiting', 'prioritized', 'delayed', 'active', 'completed', 'failed');
    return {
      id: descriptor.id,
      label: descriptor.label,
      kind: descriptor.kind,
      outputPath: descriptor.outputPath,
      host: descriptor.host,
      createdAt: descriptor.createdAt,
      ...(descriptor.total !== undefined ? { total: descriptor.total } : {}),
      queued: (counts['waiting'] ?? 0) + (counts['prioritized'] ?? 0) + (counts['delayed'] ?? 0),
      running: counts['active'] ?? 0,
      done: counts['completed'] ?? 0,
      failed: counts['failed'] ?? 0,
      collected,
    };
  } finally {
    await queue.close();
  }
}

async function readBatches(client: Redis): Promise<Array<{ descriptor: BatchDescriptor; collected: boolean }>> {
  const [descriptors, collected] = await Promise.all([client.hgetall(BATCHES_KEY), client.hgetall(COLLECTED_KEY)]);
  const batches: Array<{ descriptor: BatchDescriptor; collected: boolean }> = [];
  for (const [id, text] of Object.entries(descriptors)) {
    try {
      batches.push({ descriptor: JSON.parse(text) as BatchDescriptor, collected: id in collected });
    } catch {
      // a damaged descriptor: not ours to show
    }
  }
  return batches.sort((a, b) => a.descriptor.createdAt - b.descriptor.createdAt);
}

export async function queueStatus(connection: RedisConnection): Promise<QueueStatus> {
  return withClient(connection, async (client) => {
    const batches: BatchStatus[] = [];
    for (const { descriptor, collected } of await readBatches(client)) batches.push(await batchStatus(client, descriptor, collected));
    const ids = await client.zrange(WORKERS_KEY, 0, -1, 'WITHSCORES');
    const workers: WorkerStatus[] = [];
    for (let index = 0; index + 1 < ids.length; index += 2) {
      const id = ids[index]!;
      const lastSeen = Number(ids[index + 1]);
      const text = await client.get(workerKey(id));
      if (text === null) {
        await client.zrem(WORKERS_KEY, id); // its heartbeat expired: it is gone
        continue;
      }
      try {
        const presence = JSON.parse(text) as Omit<WorkerStatus, 'lastSeen'>;
        workers.push({ ...presence, lastSeen });
      } catch {
        // skip a damaged entry
      }
    }
    return { url: connection.target.display, redisVersion: connection.version, batches, workers };
  });
}

export interface CleanResult {
  removed: BatchStatus[];
  /** Batches kept, and why. */
  kept: Array<{ batch: BatchStatus; reason: string }>;
}

export async function cleanQueue(connection: RedisConnection, options: { force?: boolean } = {}): Promise<CleanResult> {
  return withClient(connection, async (client) => {
    const result: CleanResult = { removed: [], kept: [] };
    for (const { descriptor, collected } of await readBatches(client)) {
      const status = await batchStatus(client, descriptor, collected);
      if (status.queued + status.running > 0) {
        result.kept.push({ batch: status, reason: `${status.queued} queued and ${status.running} running` });
        continue;
      }
      if (!collected && !options.force) {
        result.kept.push({
          batch: status,
          reason: `its results are not all in ${descriptor.outputPath} yet: rerun the enqueuing command to collect them (or clean with --force to drop them)`,
        });
        continue;
      }
      const queue = new Queue(queueNameFor(descriptor.id), { connection: client, prefix: QUEUE_PREFIX });
      try {
        await queue.obliterate({ force: true });
      } finally {
        await queue.close();
      }
      await client.multi().hdel(BATCHES_KEY, descriptor.id).hdel(COLLECTED_KEY, descriptor.id).exec();
      result.removed.push(status);
    }
    return result;
  });
}
