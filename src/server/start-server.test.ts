import { describe, expect, it } from 'vitest';
import { ConfigError } from '../util/errors.js';
import { listenFailure, listenHostOf } from './start-server.js';

function errno(code: string, syscall: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${syscall} ${code}`), { code, syscall });
}

describe('listenFailure', () => {
  // A name that does not resolve is not tried for real: the lookup would leave this machine.
  it('words a name that does not resolve as a host problem', () => {
    for (const code of ['ENOTFOUND', 'EAI_AGAIN']) {
      const failure = listenFailure(errno(code, 'getaddrinfo'), 'nosuch.example', 8787);
      expect(failure).toBeInstanceOf(ConfigError);
      expect(failure).toMatchObject({ code: 'host_unresolvable', path: 'host', message: `host nosuch.example does not resolve to an address (${code})` });
    }
  });

  it('words a port in use or not permitted as a port problem, and leaves other errors alone', () => {
    expect(listenFailure(errno('EADDRINUSE', 'listen'), '127.0.0.1', 8787)).toMatchObject({ code: 'port_in_use', path: 'port', message: 'port 8787 is in use' });
    expect(listenFailure(errno('EACCES', 'listen'), '127.0.0.1', 80)).toMatchObject({ code: 'port_not_permitted', path: 'port' });
    const other = errno('EMFILE', 'listen');
    expect(listenFailure(other, '127.0.0.1', 8787)).toBe(other);
  });
});

describe('listenHostOf', () => {
  it('takes IPs (brackets dropped) and host names, and refuses the rest before any lookup', () => {
    expect(listenHostOf('[::1]')).toBe('::1');
    expect(listenHostOf('0.0.0.0')).toBe('0.0.0.0');
    expect(listenHostOf('my-box.lan')).toBe('my-box.lan');
    for (const bad of ['http://localhost', '127.0.0.1:8787', 'my host', '', '[::1]x']) {
      expect(() => listenHostOf(bad), bad).toThrow(ConfigError);
    }
  });
});
