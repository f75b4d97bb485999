/**
 * The MoA tools (mcp-tools.ts) over stdio, for `moa mcp`: an MCP client starts the process and
 * speaks JSON-RPC on its stdin/stdout. One preset catalog and model registry for the process;
 * when the client closes stdin (or `close()` is called) runs in flight are cancelled and the
 * registry is released (local models unload).
 */
import type { Readable, Writable } from 'node:stream';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { LoadedConfig } from '../node/load-config.js';
import { createNodeHttpFetch } from '../models/node-http-fetch.js';
import { createModelRegistry } from '../models/registry.js';
import { AbortedError } from '../util/errors.js';
import { createMcpServer } from './mcp-tools.js';
import { createPresetCatalog, type MachinePresets, type PresetCatalog, type ServerPresetConfig } from '../node/preset-catalog.js';
import { createRunStore } from './run-store.js';
import type { ServerRunOptions } from './start-run.js';
import '../models/local/register-local-provider.js'; // the local: provider (GGUF through node-llama-cpp) in this Node face's registries

export interface StdioMcpOptions {
  config: LoadedConfig | ServerPresetConfig;
  machinePresets?: MachinePresets;
  env?: Record<string, string | undefined>;
  stdin?: Readable;
  stdout?: Writable;
  runOptions?: ServerRunOptions;
}

export interface StdioMcpServer {
  catalog: PresetCatalog;
  /** Resolves once the client has gone (stdin closed) or close() was called, with everything released. */
  closed: Promise<void>;
  close(): Promise<void>;
}

export async function serveMcpOverStdio(options: StdioMcpOptions): Promise<StdioMcpServer> {
  const env = options.env ?? process.env;
  const catalog = createPresetCatalog(options.config, options.machinePresets);
  const fetch = createNodeHttpFetch();
  const registry = createModelRegistry({ providers: catalog.providers, env, fetch });
  const store = createRunStore();
  const server = createMcpServer({ catalog, registry, store, runOptions: options.runOptions ?? {} });
  const transport = new StdioServerTransport(options.stdin, options.stdout);

  let release: Promise<void> | undefined;
  const releaseAll = (): Promise<void> => {
    release ??= (async () => {
      store.abortAll(new AbortedError('The MCP client went away'));
      await store.whenIdle(5_000);
      await registry.close();
      fetch.close();
    })();
    return release;
  };
  const closed = new Promise<void>((resolve) => {
    server.server.onclose = () => void releaseAll().then(resolve);
  });
  (options.stdin ?? process.stdin).once('end', () => void server.close());
  await server.connect(transport);
  return {
    catalog,
    closed,
    async close() {
      await server.close();
      await closed;
    },
  };
}
