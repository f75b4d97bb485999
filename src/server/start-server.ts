/**
 * Listen on a host and port with @hono/node-server. `close()` drains: it stops
 * accepting connections and new runs, lets the runs in flight finish for up to
 * `drainTimeoutMs`, then cancels what is left, closes every connection and
 * releases the registry.
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { loadConfig, type LoadedConfig } from '../core/load-config.js';
import { createApp, type AppOptions, type MoAApp } from './app.js';
import { choosePresetsForServer, type ServerPresetConfig } from './preset-catalog.js';

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8787;
export const DEFAULT_DRAIN_TIMEOUT_MS = 10_000;

export interface StartServerOptions extends AppOptions {
  host?: string;
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
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function startServer(options: StartServerOptions = {}): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  const env = options.env ?? process.env;
  const config = options.config ?? loadConfig({ env });
  const machinePresets =
    options.machinePresets ?? (isLoaded(config) ? await choosePresetsForServer(config, env) : undefined);
  const moa = createApp({ ...options, config, env, ...(machinePresets ? { machinePresets } : {}) });
  const server = await new Promise<Server>((resolve, reject) => {
    const candidate = serve({ fetch: moa.app.fetch, hostname: host, port: options.port ?? DEFAULT_PORT }) as Server;
    candidate.once('error', reject);
    candidate.once('listening', () => {
      candidate.off('error', reject);
      resolve(candidate);
    });
  }).catch(async (error: unknown) => {
    await moa.close();
    throw error;
  });
  server.keepAliveTimeout = 30_000;
  const address = server.address() as AddressInfo;
  const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  let closing: Promise<{ drained: boolean }> | undefined;
  const close = (closeOptions: { drainTimeoutMs?: number } = {}): Promise<{ drained: boolean }> => {
    closing ??= (async () => {
      const drainTimeoutMs = closeOptions.drainTimeoutMs ?? options.drainTimeoutMs ?? DEFAULT_DRAIN_TIMEOUT_MS;
      moa.beginShutdown();
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      const drained = await moa.drain(drainTimeoutMs);
      await moa.close(); // cancels whatever did not finish in time
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
