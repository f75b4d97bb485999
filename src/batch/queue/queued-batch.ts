/**
 * What the enqueuer and the workers agree on, in Redis:
 *
 * - One BullMQ queue per batch, named `batch-<id>` under the key prefix `moa`. The batch id is a
 *   hash of the job kind, the batch's settings and the output path: the same command enqueues into
 *   the same queue however often it runs, a different preset or output makes another batch.
 * - The batch's descriptor (kind, settings, prices, run defaults, label, output path) is stored
 *   once in the hash `moa:batches`; workers discover batches there (and through the channel
 *   `moa:batches:added`), so a job holds only its item. `moa:batches:collected` marks the batches
 *   whose results are all in their output file (only those are removed by `moa queue clean`).
 * - A job is named after its kind ("moa-batch", "mt-bench-answer", …) and its id is a hash of the
 *   item's id and content: enqueuing the same item twice adds nothing, a changed item is a new job.
 * - A job's return value is the item's result line and what it used; a failed item is a failed job
 *   whose reason is the same, as JSON (`encodeFailure`), so the enqueuer writes exactly the line a
 *   local run would have written.
 * - Workers announce themselves in `moa:workers` (a sorted set by last heartbeat) and
 *   `moa:worker:<id>` (a key that expires when the worker stops renewing it).
 */
import { createHash } from 'node:crypto';
import type { ModelPrice } from '../../core/config-schema.js';
import type { ErrorInfo } from '../../util/errors.js';
import type { ItemAccount, ItemRunDefaults } from '../item-runner.js';
import type { BatchItem, BatchItemContext } from '../run-batch.js';

/** BullMQ's key prefix for every queue of moa. */
export const QUEUE_PREFIX = 'moa';
export const BATCHES_KEY = `${QUEUE_PREFIX}:batches`;
export const BATCHES_CHANNEL = `${QUEUE_PREFIX}:batches:added`;
/** Batches whose every result an enqueuer has written to its output (batch id → ms since the epoch). */
export const COLLECTED_KEY = `${QUEUE_PREFIX}:batches:collected`;
export const WORKERS_KEY = `${QUEUE_PREFIX}:workers`;
export const workerKey = (workerId: string): string => `${QUEUE_PREFIX}:worker:${workerId}`;

/** How long a dead worker's items (BullMQ's lock) and provider slots (the coordinator's leases) stay held. */
export const DEFAULT_LOCK_MS = 30_000;
/** The environment variable that changes it (tests shorten it; see docs/scale-out.md). */
export const LOCK_MS_ENV = 'MOA_QUEUE_LOCK_MS';

export function lockMsFrom(env: Record<string, string | undefined>): number {
  const text = env[LOCK_MS_ENV];
  if (text === undefined || text === '') return DEFAULT_LOCK_MS;
  const value = Number(text);
  return Number.isFinite(value) && value >= 200 ? Math.round(value) : DEFAULT_LOCK_MS;
}

/**
 * A kind of job: what a worker does with one item of a batch of that kind. The same function runs
 * the item in a local run, so an item's line is the same either way.
 */
export interface JobKind<Item extends BatchItem = BatchItem, Settings = unknown, Output extends object = object> {
  name: string;
  work(item: Item, context: BatchItemContext, settings: Settings): Promise<Output>;
}

/** What a command hands the enqueuer: the kind its items are, the kind's settings, what of an item a job carries. */
export interface QueueJob<Item extends BatchItem = BatchItem> {
  kind: string;
  settings: unknown;
  jobItem?: (item: Item) => BatchItem;
}

/** What the enqueuer stores once per batch. */
export interface BatchDescriptor {
  id: string;
  kind: string;
  /** "moa batch", "moa eval mt-bench": for status and messages. */
  label: string;
  /** The kind's own settings (a resolved preset, a system prompt, …): plain JSON. */
  settings: unknown;
  prices: Record<string, ModelPrice>;
  runDefaults: ItemRunDefaults;
  outputPath: string;
  /** Where it was enqueued from (host name). */
  host: string;
  /** ms since the epoch when first enqueued. */
  createdAt: number;
  /** Items in the input when last enqueued, when known. */
  total?: number;
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function batchIdFor(kind: string, settings: unknown, extra: { prices: unknown; runDefaults: unknown }, outputPath: string): string {
  return sha256(JSON.stringify([kind, settings, extra.prices, extra.runDefaults, outputPath])).slice(0, 16);
}

export function queueNameFor(batchId: string): string {
  return `batch-${batchId}`;
}

/** The job id of an item: its id and content, hashed (BullMQ ids may not contain ":"). */
export function jobIdFor(item: BatchItem): string {
  return sha256(`${item.id}\u0000${JSON.stringify(item)}`).slice(0, 32);
}

/** A job's data: the item (only what its kind's work reads). */
export interface JobData {
  item: BatchItem;
}

/** What a worker returns for a finished item, and puts (as JSON) in a failed job's reason. */
export interface JobOutcome {
  line: { id: string } & Record<string, unknown>;
  account: ItemAccount;
  /** The worker that ran it. */
  worker?: string;
}

const FAILURE_TAG = 'moa-item-failed ';

export function encodeFailure(outcome: JobOutcome & { error: ErrorInfo }): string {
  return `${FAILURE_TAG}${JSON.stringify(outcome)}`;
}

/**
 * A failed job's reason → the item's error line. A reason that is not ours (BullMQ's own, e.g. a
 * job that stalled too often because the workers running it kept dying) becomes an error line too.
 */
export function decodeFailure(itemId: string, reason: string | undefined): JobOutcome & { error: ErrorInfo } {
  if (reason?.startsWith(FAILURE_TAG)) {
    try {
      return JSON.parse(reason.slice(FAILURE_TAG.length)) as JobOutcome & { error: ErrorInfo };
    } catch {
      // fall through: a damaged reason is still a failure
    }
  }
  const message = `the queue failed this item: ${reason ?? 'no reason given'}`;
  const error: ErrorInfo = { name: 'QueueError', code: 'queue_failed', message };
  return {
    line: { id: itemId, error: { code: error.code, message }, usage: { inputTokens: 0, outputTokens: 0 }, latencyMs: 0 },
    account: { usage: { inputTokens: 0, outputTokens: 0 }, costUsd: 0, calls: 0, cacheHits: 0, latencyMs: 0, unpricedModels: [] },
    error,
  };
}
