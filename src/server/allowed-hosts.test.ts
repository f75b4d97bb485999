import { describe, expect, it } from 'vitest';
import { ConfigError } from '../util/errors.js';
import { createHostPolicy, isWildcardAddress, parseAllowedHosts } from './allowed-hosts.js';

describe('createHostPolicy', () => {
  it('bound to loopback: the loopback names only', () => {
    const policy = createHostPolicy('127.0.0.1');
    for (const name of ['127.0.0.1', 'localhost', 'LOCALHOST.', '[::1]', '127.9.9.9']) expect(policy.allows(name), name).toBe(true);
    for (const name of ['192.0.2.1', 'evil.example', 'localhost.evil.example', 'mylocalhost']) expect(policy.allows(name), name).toBe(false);
  });

  it('bound to one address: that address (and listed names), not the loopback names', () => {
    const policy = createHostPolicy('192.0.2.7', ['moa.lan']);
    expect(policy.allows('192.0.2.7')).toBe(true);
    expect(policy.allows('moa.lan')).toBe(true);
    expect(policy.allows('localhost')).toBe(false);
    expect(policy.allows('192.0.2.8')).toBe(false);
  });

  it('bound to a wildcard: any IP and the loopback names; DNS names only when listed', () => {
    for (const listen of ['0.0.0.0', '::', '[::]', '0:0:0:0:0:0:0:0']) {
      expect(isWildcardAddress(listen), listen).toBe(true);
      const policy = createHostPolicy(listen, ['.example.test']);
      for (const name of ['192.0.2.1', '[fd00::2]', 'localhost', 'example.test', 'a.b.example.test']) expect(policy.allows(name), name).toBe(true);
      for (const name of ['rebind.example', 'example.test.evil', 'badexample.test']) expect(policy.allows(name), name).toBe(false);
    }
  });

  it('* turns the check off', () => {
    expect(createHostPolicy('127.0.0.1', ['*']).allows('anything.example')).toBe(true);
  });
});

describe('parseAllowedHosts', () => {
  it('keeps names, .domains, IPs and *, normalised', () => {
    expect(parseAllowedHosts(['Moa.Example.com.', '.lan', '192.0.2.1', '[::1]', '*'])).toEqual(['moa.example.com', '.lan', '192.0.2.1', '::1', '*']);
  });

  it('names the first entry that is not a host name', () => {
    for (const bad of ['http://moa.example.com', 'moa.example.com:8080', 'moa example', '', '.192.0.2.1', 'a/b']) {
      let error: unknown;
      try {
        parseAllowedHosts(['ok.example', bad], '--allowed-hosts');
      } catch (caught) {
        error = caught;
      }
      expect(error, bad).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toContain(`--allowed-hosts[1] "${bad}" is not a host name`);
    }
  });
});
