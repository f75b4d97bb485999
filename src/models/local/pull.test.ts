import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../util/errors.js';
import { modelFileName, parseModelRef } from './pull.js';

describe('parseModelRef', () => {
  it('turns hf:user/repo/file.gguf into a Hugging Face resolve URL on the main revision', () => {
    const ref = parseModelRef('hf:ggml-org/models/tinyllamas/stories260K.gguf', {});
    expect(ref).toEqual({
      url: 'https://huggingface.co/ggml-org/models/resolve/main/tinyllamas/stories260K.gguf',
      fileName: 'stories260K.gguf',
      source: 'hf',
      repo: 'ggml-org/models',
      filePath: 'tinyllamas/stories260K.gguf',
      revision: 'main',
    });
  });

  it('uses HF_ENDPOINT (without a trailing slash) when it is set, and #revision', () => {
    const ref = parseModelRef('hf://bartowski/Qwen2.5-0.5B-Instruct-GGUF/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf#v1.0', { HF_ENDPOINT: 'https://hf-mirror.com/' });
    expect(ref.url).toBe('https://hf-mirror.com/bartowski/Qwen2.5-0.5B-Instruct-GGUF/resolve/v1.0/Qwen2.5-0.5B-Instruct-Q4_K_M.gguf');
    expect(ref.revision).toBe('v1.0');
  });

  it('encodes unusual characters in the path', () => {
    expect(parseModelRef('hf:a/b/my file.gguf', {}).url).toBe('https://huggingface.co/a/b/resolve/main/my%20file.gguf');
  });

  it('keeps https URLs and takes the file name from their path', () => {
    const ref = parseModelRef('https://example.com/models/llama%203.gguf?download=1', {});
    expect(ref).toEqual({ url: 'https://example.com/models/llama%203.gguf?download=1', fileName: 'llama 3.gguf', source: 'url' });
  });

  it('rejects refs that name no file, other schemes and dot segments with a ConfigError', () => {
    for (const bad of ['hf:user/repo', 'hf:user', 'ftp://example.com/x.gguf', 'just-a-name', 'hf:user/repo/../x.gguf', 'hf:user/repo/x.gguf#']) {
      expect(() => parseModelRef(bad, {}), bad).toThrow(ConfigError);
    }
  });
});

describe('modelFileName', () => {
  it('adds .gguf when missing and refuses folders', () => {
    expect(modelFileName('tiny')).toBe('tiny.gguf');
    expect(modelFileName('tiny.GGUF')).toBe('tiny.GGUF');
    expect(() => modelFileName('../evil')).toThrow(/without folders/);
    expect(() => modelFileName('a/b.gguf')).toThrow(/without folders/);
    expect(() => modelFileName('  ')).toThrow(ConfigError);
  });
});
