import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureDefaultLocalModel } from './prepare-preset.js';
import type { CliStreams } from './run-for-cli.js';

const folders: string[] = [];
afterAll(() => {
  for (const folder of folders) rmSync(folder, { recursive: true, force: true });
});

/** An empty models folder, removed after the tests. */
function modelsFolder(): string {
  const folder = mkdtempSync(join(tmpdir(), 'moa-prepare-'));
  folders.push(folder);
  return folder;
}

function streams(env: Record<string, string>): CliStreams & { errText: () => string } {
  let text = '';
  const sink = (append: boolean) =>
    new Writable({
      write(chunk, _encoding, done) {
        if (append) text += String(chunk);
        done();
      },
    });
  return { stdout: sink(false) as unknown as CliStreams['stdout'], stderr: sink(true) as unknown as CliStreams['stderr'], env, errText: () => text };
}

describe('ensureDefaultLocalModel', () => {
  it('on a terminal, asks before downloading and downloads nothing when told no', async () => {
    const io = streams({ MOA_MODELS_DIR: modelsFolder(), HF_ENDPOINT: 'http://127.0.0.1:9' });
    const questions: string[] = [];
    await expect(ensureDefaultLocalModel({}, io, { interactive: true, ask: async (question) => (questions.push(question), 'n') })).rejects.toMatchObject({
      code: 'model_not_downloaded',
      message: expect.stringContaining('moa pull hf:Qwen/'),
    });
    expect(questions).toHaveLength(1);
    expect(questions[0]).toMatch(/Download the default local model.*\[Y\/n\]/);
  });

  it('does nothing when the model is already in the models folder (no question, no download)', async () => {
    const dir = modelsFolder();
    writeFileSync(join(dir, 'qwen2.5-1.5b-instruct-q4_k_m.gguf'), 'GGUF');
    const io = streams({ MOA_MODELS_DIR: dir });
    await ensureDefaultLocalModel({}, io, { interactive: true, ask: async () => expect.unreachable('must not ask') });
    expect(io.errText()).toBe('');
  });

  it('MOA_YES=1 downloads without asking (here from an unreachable hub, so the download error surfaces)', async () => {
    const io = streams({ MOA_MODELS_DIR: modelsFolder(), MOA_YES: '1', HF_ENDPOINT: 'http://127.0.0.1:9' });
    await expect(ensureDefaultLocalModel({ quiet: true }, io, { interactive: true, ask: async () => expect.unreachable('must not ask') })).rejects.toThrow(
      /127\.0\.0\.1:9|connect|fetch/i,
    );
  });
});
