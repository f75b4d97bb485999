// The harness starts a real redis-server on a free loopback port and stops it; checked with
// Debian's own client (redis-cli), so the check does not depend on the code under test.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startRedisServer } from '../support/redis-server.js';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('redis-server test harness', () => {
  it('starts a real Redis on a free loopback port that keeps every key, and stops it', async () => {
    const redis = await startRedisServer();
    try {
      const cli = (...args: string[]): string => execFileSync('/usr/bin/redis-cli', ['-h', '127.0.0.1', '-p', String(redis.port), ...args], { encoding: 'utf8' }).trim();
      expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
      expect(cli('PING')).toBe('PONG');
      expect(cli('SET', 'harness', 'ok')).toBe('OK');
      expect(cli('GET', 'harness')).toBe('ok');
      expect(cli('CONFIG', 'GET', 'maxmemory-policy')).toContain('noeviction');
      expect(cli('CONFIG', 'GET', 'bind')).toContain('127.0.0.1');
    } finally {
      await redis.stop();
    }
    expect(isAlive(redis.pid)).toBe(false);
    await redis.stop(); // twice is fine
  });

  it('two servers get two ports', async () => {
    const [first, second] = await Promise.all([startRedisServer(), startRedisServer()]);
    try {
      expect(first.port).not.toBe(second.port);
    } finally {
      await Promise.all([first.stop(), second.stop()]);
    }
  });
});
