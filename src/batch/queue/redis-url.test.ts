import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../util/errors.js';
import { redactSecrets } from '../../util/redact.js';
import { checkRedisVersion, isVersionBelow, parseRedisUrl } from './redis-url.js';

function usageError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseRedisUrl', () => {
  it('reads host, port and database, with the defaults of a bare URL', () => {
    expect(parseRedisUrl('redis://127.0.0.1:6390/3')).toEqual({ host: '127.0.0.1', port: 6390, db: 3, tls: false, display: 'redis://127.0.0.1:6390/3' });
    expect(parseRedisUrl('redis://queue.internal')).toMatchObject({ host: 'queue.internal', port: 6379, db: 0, display: 'redis://queue.internal:6379/0' });
    expect(parseRedisUrl('rediss://[::1]:7000')).toMatchObject({ host: '::1', port: 7000, tls: true });
  });

  it('keeps the password out of display and every later message', () => {
    const target = parseRedisUrl('redis://worker:s3cret-pass@10.0.0.5:6379/1');
    expect(target).toMatchObject({ username: 'worker', password: 's3cret-pass', display: 'redis://10.0.0.5:6379/1' });
    expect(redactSecrets('connecting with s3cret-pass')).not.toContain('s3cret-pass');
    const error = usageError(() => parseRedisUrl('http://:an0ther-secret@host:1'));
    expect(error.message).not.toContain('an0ther-secret');
    expect(usageError(() => parseRedisUrl('redis://:unparsed-secret@host:99999')).message).not.toContain('unparsed-secret');
  });

  it('refuses what is not a Redis URL, naming the flag and the expected shape', () => {
    for (const [text, problem] of [
      ['localhost:6379', /not a Redis URL/],
      ['http://127.0.0.1:6379', /not a Redis URL \(it starts with http:\/\/\)/],
      ['redis://127.0.0.1:6379/queue', /path must be a database number/],
      ['redis://127.0.0.1:6379/0?timeout=1', /query or fragment/],
      ['not a url', /is not a URL/],
      ['redis://127.0.0.1:99999', /is not a URL/],
    ] as const) {
      const error = usageError(() => parseRedisUrl(text, '--queue'));
      expect(error.message).toMatch(problem);
      expect(error.message).toContain('expected redis://HOST:PORT[/DB]');
      expect(error.message.startsWith('--queue ')).toBe(true);
      expect(error.path).toBe('--queue');
    }
  });
});

describe('checkRedisVersion', () => {
  const target = { display: 'redis://127.0.0.1:6379/0' };
  it('accepts 6.2 and newer and returns the version', () => {
    expect(checkRedisVersion('# Server\r\nredis_version:7.0.15\r\nredis_mode:standalone\r\n', target)).toBe('7.0.15');
    expect(checkRedisVersion('redis_version:6.2.0\r\n', target)).toBe('6.2.0');
  });
  it('refuses an older server, saying which version it runs and which is needed', () => {
    const error = usageError(() => checkRedisVersion('# Server\r\nredis_version:5.0.7\r\n', target));
    expect(error.message).toContain('runs Redis 5.0.7');
    expect(error.message).toContain('needs Redis 6.2.0 or newer');
    expect(error.code).toBe('redis_version');
  });
  it('refuses a server that does not say its version', () => {
    expect(usageError(() => checkRedisVersion('# Server\r\n', target)).message).toMatch(/is it a Redis server/);
  });
  it('compares versions part by part', () => {
    expect(isVersionBelow('6.0.16', '6.2.0')).toBe(true);
    expect(isVersionBelow('6.10.0', '6.2.0')).toBe(false);
    expect(isVersionBelow('7.0', '6.2.0')).toBe(false);
    expect(isVersionBelow('6.2.0', '6.2.0')).toBe(false);
  });
});
