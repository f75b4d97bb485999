/** Human-readable numbers, for the terminal and the web page alike (no `node:` imports). */

/** "850 ms", "1.5 s", "2 min 5 s"; "–" when unknown. */
export function formatDuration(milliseconds: number | undefined): string {
  if (milliseconds === undefined || !Number.isFinite(milliseconds)) return '–';
  if (milliseconds < 1000) return `${Math.round(milliseconds)} ms`;
  if (milliseconds < 60_000) return `${(milliseconds / 1000).toFixed(1)} s`;
  const minutes = Math.floor(milliseconds / 60_000);
  return `${minutes} min ${Math.round((milliseconds % 60_000) / 1000)} s`;
}

export function formatCount(count: number): string {
  return count.toLocaleString('en-US');
}

/** `1 proposer`, `3 proposers`, `1 layer`, `2 layers` (`pluralNoun` for irregular nouns). */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${formatCount(count)} ${count === 1 ? noun : pluralNoun}`;
}

/** "123 in · 45 out" (a `Usage`, described here so util imports nothing above it) */
export function formatUsage(usage: { inputTokens: number; outputTokens: number }): string {
  return `${formatCount(usage.inputTokens)} in · ${formatCount(usage.outputTokens)} out`;
}
