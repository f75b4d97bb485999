/** Human-readable numbers for the page. */
import type { Usage } from '../core/events.js';

export function formatDuration(milliseconds: number | undefined): string {
  if (milliseconds === undefined || !Number.isFinite(milliseconds)) return '–';
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(milliseconds < 10_000 ? 2 : 1)} s`;
  const minutes = Math.floor(milliseconds / 60_000);
  const seconds = Math.round((milliseconds % 60_000) / 1000);
  return `${minutes} min ${seconds} s`;
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** "123 in · 45 out" */
export function formatUsage(usage: Usage): string {
  return `${formatCount(usage.inputTokens)} in · ${formatCount(usage.outputTokens)} out`;
}
