// The engine's registry knows `local:` models only once a Node entry point has added the provider type.
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../util/errors.js';
import { createModelRegistry } from './registry.js';

describe('the local provider type', () => {
  it('is missing from the engine alone, with an error that says which import adds it', async () => {
    const registry = createModelRegistry({ env: {} });
    let error: unknown;
    try {
      registry.resolve('local:tiny.gguf', 'aggregator');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).message).toContain(`runs local GGUF models, which need Node.js: import 'moa-engine/local' once`);

    await import('./local/register-local-provider.js');
    // Now the local provider itself answers: it looks for the file in the models folder.
    expect(() => createModelRegistry({ env: { MOA_MODELS_DIR: '/nonexistent-models' } }).resolve('local:tiny.gguf', 'aggregator')).toThrow(
      /file not found: \/nonexistent-models\/tiny\.gguf/,
    );
  });
});
