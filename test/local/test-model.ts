// The real GGUF the local-model tests run: $MOA_TEST_GGUF, else ../shared/models/stories260K.gguf
// next to the repository (a 1 MB TinyStories Llama, MIT; see that folder's README). Tests that
// need it fail loudly when it is missing: they never skip silently.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const REPOSITORY = fileURLToPath(new URL('../..', import.meta.url));

export const TEST_GGUF = process.env.MOA_TEST_GGUF ? resolve(process.env.MOA_TEST_GGUF) : resolve(REPOSITORY, '..', 'shared', 'models', 'stories260K.gguf');

/** The test model's path; throws a clear error (failing the test) when the file is not there. */
export function requireTestModel(): string {
  if (!existsSync(TEST_GGUF)) {
    throw new Error(
      `LOCAL MODEL TESTS CANNOT RUN: the test model ${TEST_GGUF} is missing. ` +
        'Put stories260K.gguf (sha256 270cba1bd5109f42d03350f60406024560464db173c0e387d91f0426d3bd256d, ' +
        'from the ggml-org "models" collection on Hugging Face: tinyllamas/stories260K.gguf) there, or set MOA_TEST_GGUF to a small GGUF file.',
    );
  }
  return TEST_GGUF;
}
