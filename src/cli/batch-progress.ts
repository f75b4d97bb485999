/**
 * Progress of a batch on stderr: a redrawn bar on a TTY (done/total, rate, ETA,
 * tokens, cost so far, failures, cache hits), plain periodic lines otherwise;
 * bad input lines and failed items are printed as they happen (the first
 * `maxMessages` of each). A fold of the runner's BatchEvents.
 */
import pc from 'picocolors';
import type { BatchEvent, BatchStats, BatchSummary } from '../batch/run-batch.js';
import { truncate, type Colors } from './terminal.js';
import { formatCount, formatDuration, plural } from '../util/format.js';

const PLAIN: Colors = pc.createColors(false);

export interface BatchProgressView {
  onEvent(event: BatchEvent): void;
  /** A message line above the bar (or among the plain lines). */
  note(text: string): void;
  /** Stop redrawing and clear the bar. */
  finish(): void;
}

interface Output {
  write(text: string): unknown;
  columns?: number;
  isTTY?: boolean;
}

export interface BatchProgressOptions {
  label?: string;
  /** Plain mode: a line every this many ms (default 10 000). */
  intervalMs?: number;
  /** TTY redraw period (default 200 ms). */
  redrawMs?: number;
  maxMessages?: number;
}

function finishedCount(stats: BatchStats): number {
  return stats.succeeded + stats.failed;
}

/** 950 → "950", 182 345 → "182.3k", 4 500 000 → "4.5M". */
function formatCompact(value: number): string {
  if (value < 1000) return String(value);
  if (value < 1_000_000) return `${(value / 1000).toFixed(1)}k`;
  return `${(value / 1_000_000).toFixed(1)}M`;
}

function formatUsd(value: number): string {
  return value >= 1 ? `$${value.toFixed(2)}` : `$${value.toFixed(4)}`;
}

/** "together ≤48" per provider: the concurrency limit in force (an `auto` limit moves while the batch runs). */
function formatConcurrency(concurrency: Record<string, number>): string {
  return Object.entries(concurrency)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([provider, limit]) => `${provider} ≤${limit}`)
    .join(', ');
}

/** "120/300 (40%) · 3.2 items/s · ETA 56 s · 12,345 tok · $0.0123 · 2 failed · 40 cached · calls at once: together ≤48" */
export function progressText(stats: BatchStats, colors: Colors): string {
  const done = stats.alreadyDone + finishedCount(stats);
  const parts: string[] = [];
  if (stats.total !== undefined) {
    const percent = stats.total > 0 ? Math.floor((done / stats.total) * 100) : 100;
    parts.push(`${formatCount(done)}/${formatCount(stats.total)} (${percent}%)`);
  } else {
    parts.push(`${formatCount(done)} done`);
  }
  const seconds = stats.elapsedMs / 1000;
  const rate = seconds > 0 ? finishedCount(stats) / seconds : 0;
  parts.push(`${rate.toFixed(rate < 10 ? 1 : 0)} items/s`);
  if (stats.total !== undefined && rate > 0) {
    const remaining = Math.max(0, stats.total - done - stats.invalid);
    parts.push(`ETA ${formatDuration((remaining / rate) * 1000)}`);
  }
  parts.push(`${formatCompact(stats.usage.inputTokens + stats.usage.outputTokens)} tok`);
  if (stats.costUsd > 0 || stats.unpricedModels.length === 0) parts.push(formatUsd(stats.costUsd));
  if (stats.failed > 0) parts.push(colors.red(`${formatCount(stats.failed)} failed`));
  if (stats.cacheHits > 0) parts.push(`${formatCount(stats.cacheHits)} cached`);
  if (stats.invalid > 0) parts.push(colors.yellow(plural(stats.invalid, 'bad line')));
  if (stats.concurrency && Object.keys(stats.concurrency).length > 0) parts.push(`calls at once: ${formatConcurrency(stats.concurrency)}`);
  return parts.join(' · ');
}

