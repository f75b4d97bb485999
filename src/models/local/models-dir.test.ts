import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../util/errors.js';
import { checkGgufFile } from './gguf-file.js';
import { modelsDir, resolveLocalModelPath } from './models-dir.js';

const folder = mkdtempSync(join(tmpdir(), 'moa-models-dir-'));
afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe('modelsDir', () => {
  it('is MOA_MODELS_DIR (with ~ expanded), else ~/.cache/moa/models', () => {
    expect(modelsDir({ MOA_MODELS_DIR: '/srv/models' })).toBe(resolve('/srv/models'));
    expect(modelsDir({ MOA_MODELS_DIR: '~/m', HOME: '/home/ada' })).toBe(join('/home/ada', 'm'));
    expect(modelsDir({ HOME: '/home/ada' })).toBe(join('/home/ada', '.cache', 'moa', 'models'));
    expect(modelsDir({ MOA_MODELS_DIR: '  ', HOME: '/home/ada' })).toBe(join('/home/ada', '.cache', 'moa', 'models'));
  });
});

describe('resolveLocalModelPath', () => {
  const env = { MOA_MODELS_DIR: folder, HOME: '/home/ada' };
  it('looks a bare name up in the models folder, adding .gguf only when that file exists', () => {
    expect(resolveLocalModelPath('model.gguf', env)).toBe(join(folder, 'model.gguf'));
    expect(resolveLocalModelPath('absent', env)).toBe(join(folder, 'absent'));
    writeFileSync(join(folder, 'present.gguf'), 'GGUF');
    expect(resolveLocalModelPath('present', env)).toBe(join(folder, 'present.gguf'));
  });
  it('uses a path as is (absolute, relative to the working directory, or ~)', () => {
    expect(resolveLocalModelPath('/opt/m.gguf', env)).toBe(resolve('/opt/m.gguf'));
    expect(resolveLocalModelPath('./m.gguf', env)).toBe(resolve('m.gguf'));
    expect(resolveLocalModelPath('sub/m.gguf', env)).toBe(resolve('sub/m.gguf'));
    expect(resolveLocalModelPath('~/m.gguf', env)).toBe(join('/home/ada', 'm.gguf'));
  });
});

describe('checkGgufFile', () => {
  it('accepts a file that starts with GGUF and returns its size', () => {
    const path = join(folder, 'ok.gguf');
    writeFileSync(path, Buffer.concat([Buffer.from('GGUF'), Buffer.alloc(12)]));
    expect(checkGgufFile(path, 'local:ok.gguf', { MOA_MODELS_DIR: folder })).toBe(16);
  });
  it('names the missing file, the models folder and moa pull', () => {
    const path = join(folder, 'missing.gguf');
    let error: unknown;
    try {
      checkGgufFile(path, 'local:missing.gguf', { MOA_MODELS_DIR: folder });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).code).toBe('local_model_missing');
    expect((error as Error).message).toContain(path);
    expect((error as Error).message).toContain('moa pull');
    expect((error as Error).message).toContain('MOA_MODELS_DIR');
  });
  it('explains a file that is not GGUF: other bytes, a Git LFS pointer, an HTML page, an empty file, a folder', () => {
    const cases: Array<[string, string | Buffer, RegExp]> = [
      ['weights.safetensors', Buffer.from([0x10, 0, 0, 0, 0x7b, 0x22]), /not a GGUF file .*starts with/],
      ['pointer.gguf', 'version https://git-lfs.github.com/spec/v1\noid sha256:abc\n', /Git LFS pointer/],
      ['page.gguf', '<!doctype html><html>', /HTML page/],
      ['empty.gguf', '', /it is empty/],
    ];
    for (const [name, content, pattern] of cases) {
      const path = join(folder, name);
      writeFileSync(path, content);
      expect(() => checkGgufFile(path, `local:${name}`), name).toThrow(pattern);
      expect(() => checkGgufFile(path, `local:${name}`), name).toThrow(path);
    }
    expect(() => checkGgufFile(folder, 'local:folder')).toThrow(/is a folder/);
  });
});
