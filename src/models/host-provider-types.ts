/**
 * Provider types that need a host the engine does not assume. `local` runs GGUF files with
 * node-llama-cpp, so it exists only on Node: `models/local/register-local-provider.ts` adds it
 * when a Node entry point is imported (moa-engine/local, /node, /server, /batch, /eval, the CLI).
 * The engine's own import graph stays free of `node:` modules (browsers, edge runtimes).
 */
import type { ModelFactory, ProviderConnection } from './model-factory.js';

export type HostProviderFactory = (connection: ProviderConnection) => ModelFactory;

const factories = new Map<'local', HostProviderFactory>();

export function registerHostProviderType(type: 'local', factory: HostProviderFactory): void {
  factories.set(type, factory);
}

export function hostProviderType(type: 'local'): HostProviderFactory | undefined {
  return factories.get(type);
}
