// The README and docs/local-models.md must name the default local model exactly as the code
// downloads it (core/machine-default.ts): one file name, one ref.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LOCAL_MODEL } from '../../src/core/machine-default.js';

const documents = ['README.md', 'docs/local-models.md'].map((path) => ({ path, text: readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8') }));

describe('the default local model in the docs', () => {
  it('every Qwen2.5-1.5B ref and file name in the docs is the one the code downloads', () => {
    for (const { path, text } of documents) {
      const refs = text.match(/hf:[^\s`"')]*qwen2\.5-1\.5b[^\s`"')]*\.gguf/gi) ?? [];
      const files = (text.match(/local:[^\s`"',)]*1\.5b[^\s`"',)]*\.gguf/gi) ?? []).map((name) => name.slice('local:'.length));
      expect(refs.length + files.length, `${path} names the default model`).toBeGreaterThan(0);
      for (const ref of refs) expect(ref, path).toBe(DEFAULT_LOCAL_MODEL.ref);
      for (const file of files) expect(file, path).toBe(DEFAULT_LOCAL_MODEL.file);
    }
  });
});
