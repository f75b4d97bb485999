import pc from 'picocolors';
import { describe, expect, it } from 'vitest';
import { batchSummaryLine, createBatchProgress, progressText } from './batch-progress.js';
import type { BatchStats, BatchSummary } from '../batch/run-batch.js';

const colors = pc.createColors(false);
const stats = (over: Partial<BatchStats> = {}): BatchStats => ({
  total: 300,
  alreadyDone: 20,
  retrying: 0,
  started: 100,
  succeeded: 96,
  failed: 4,
  invalid: 1,
  inFlight: 0,
  calls: 500,
  cacheHits: 40,
  usage: { inputTokens: 150_000, outputTokens: 32_345 },
  costUsd: 0.01234,
  unpricedModels: [],
  elapsedMs: 20_000,
  ...over,
});

describe('batch progress', () => {
  it('shows done/total, rate, ETA, tokens, cost, failures and cache hits', () => {
    // 100 finished in 20 s = 5/s; 300 - 120 done - 1 bad line = 179 left ≈ 36 s
    expect(progressText(stats(), colors)).toBe('120/300 (40%) · 5.0 items/s · ETA 35.8 s · 182.3k tok · $0.0123 · 4 failed · 40 cached · 1 bad line');
  });

  it('shows the concurrency limit in force for each provider (an auto limit moves while the batch runs)', () => {
    const text = progressText(stats({ invalid: 2, concurrency: { together: 48, groq: 16 } }), colors);
    expect(text).toMatch(/· 2 bad lines · calls at once: groq ≤16, together ≤48$/);
  });

  it('plain output: a start line, bad lines and failures as they happen, no redraw codes', () => {
    const written: string[] = [];
    const view = createBatchProgress({ write: (text) => written.push(text), isTTY: false }, colors, { intervalMs: 60_000 });
    view.onEvent({ type: 'batch-start', stats: stats() });
    view.onEvent({ type: 'input-error', line: 7, message: 'not valid JSON', stats: stats() });
    view.onEvent({ type: 'item-error', id: 'q9', error: { name: 'X', code: 'layer_failed', message: 'boom' }, stats: stats() });
    view.finish();
    expect(written.join('')).toBe('moa batch: 300 items in the input\nmoa batch: input line 7: not valid JSON (skipped)\nmoa batch: item "q9" failed: boom\n');
  });

  it('on a terminal, redraws one line cut to its width', () => {
    const written: string[] = [];
    const view = createBatchProgress({ write: (text) => written.push(text), isTTY: true, columns: 60 }, colors, { redrawMs: 60_000 });
    view.onEvent({ type: 'batch-start', stats: stats() });
    view.onEvent({ type: 'item-error', id: 'q9', error: { name: 'X', code: 'x', message: 'boom' }, stats: stats() });
    view.finish();
    const redraws = written.filter((text) => text.startsWith('\r\x1b[2K') && text.length > 5);
    expect(redraws.length).toBeGreaterThan(0);
    for (const line of redraws) expect(line.replace('\r\x1b[2K', '').length).toBeLessThanOrEqual(59);
    expect(written.join('')).toContain('moa batch: item "q9" failed: boom\n');
  });

  it('the summary line says what to do next', () => {
    const summary: BatchSummary = { ...stats(), stoppedBy: 'budget', notStarted: 180, outputPath: 'out.jsonl', repairs: [] };
    const line = batchSummaryLine(summary, colors);
    expect(line).toMatch(/^moa batch: 96 done, 4 failed, 20 already done, 1 bad input lines, 180 not started in 20\.0 s/);
    expect(line).toMatch(/40 cache hits · 150,000 in \+ 32,345 out tokens · \$0\.0123 → out\.jsonl — budget reached: run the same command again to continue$/);
  });
});
