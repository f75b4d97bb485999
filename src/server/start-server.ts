/**
 * Listen on a host and port with @hono/node-server. `close()` drains: it refuses
 * new runs (503; `/healthz` answers 503 "draining", so the listener stays open
 * for it), lets the runs in flight finish for up to `drainTimeoutMs`, then
 * cancels what is left, stops listening, closes every connection and releases
 * the registry.
 *
 * A port in use, a host that is not an address of this machine or that does not
 * resolve rejects with a ConfigError (code `port_in_use`, `port_not_permitted`,
 * `host_unavailable`, `host_unresolvable`, `invalid_host`) saying which.
 */
import { isIP, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { networkInterfaces } from 'node:os';
import { serve } from '@hono/node-server';
import { loadConfig, type LoadedConfig } from '../node/load-config.js';
import { ConfigError } from '../util/errors.js';
import { DEFAULT_HOST, isHostName, isLoopbackName } from './allowed-hosts.js';
import { createApp, type AppOptions, type MoAApp } from './app.js';
import { choosePresetsForServer, type ServerPresetConfig } from '../node/preset-catalog.js';

export { DEFAULT_HOST };
export const DEFAULT_PORT = 8787;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export interface StartServerOptions extends AppOptions {
  /** 0 picks a free port. */
  port?: number;
  /** How long close() lets runs in flight finish (default 10 s). */
  drainTimeoutMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  host: string;
  moa: MoAApp;
  /** Drain (see above) and stop; resolves once everything is closed. Safe to call twice. */
  close(options?: { drainTimeoutMs?: number }): Promise<{ drained: boolean }>;
}

function isLoaded(config: LoadedConfig | ServerPresetConfig): config is LoadedConfig {
  return typeof (config as LoadedConfig).resolve === 'function';
}

export function isLoopbackHost(host: string): boolean {
  return isLoopbackName(host);
}

/** The host to listen on, brackets dropped (`[::1]` → `::1`); anything that is neither an IP nor a host name is refused before any lookup. */
export function listenHostOf(host: string): string {
  const bare = host.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(bare) !== 0 || isHostName(bare)) return bare;
  throw new ConfigError(
    `host "${host}" is not an IP address or a host name: give just the address to listen on, e.g. 127.0.0.1 (this machine only) or 0.0.0.0 (every interface)`,
    { code: 'invalid_host', path: 'host' },
  );
}

function machineAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((entries) => entries ?? [])
    .map((entry) => entry.address);
}

/**
 * What a failed listen means, in words a user can act on (a ConfigError whose message starts with
 * "port …" or "host …"), or the error itself when it is something else.
 */
export function listenFailure(error: unknown, host: string, port: number): unknown {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'EADDRINUSE':
      return new ConfigError(`port ${port} is in use`, { code: 'port_in_use', path: 'port', cause: error });
    case 'EACCES':
      return new ConfigError(`port ${port} may not be opened by this user (ports below 1024 usually need privileges)`, {
        code: 'port_not_permitted',
        path: 'port',
        cause: error,
      });
    case 'EADDRNOTAVAIL':
      return new ConfigError(`host ${host} is not an address of this machine (its addresses: ${machineAddresses().join(', ')}; 0.0.0.0 listens on all of them)`, {
        code: 'host_unavailable',
        path: 'host',
        cause: error,
      });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_FAIL':
    case 'EAI_NONAME':
    case 'EAI_NODATA':
      return new ConfigError(`host ${host} does not resolve to an address (${code})`, { code: 'host_unresolvable', path: 'host', cause: error });
    default:
      return error;
  }
}

/**
 * Start the HTTP server (OpenAI Chat Completions and Responses, Anthropic Messages, MCP, the live
 * page) on `host`:`port` (default 127.0.0.1:8787), with `config` or else loadConfig({ env }) and
 * this machine's default preset. Listen failures reject with a ConfigError that says why.
 *
 * @example
 * ```ts
 * import { startServer } from 'moa-engine/server';
 *
 * const server = await startServer({ port: 0 }); // 0: a free port; the bearer key is $MOA_API_KEY, if set
 * console.log(`OpenAI-compatible API at ${server.url}/v1`);
 * process.once('SIGINT', () => {
 *   void server.close().then(({ drained }) => console.log(drained ? 'stopped' : 'stopped, runs cut short'));
 * });
 * ```
 */
export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const host = listenHostOf(options.host ?? DEFAULT_HOST);
  const port = options.port ?? DEFAULT_PORT;
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env });
  const machinePresets = options.machinePresets ?? (isLoaded(config) ? await choosePresetsForServer(config, env) : undefined);
  const moa = createApp({ ...options, host, config, env, ...(machinePresets ? { machinePresets } : {}) });
  const server = await new Promise<Server>((resolve, reject) => {
    const candidate = serve({ fetch: moa.app.fetch, hostname: host, port }) as Server;
    candidate.once('error', reject);
    candidate.once('listening', () => {
      candidate.off('error', reject);
      resolve(candidate);
    });
  }).catch(async (error: unknown) => {
    await moa.close();
    throw listenFailure(error, host, port);
  });
  server.keepAliveTimeout = 30_000;
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<{ drained: boolean }> | undefined;
  const close = (closeOptions: { drainTimeoutMs?: number } = {}): Promise<{ drained: boolean }> => {
    closing ??= (async () => {
      const drainTimeoutMs = closeOptions.drainTimeoutMs ?? options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
      // Still listening while runs drain: new requests get 503 (and /healthz "draining"), not a refused connection.
      moa.beginShutdown();
      server.closeIdleConnections();
      const drained = await moa.drain(drainTimeoutMs);
      await moa.close(); // cancels whatever did not finish in time
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Let finished responses flush, then drop keep-alive and stuck connections.
      server.closeIdleConnections();
      const forced = setTimeout(() => server.closeAllConnections(), drained ? 1_000 : 0);
      await serverClosed;
      clearTimeout(forced);
      return { drained };
    })();
    return closing;
  };

  return { url: `http://${urlHost}:${address.port}`, port: address.port, host, moa, close };
}
