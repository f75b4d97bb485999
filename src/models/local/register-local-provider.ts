/** Imported for its effect: adds the `local` provider type (GGUF files through node-llama-cpp) to this process's registries. */
import { registerHostProviderType } from '../host-provider-types.js';
import { createLocalModelFactory } from './local-provider.js';

registerHostProviderType('local', (connection) => createLocalModelFactory({ env: connection.env ?? process.env, providerName: connection.name }));
