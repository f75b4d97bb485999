/**
 * The persistent response cache: one SQLite file (better-sqlite3, WAL mode, so
 * several processes may share it). Keys come from `responseCacheKey`
 * (core/response-cache.ts): a SHA-256 of provider, model, the full prompt,
 * sampling parameters and sample index. Values are the answer, its usage,
 * finish reason, log-probabilities and tool calls: never a key or a header.
 *
 * Default location: `$MOA_CACHE_DIR/cache.sqlite`, else
 * `$XDG_CACHE_HOME/moa/cache.sqlite`, else `~/.cache/moa/cache.sqlite`.
 */
import { mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { CachedResponse, ResponseCache } from '../core/response-cache.js';
import { ConfigError } from '../util/errors.js';

export function defaultCachePath(env: Record<string, string | undefined> = process.env): string {
  if (env.MOA_CACHE_DIR) return resolve(env.MOA_CACHE_DIR, 'cache.sqlite');
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), '.cache');
  return join(base, 'moa', 'cache.sqlite');
}

export interface SqliteResponseCache extends ResponseCache {
  readonly path: string;
  get(key: string): CachedResponse | undefined;
  set(key: string, value: CachedResponse): void;
  /** Entries stored. */
  count(): number;
  close(): void;
}

export function openResponseCache(path: string): SqliteResponseCache {
  let database: Database.Database;
  try {
    mkdirSync(dirname(path), { recursive: true });
    database = new Database(path);
    database.pragma('journal_mode = WAL');
    database.pragma('synchronous = NORMAL');
    database.pragma('busy_timeout = 5000');
    database.exec('CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, value TEXT NOT NULL, created_at INTEGER NOT NULL) WITHOUT ROWID');
  } catch (error) {
    throw new ConfigError(`Cannot open the response cache ${path}: ${(error as Error).message} (use --cache PATH or --no-cache)`, {
      code: 'cache_open',
      path: '--cache',
    });
  }
  const select = database.prepare<[string], { value: string }>('SELECT value FROM responses WHERE key = ?');
  const insert = database.prepare<[string, string, number]>('INSERT OR REPLACE INTO responses (key, value, created_at) VALUES (?, ?, ?)');
  const countAll = database.prepare<[], { count: number }>('SELECT count(*) AS count FROM responses');
  let open = true;
  return {
    path,
    get(key) {
      if (!open) return undefined;
      const row = select.get(key);
      if (!row) return undefined;
      try {
        const value = JSON.parse(row.value) as CachedResponse;
        return typeof value.text === 'string' && value.usage ? value : undefined;
      } catch {
        return undefined; // a damaged entry is a miss; the next answer replaces it
      }
    },
    set(key, value) {
      if (!open) return;
      insert.run(
        key,
        JSON.stringify({
          text: value.text,
          usage: value.usage,
          finishReason: value.finishReason,
          ...(value.topLogprobs !== undefined ? { topLogprobs: value.topLogprobs } : {}),
          // A final aggregator's tool calls are part of its answer: a hit without them would answer differently.
          ...(value.toolCalls !== undefined ? { toolCalls: value.toolCalls } : {}),
        }),
        Date.now(),
      );
    },
    count() {
      return countAll.get()?.count ?? 0;
    },
    close() {
      if (!open) return;
      open = false;
      database.close();
    },
  };
}
