/**
 * Which `Host` a request may name (the defence against DNS rebinding: a page on
 * `evil.example` whose name is re-pointed at 127.0.0.1 reaches the server as
 * "same origin", but its requests still say `Host: evil.example`).
 *
 * - Bound to loopback (the default): loopback names only (localhost, 127.x.x.x, [::1]).
 * - Bound to one address or name: that one.
 * - Bound to a wildcard (0.0.0.0, ::): any IP literal and the loopback names (an IP
 *   involves no DNS, so it cannot be rebound); DNS names must be listed.
 * - Always: the names in `allowedHosts` — exact (`moa.example.com`), a domain and its
 *   subdomains (`.example.com`), or `*` (no check: a proxy in front checks instead).
 */
import { isIP } from 'node:net';
import { ConfigError } from '../util/errors.js';

/** Where `moa serve` listens unless told otherwise: loopback only. */
export const DEFAULT_HOST = '127.0.0.1';

/** Lowercase, no trailing dot, IPv6 without brackets; the WHATWG URL parser has already canonicalised IPs. */
export function normalizeHostname(hostname: string): string {
  return hostname
    .toLowerCase()
    .replace(/\.$/, '')
    .replace(/^\[(.*)\]$/, '$1');
}

export function isLoopbackName(hostname: string): boolean {
  const name = normalizeHostname(hostname);
  return name === 'localhost' || name === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(name);
}

export function isWildcardAddress(host: string): boolean {
  const name = normalizeHostname(host);
  if (name === '0.0.0.0') return true;
  return isIP(name) === 6 && new URL(`http://[${name}]/`).hostname === '[::]';
}

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/** A DNS name as it may appear in a Host header or be listened on (labels of letters, digits, hyphens). */
export function isHostName(value: string): boolean {
  const name = value.toLowerCase().replace(/\.$/, '');
  return name.length > 0 && name.length <= 253 && name.split('.').every((label) => LABEL.test(label));
}

/**
 * Check `--allowed-hosts` entries: names or IP addresses without scheme or port, `.domain`, or `*`.
 * Returns them normalised; throws a ConfigError naming the first bad one.
 */
export function parseAllowedHosts(entries: readonly string[], path = 'allowedHosts'): string[] {
  return entries.map((entry, index) => {
    const value = entry.trim();
    if (value === '*') return value;
    const name = normalizeHostname(value);
    const bare = name.startsWith('.') ? name.slice(1) : name;
    if (isIP(bare) !== 0 ? !name.startsWith('.') : isHostName(bare)) return name;
    throw new ConfigError(
      `${path}[${index}] "${entry}" is not a host name: give names like moa.example.com, .example.com (and its subdomains), an IP address, or * (no scheme, no port)`,
      { path: `${path}[${index}]`, code: 'invalid_allowed_host' },
    );
  });
}

export interface HostPolicy {
  /** True when a request naming `hostname` (its Host header, port dropped) may be served. */
  allows(hostname: string): boolean;
}

export function createHostPolicy(listenHost: string, allowedHosts: readonly string[] = []): HostPolicy {
  const listen = normalizeHostname(listenHost);
  const any = allowedHosts.includes('*');
  const exact = new Set(allowedHosts.filter((entry) => entry !== '*' && !entry.startsWith('.')).map(normalizeHostname));
  const domains = allowedHosts.filter((entry) => entry.startsWith('.')).map((entry) => normalizeHostname(entry));
  const wildcard = isWildcardAddress(listen);
  const loopback = isLoopbackName(listen);
  return {
    allows(hostname) {
      if (any) return true;
      const name = normalizeHostname(hostname);
      if (name === listen || exact.has(name)) return true;
      if (domains.some((domain) => name === domain.slice(1) || name.endsWith(domain))) return true;
      if ((loopback || wildcard) && isLoopbackName(name)) return true;
      return wildcard && isIP(name) !== 0;
    },
  };
}
