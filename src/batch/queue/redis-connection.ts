/**
 * Connections to the queue's Redis. `openRedis` checks the server once, before anything is
 * enqueued or taken — reachable, a Redis at all, a password if it needs one, version 6.2 or newer —
 * and turns every failure into a usage error (exit 2) that names the URL (never the password) and
 * what to do. Then `connect()` makes the long-lived clients: ioredis instances with
 * `maxRetriesPerRequest: null`, as BullMQ requires (a command waits through a reconnect instead of
 * failing), each with an error listener so a lost connection is reported once, not thrown.
 */
import { Redis, type RedisOptions } from 'ioredis';
import { ConfigError } from '../../util/errors.js';
import { redactSecrets } from '../../util/redact.js';
import { checkRedisVersion, parseRedisUrl, type RedisTarget } from './redis-url.js';

const CHECK_TIMEOUT_MS = 5_000;

export interface RedisConnection {
  target: RedisTarget;
  /** The server's redis_version. */
  version: string;
  /** A new client (BullMQ-ready). The caller closes it (`closeRedis`). */
  connect(name?: string): Redis;
}

function clientOptions(target: RedisTarget): RedisOptions {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username ? { username: target.username } : {}),
    ...(target.password ? { password: target.password } : {}),
    ...(target.tls ? { tls: {} } : {}),
  };
}

/** Why the check failed, in words a user can act on. */
function describeFailure(error: unknown, target: RedisTarget, flag: string): ConfigError {
  const message = redactSecrets(error instanceof Error ? error.message : String(error));
  const where = `${flag} ${target.display}`;
  const options = { code: 'redis_unavailable', path: flag };
  if (/NOAUTH|WRONGPASS|invalid password|invalid username/i.test(message)) {
    return new ConfigError(`${where}: the server refused the credentials (${message}); give them in the URL: redis://USER:PASSWORD@HOST:PORT`, options);
  }
  if (/ECONNREFUSED|ENOTFOUND|EAI_AGAIN|EHOSTUNREACH|ENETUNREACH|ETIMEDOUT|connect/i.test(message)) {
    return new ConfigError(`${where} is not reachable (${message}): start redis-server there, or point ${flag} at a running one`, options);
  }
  if (/DB index is out of range/i.test(message)) {
    return new ConfigError(`${where}: the server has no database ${target.db} (${message})`, options);
  }
  if (/timed out|timeout/i.test(message)) {
    return new ConfigError(`${where} did not answer within ${CHECK_TIMEOUT_MS / 1000} s (${message}): is it a Redis server?`, options);
  }
  return new ConfigError(`${where} did not answer like a Redis server (${message})`, options);
}

/** Parse the URL and check the server (see the file comment); a ConfigError when anything is wrong. */
export async function openRedis(url: string, flag = '--queue'): Promise<RedisConnection> {
  const target = parseRedisUrl(url, flag);
  // A one-off client that gives up at once: a dead server is an error now, not a silent wait.
  const probe = new Redis({
    ...clientOptions(target),
    lazyConnect: true,
    connectTimeout: CHECK_TIMEOUT_MS,
    commandTimeout: CHECK_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    enableReadyCheck: false,
    retryStrategy: () => null,
  });
  // ioredis rejects with "Connection is closed." and tells the cause only to 'error' listeners.
  let cause: unknown;
  let reached = false;
  probe.on('error', (error: unknown) => void (cause ??= error));
  probe.on('connect', () => void (reached = true));
  let version: string;
  try {
    await probe.connect();
    const info = await probe.info('server');
    version = checkRedisVersion(info, target, flag);
  } catch (error) {
    if (error instanceof ConfigError) throw error;
    const closed = error instanceof Error && /Connection is closed/i.test(error.message);
    if (closed && reached && !cause) {
      // The socket opened, then closed without a Redis reply: something else listens there.
      throw new ConfigError(`${flag} ${target.display} closed the connection without a Redis reply: is it a Redis server?`, { code: 'redis_unavailable', path: flag });
    }
    throw describeFailure(closed ? (cause ?? error) : error, target, flag);
  } finally {
    probe.disconnect();
  }
  return {
    target,
    version,
    connect(name) {
      const client = new Redis({ ...clientOptions(target), maxRetriesPerRequest: null, ...(name ? { connectionName: name } : {}) });
      // ioredis reconnects by itself; without a listener each failed attempt would be thrown as "Unhandled error event".
      client.on('error', () => undefined);
      return client;
    },
  };
}

/** QUIT when connected (pending replies arrive first), else drop the socket; never throws. */
export async function closeRedis(client: Redis): Promise<void> {
  if (client.status === 'end') return;
  if (client.status !== 'ready') {
    client.disconnect();
    return;
  }
  try {
    await client.quit();
  } catch {
    client.disconnect();
  }
}