function bar(stats: BatchStats, width: number): string {
  if (stats.total === undefined || stats.total === 0) return '';
  const done = stats.alreadyDone + finishedCount(stats);
  const filled = Math.min(width, Math.round((done / stats.total) * width));
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] `;
}

/** The last line of a batch: what was done, what it cost, what to do next. */
export function batchSummaryLine(summary: BatchSummary, colors: Colors, label = 'moa batch'): string {
  const parts: string[] = [];
  parts.push(`${formatCount(summary.succeeded)} done`);
  if (summary.failed) parts.push(colors.red(`${formatCount(summary.failed)} failed`));
  if (summary.alreadyDone) parts.push(`${formatCount(summary.alreadyDone)} already done`);
  if (summary.invalid) parts.push(colors.yellow(`${formatCount(summary.invalid)} bad input lines`));
  if (summary.notStarted) parts.push(`${formatCount(summary.notStarted)} not started`);
  const head = `${label}: ${parts.join(', ')} in ${formatDuration(summary.elapsedMs)}`;
  const details = [
    `${formatCount(summary.calls)} calls`,
    `${formatCount(summary.cacheHits)} cache hits`,
    `${formatCount(summary.usage.inputTokens)} in + ${formatCount(summary.usage.outputTokens)} out tokens`,
    `${formatUsd(summary.costUsd)}${summary.unpricedModels.length ? ` (no price for ${summary.unpricedModels.join(', ')})` : ''}`,
  ];
  let tail = '';
  if (summary.stoppedBy === 'budget') tail = colors.yellow(' — budget reached: run the same command again to continue');
  else if (summary.stoppedBy === 'interrupted') tail = colors.yellow(' — interrupted: run the same command again to continue');
  else if (summary.failed) tail = ' — run the same command again to retry the failed items';
  return `${head} · ${details.join(' · ')} → ${summary.outputPath}${tail}`;
}

export function createBatchProgress(output: Output, colors: Colors, options: BatchProgressOptions = {}): BatchProgressView {
  const label = options.label ?? 'moa batch';
  const maxMessages = options.maxMessages ?? 20;
  const tty = Boolean(output.isTTY);
  let stats: BatchStats | undefined;
  let drawn = false;
  let finished = false;
  let inputMessages = 0;
  let itemMessages = 0;

  const clear = (): void => {
    if (tty && drawn) output.write('\r\x1b[2K');
    drawn = false;
  };
  const draw = (): void => {
    if (finished || !stats) return;
    const width = Math.max(40, (output.columns || 100) - 1);
    if (tty) {
      // Plain text on the redrawn line, so cutting it to the terminal's width never splits a colour code.
      const plain = progressText(stats, PLAIN);
      const text = `${label} ${width - plain.length > 40 ? bar(stats, 20) : ''}${plain}`;
      output.write(`\r\x1b[2K${truncate(text, width)}`);
      drawn = true;
    } else {
      output.write(`${label} ${bar(stats, 20)}${progressText(stats, colors)}\n`);
    }
  };
  /** A message above the bar. */
  const say = (text: string): void => {
    clear();
    output.write(`${text}\n`);
    if (tty) draw();
  };

  const timer = setInterval(draw, tty ? (options.redrawMs ?? 200) : (options.intervalMs ?? 10_000));
  timer.unref();

  return {
    onEvent(event) {
      if (finished) return;
      switch (event.type) {
        case 'batch-start':
          stats = event.stats;
          if (!tty && stats.total !== undefined) say(`${label}: ${formatCount(stats.total)} items in the input`);
          if (stats.retrying) say(`${label}: retrying ${formatCount(stats.retrying)} failed item(s) from the last run`);
          break;
        case 'input-error':
          inputMessages++;
          if (inputMessages <= maxMessages) say(colors.yellow(`${label}: input line ${event.line}: ${event.message} (skipped)`));
          else if (inputMessages === maxMessages + 1) say(colors.yellow(`${label}: more bad input lines; the summary counts them`));
          break;
        case 'item-error':
          itemMessages++;
          if (itemMessages <= maxMessages) say(colors.red(`${label}: item "${event.id}" failed: ${event.error.message}`));
          else if (itemMessages === maxMessages + 1) say(colors.red(`${label}: more items failed; see the "error" lines of the results`));
          break;
        case 'batch-end':
          stats = event.summary;
          break;
        default:
          break;
      }
    },
    note(text) {
      if (!finished) say(text);
    },
    finish() {
      if (finished) return;
      clearInterval(timer);
      clear();
      finished = true;
    },
  };
}
