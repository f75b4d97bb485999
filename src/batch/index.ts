/** `moa-engine/batch`: crash-safe, resumable, cached runs over many items (one JSONL line per id). */
export { runBatch, type BatchItem, type BatchItemContext, type BatchEvent, type BatchStats, type BatchSummary, type RunBatchOptions } from './run-batch.js';
export { openResponseCache, defaultCachePath } from './response-cache.js';
