/**
 * Where the queue lives: `redis://[USER:PASSWORD@]HOST:PORT[/DB]` (`rediss://` for TLS), checked
 * before anything connects, so a wrong URL is a usage error (exit 2) naming the flag and the
 * expected shape. A password in the URL is registered as a secret (never printed); `display` is
 * the URL without credentials, for messages and status output.
 *
 * The server must be Redis 6.2 or newer (BullMQ's recommended minimum; the shared limits'
 * scripts rely on it too): `checkRedisVersion` turns the server's INFO into that error.
 */
import { ConfigError } from '../../util/errors.js';
import { registerSecret } from '../../util/redact.js';

export const MINIMUM_REDIS_VERSION = '6.2.0';
const DEFAULT_PORT = 6379;

export interface RedisTarget {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL without credentials: `redis://HOST:PORT/DB`. */
  display: string;
}

const SHAPE = 'redis://HOST:PORT[/DB] (rediss:// for TLS; redis://:PASSWORD@HOST:PORT when the server needs a password)';

export function parseRedisUrl(text: string, flag = '--queue'): RedisTarget {
  const usage = (problem: string): ConfigError => new ConfigError(`${flag} ${problem}; expected ${SHAPE}`, { code: 'usage', path: flag });
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Unparsed, the credentials cannot be told apart: leave out whatever stands before an "@".
    return throwError(usage(`"${text.replace(/\/\/[^/]*@/, '//[credentials]@')}" is not a URL`));
  }
  // The password first: every message below may show the URL.
  const password = url.password ? decodeURIComponent(url.password) : undefined;
  registerSecret(password);
  const shown = password ? text.replace(url.password, '[redacted]') : text;
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') throw usage(`"${shown}" is not a Redis URL (it starts with ${url.protocol}//)`);
  if (!url.hostname) throw usage(`"${shown}" names no host`);
  const port = url.port === '' ? DEFAULT_PORT : Number(url.port);
  const path = url.pathname.replace(/^\//, '');
  if (path !== '' && !/^\d+$/.test(path)) throw usage(`"${shown}": the path must be a database number (found "/${path}")`);
  const db = path === '' ? 0 : Number(path);
  if (url.search || url.hash) throw usage(`"${shown}" has a query or fragment, which is not read`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  const username = url.username ? decodeURIComponent(url.username) : undefined;
  return {
    host,
    port,
    db,
    ...(username ? { username } : {}),
    ...(password ? { password } : {}),
    tls: url.protocol === 'rediss:',
    display: `${url.protocol}//${url.hostname}:${port}/${db}`,
  };
}

function throwError(error: Error): never {
  throw error;
}

/** "7.0.15" → [7, 0, 15]; missing parts are 0. */
function versionParts(version: string): number[] {
  return version.split('.').map((part) => Number.parseInt(part, 10) || 0);
}

export function isVersionBelow(version: string, minimum: string): boolean {
  const have = versionParts(version);
  const need = versionParts(minimum);
  for (let index = 0; index < Math.max(have.length, need.length); index++) {
    const difference = (have[index] ?? 0) - (need[index] ?? 0);
    if (difference !== 0) return difference < 0;
  }
  return false;
}

/** The `redis_version` of an INFO reply; throws the usage error when it is missing or too old. */
export function checkRedisVersion(info: string, target: Pick<RedisTarget, 'display'>, flag = '--queue'): string {
  const version = /^redis_version:(\S+)/m.exec(info)?.[1];
  if (version === undefined) {
    throw new ConfigError(`${flag} ${target.display} did not say its version (INFO server has no redis_version): is it a Redis server?`, {
      code: 'redis_version',
      path: flag,
    });
  }
  if (isVersionBelow(version, MINIMUM_REDIS_VERSION)) {
    throw new ConfigError(
      `${flag} ${target.display} runs Redis ${version}; the queue needs Redis ${MINIMUM_REDIS_VERSION} or newer (BullMQ and the shared provider limits rely on it). Upgrade the server, or point ${flag} at a newer one`,
      { code: 'redis_version', path: flag },
    );
  }
  return version;
}
