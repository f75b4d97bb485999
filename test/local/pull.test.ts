// pullModel against a local HTTP server: full download, interrupted download resumed with a
// Range request, servers that ignore Range, checksum and GGUF checks, hf: refs via HF_ENDPOINT.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AbortedError, ConfigError } from '../../src/util/errors.js';
import { PullError, pullModel } from '../../src/models/local/index.js';
import { startModelFileServer, type ModelFileServer } from './model-file-server.js';

let server: ModelFileServer;
let dir: string;

beforeAll(async () => {
  server = await startModelFileServer();
});
afterAll(async () => {
  await server?.close();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'moa-pull-'));
  server.requests.length = 0;
  server.mode = 'normal';
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function sha256Of(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

describe('pullModel', () => {
  it('downloads a URL into the folder under its file name, reporting progress, with no .part left', async () => {
    const progress: Array<[number, number | undefined]> = [];
    const result = await pullModel(`${server.url}/files/model.gguf`, { dir, env: {}, onProgress: (received, total) => progress.push([received, total]) });
    expect(result.path).toBe(join(dir, 'model.gguf'));
    expect(result.bytes).toBe(server.payload.length);
    expect(result.sha256).toBe(server.sha256);
    expect(sha256Of(result.path)).toBe(server.sha256);
    expect(readdirSync(dir)).toEqual(['model.gguf']);
    expect(progress.at(-1)).toEqual([server.payload.length, server.payload.length]);
    expect(progress.length).toBeGreaterThan(1);
    expect(result.verified).toBe(false); // a plain URL announces no checksum
  });

  it('resumes an interrupted transfer with a Range request for the bytes it already has', async () => {
    server.mode = 'cut-once';
    const resumes: number[] = [];
    const result = await pullModel(`${server.url}/files/model.gguf`, { dir, env: {}, name: 'resumed', retryDelayMs: 0, onResume: (from) => resumes.push(from) });
    expect(result.path).toBe(join(dir, 'resumed.gguf'));
    expect(sha256Of(result.path)).toBe(server.sha256);
    const gets = server.requests.filter((request) => request.path === '/files/model.gguf');
    expect(gets).toHaveLength(2);
    expect(gets[0]?.range).toBeUndefined();
    expect(resumes).toHaveLength(1);
    expect(resumes[0]).toBeGreaterThan(0);
    expect(resumes[0]).toBeLessThan(server.payload.length);
    expect(gets[1]?.range).toBe(`bytes=${resumes[0]}-`);
    expect(result.resumedFrom).toBe(resumes[0]);
    expect(readdirSync(dir)).toEqual(['resumed.gguf']);
  });

  it('keeps the .part (never the final name) when the transfer keeps breaking, and a later pull resumes it', async () => {
    server.mode = 'always-cut';
    const failure = await pullModel(`${server.url}/files/model.gguf`, { dir, env: {}, retries: 1, retryDelayMs: 0 }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PullError);
    expect((failure as PullError).code).toBe('pull_interrupted');
    expect((failure as Error).message).toMatch(/interrupted at \d+ of \d+ bytes.*run the same command again to resume/);
    expect(existsSync(join(dir, 'model.gguf'))).toBe(false);
    const partial = statSync(join(dir, 'model.gguf.part')).size;
    expect(partial).toBeGreaterThan(0);

    server.mode = 'normal';
    server.requests.length = 0;
    const result = await pullModel(`${server.url}/files/model.gguf`, { dir, env: {} });
    expect(server.requests[0]?.range).toBe(`bytes=${partial}-`);
    expect(result.resumedFrom).toBe(partial);
    expect(sha256Of(result.path)).toBe(server.sha256);
    expect(existsSync(join(dir, 'model.gguf.part'))).toBe(false);
  });

  it('starts over when the server ignores Range (200 instead of 206)', async () => {
    writeFileSync(join(dir, 'no-range.gguf.part'), Buffer.from('GGUF-stale-bytes-from-another-attempt'));
    const result = await pullModel(`${server.url}/files/no-range.gguf`, { dir, env: {} });
    expect(server.requests[0]?.range).toBe('bytes=37-');
    expect(result.resumedFrom).toBeUndefined();
    expect(result.bytes).toBe(server.payload.length);
    expect(sha256Of(result.path)).toBe(server.sha256);
  });

  it('verifies a given sha256: a mismatch deletes the .part and saves nothing', async () => {
    const wrong = 'a'.repeat(64);
    const failure = await pullModel(`${server.url}/files/model.gguf`, { dir, env: {}, sha256: wrong }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(PullError);
    expect((failure as PullError).code).toBe('pull_checksum_mismatch');
    expect((failure as Error).message).toContain(server.sha256);
    expect((failure as Error).message).toContain(wrong);
    expect(readdirSync(dir)).toEqual([]);
    const ok = await pullModel(`${server.url}/files/model.gguf`, { dir, env: {}, sha256: server.sha256.toUpperCase() });
    expect(ok.verified).toBe(true);
  });

  it('refuses a download that is not GGUF (e.g. an HTML page), saving nothing', async () => {
    const failure = await pullModel(`${server.url}/files/page.gguf`, { dir, env: {} }).catch((error: unknown) => error);
    expect((failure as PullError).code).toBe('pull_not_gguf');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('pulls hf: refs from HF_ENDPOINT, following the redirect and checking X-Linked-Size / X-Linked-ETag', async () => {
    const env = { HF_ENDPOINT: `${server.url}/`, HF_TOKEN: 'hf_test_token_123456' };
    const result = await pullModel('hf:acme/tiny-GGUF/tiny.gguf#rev2', { dir, env });
    expect(result.path).toBe(join(dir, 'tiny.gguf'));
    expect(result.verified).toBe(true);
    expect(result.sha256).toBe(server.sha256);
    expect(server.requests.map((request) => request.path)).toEqual(['/acme/tiny-GGUF/resolve/rev2/tiny.gguf', '/cdn/rev2/tiny.gguf']);
    // The token goes to the Hugging Face endpoint; the CDN it redirects to is another path here but
    // the same origin, so it is sent there too: only a different origin drops it.
    expect(server.requests[0]?.authorization).toBe('Bearer hf_test_token_123456');
  });

  it('an hf: file whose announced sha256 does not match is not saved', async () => {
    const failure = await pullModel('hf:acme/tiny-GGUF/wrong-sha.gguf', { dir, env: { HF_ENDPOINT: server.url } }).catch((error: unknown) => error);
    expect((failure as PullError).code).toBe('pull_checksum_mismatch');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('reports a missing hf: file with the repository and revision to check', async () => {
    const failure = await pullModel('hf:acme/tiny-GGUF/absent.gguf', { dir, env: { HF_ENDPOINT: server.url } }).catch((error: unknown) => error);
    expect((failure as PullError).code).toBe('pull_not_found');
    expect((failure as Error).message).toMatch(/HTTP 404.*acme\/tiny-GGUF\/absent\.gguf#main/);
  });

  it('does not download again when the file is there (unless forced)', async () => {
    await pullModel(`${server.url}/files/model.gguf`, { dir, env: {} });
    server.requests.length = 0;
    const again = await pullModel(`${server.url}/files/model.gguf`, { dir, env: {} });
    expect(again.alreadyPresent).toBe(true);
    expect(again.sha256).toBe(server.sha256);
    expect(server.requests).toHaveLength(0);
    const forced = await pullModel(`${server.url}/files/model.gguf`, { dir, env: {}, force: true });
    expect(forced.alreadyPresent).toBeUndefined();
    expect(server.requests).toHaveLength(1);
  });

  it('stops on abort, keeping the .part for a resume', async () => {
    const controller = new AbortController();
    const failure = await pullModel(`${server.url}/files/model.gguf`, {
      dir,
      env: {},
      signal: controller.signal,
      onProgress: (received) => {
        if (received > 0) controller.abort();
      },
    }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AbortedError);
    expect(existsSync(join(dir, 'model.gguf'))).toBe(false);
    expect(statSync(join(dir, 'model.gguf.part')).size).toBeGreaterThan(0);
  });

  it('rejects bad refs, names and checksums as usage errors', async () => {
    await expect(pullModel('hf:only-user', { dir, env: {} })).rejects.toBeInstanceOf(ConfigError);
    await expect(pullModel(`${server.url}/files/model.gguf`, { dir, env: {}, name: '../x' })).rejects.toBeInstanceOf(ConfigError);
    await expect(pullModel(`${server.url}/files/model.gguf`, { dir, env: {}, sha256: 'xyz' })).rejects.toBeInstanceOf(ConfigError);
  });
});

/** A port on 127.0.0.1 where nothing listens (bound, then released). */
async function closedPort(): Promise<number> {
  const listener = createServer();
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const { port } = listener.address() as { port: number };
  await new Promise<void>((resolve) => listener.close(() => resolve()));
  return port;
}

describe('pullModel: a failed download says why (not just "fetch failed")', () => {
  it('a refused connection names the address and says nothing listens there', async () => {
    const port = await closedPort();
    const failure = (await pullModel(`http://127.0.0.1:${port}/model.gguf`, { dir, env: {}, retries: 0 }).catch((error: unknown) => error)) as PullError;
    expect(failure).toBeInstanceOf(PullError);
    expect(failure.code).toBe('pull_network_error');
    expect(failure.message).toContain(
      `Cannot download http://127.0.0.1:${port}/model.gguf: the connection to 127.0.0.1:${port} was refused (ECONNREFUSED): nothing is listening there`,
    );
    expect(failure.message).not.toContain('fetch failed');
    expect(failure.message).not.toContain('HF_ENDPOINT'); // not an hf: ref
  });

  it('an hf: ref whose HF_ENDPOINT cannot be reached names HF_ENDPOINT', async () => {
    const port = await closedPort();
    const failure = (await pullModel('hf:acme/tiny-GGUF/tiny.gguf', { dir, env: { HF_ENDPOINT: `http://127.0.0.1:${port}` }, retries: 0 }).catch(
      (error: unknown) => error,
    )) as Error;
    expect(failure.message).toContain('refused (ECONNREFUSED)');
    expect(failure.message).toContain(`hf: refs are fetched from HF_ENDPOINT=http://127.0.0.1:${port}: check it`);
  });

  it("a TLS failure says so, with OpenSSL's reason (here: https to a plain-http server)", async () => {
    const httpsUrl = `${server.url.replace(/^http:/, 'https:')}/files/model.gguf`;
    const failure = (await pullModel(httpsUrl, { dir, env: {}, retries: 0 }).catch((error: unknown) => error)) as Error;
    expect(failure.message).toMatch(
      /the TLS \(https\) connection to 127\.0\.0\.1:\d+ failed: wrong version number \(ERR_SSL_WRONG_VERSION_NUMBER\): the server does not speak https on that port/,
    );
  });

  it('an HTTP error gives the status, its text and the URL', async () => {
    const failure = (await pullModel(`${server.url}/files/absent.gguf`, { dir, env: {} }).catch((error: unknown) => error)) as PullError;
    expect(failure.code).toBe('pull_not_found');
    expect(failure.message).toBe(`Download of ${server.url}/files/absent.gguf failed: HTTP 404 Not Found. Check the URL.`);
  });

  it('a transfer cut midway says the connection was closed', async () => {
    server.mode = 'always-cut';
    const failure = (await pullModel(`${server.url}/files/model.gguf`, { dir, env: {}, retries: 0 }).catch((error: unknown) => error)) as PullError;
    expect(failure.code).toBe('pull_interrupted');
    expect(failure.message).toMatch(/was interrupted at \d+ of \d+ bytes: the connection to 127\.0\.0\.1:\d+ was closed by the other side/);
  });
});
