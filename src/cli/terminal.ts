/** Colours (NO_COLOR / FORCE_COLOR honoured), live-terminal detection, stdin reading and small formatters for the CLI. */
import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export function colorsFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): Colors {
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  const disabled = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return pc.createColors(forced || (!disabled && Boolean(stream.isTTY) && env.TERM !== 'dumb'));
}

/**
 * True when `stream` is a terminal that can redraw (cursor movement): a TTY whose TERM is not
 * "dumb" (Emacs shell buffers, some CI logs). Everything else gets plain lines.
 */
export function isLiveTerminal(stream: { isTTY?: boolean }, env: Record<string, string | undefined> = process.env): boolean {
  return Boolean(stream.isTTY) && env.TERM !== 'dumb';
}

export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms % 60_000) / 1000)} s`;
}

export function formatCount(value: number): string {
  return value.toLocaleString('en-US');
}

/** `1 proposer`, `3 proposers`, `1 layer`, `2 layers` (`pluralNoun` for irregular nouns). */
export function plural(count: number, noun: string, pluralNoun = `${noun}s`): string {
  return `${formatCount(count)} ${count === 1 ? noun : pluralNoun}`;
}

/** Cut a single-line string to `width` visible characters. */
export function truncate(text: string, width: number): string {
  const line = text.replace(/[\r\n\t]+/g, ' ');
  return line.length <= width ? line : `${line.slice(0, Math.max(0, width - 1))}…`;
}
