import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../util/errors.js';
import { describeNetworkFailure, modelFileName, parseModelRef, pullModel, PullError } from './pull.js';

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

/** What undici's fetch throws: TypeError("fetch failed") with the system error as its cause. */
function fetchFailed(cause: Error & Record<string, unknown>): TypeError {
  return new TypeError('fetch failed', { cause });
}
function systemError(message: string, fields: Record<string, unknown>): Error & Record<string, unknown> {
  return Object.assign(new Error(message), fields);
}

describe('describeNetworkFailure', () => {
  const url = 'https://huggingface.co/a/b/resolve/main/m.gguf';

  it('names DNS failures with the host', () => {
    const notFound = fetchFailed(systemError('getaddrinfo ENOTFOUND huggingface.co', { code: 'ENOTFOUND', syscall: 'getaddrinfo', hostname: 'huggingface.co' }));
    expect(describeNetworkFailure(notFound, url)).toBe(
      'the DNS lookup of huggingface.co failed (ENOTFOUND): the name is unknown, or this machine has no working DNS or network',
    );
    const again = fetchFailed(systemError('getaddrinfo EAI_AGAIN huggingface.co', { code: 'EAI_AGAIN', hostname: 'huggingface.co' }));
    expect(describeNetworkFailure(again, url)).toContain('(EAI_AGAIN, a temporary failure)');
  });

  it('reads the first address of a happy-eyeballs AggregateError', () => {
    const refused = fetchFailed(
      Object.assign(new AggregateError([systemError('connect ECONNREFUSED ::1:8080', { code: 'ECONNREFUSED', address: '::1', port: 8080 })], ''), {
        code: 'ECONNREFUSED',
      }) as never,
    );
    expect(describeNetworkFailure(refused, 'http://localhost:8080/m.gguf')).toBe(
      'the connection to [::1]:8080 (localhost:8080) was refused (ECONNREFUSED): nothing is listening there',
    );
  });

  it('names certificate problems and how a re-signing network is handled', () => {
    const untrusted = fetchFailed(systemError('unable to get local issuer certificate', { code: 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY' }));
    expect(describeNetworkFailure(untrusted, url)).toBe(
      "the TLS (https) connection to huggingface.co failed: unable to get local issuer certificate (UNABLE_TO_GET_ISSUER_CERT_LOCALLY): the server's certificate is not trusted here (a network that re-signs https needs its CA in NODE_EXTRA_CA_CERTS)",
    );
  });

  it('names timeouts, unreachable networks and resets', () => {
    expect(describeNetworkFailure(fetchFailed(systemError('Connect Timeout Error', { code: 'UND_ERR_CONNECT_TIMEOUT' })), url)).toBe(
      'huggingface.co did not answer in time (UND_ERR_CONNECT_TIMEOUT)',
    );
    expect(describeNetworkFailure(fetchFailed(systemError('connect ENETUNREACH', { code: 'ENETUNREACH' })), url)).toMatch(
      /^huggingface\.co cannot be reached from this machine \(ENETUNREACH/,
    );
    expect(describeNetworkFailure(fetchFailed(systemError('read ECONNRESET', { code: 'ECONNRESET' })), url)).toBe(
      'the connection to huggingface.co was closed by the other side (ECONNRESET: read ECONNRESET)',
    );
  });
});

describe('pullModel: an unreachable Hugging Face', () => {
  it('says why and points to HF_ENDPOINT for a mirror', async () => {
    const dns = fetchFailed(systemError('getaddrinfo ENOTFOUND huggingface.co', { code: 'ENOTFOUND', hostname: 'huggingface.co' }));
    const dir = mkdtempSync(join(tmpdir(), 'moa-pull-unit-'));
    const failure = (await pullModel('hf:acme/tiny-GGUF/tiny.gguf', {
      dir,
      env: {},
      retries: 0,
      fetch: async () => {
        throw dns;
      },
    }).catch((error: unknown) => error)) as PullError;
    expect(readdirSync(dir)).toEqual([]);
    rmSync(dir, { recursive: true, force: true });
    expect(failure).toBeInstanceOf(PullError);
    expect(failure.message).toBe(
      'Cannot download https://huggingface.co/acme/tiny-GGUF/resolve/main/tiny.gguf: the DNS lookup of huggingface.co failed (ENOTFOUND): the name is unknown, or this machine has no working DNS or network.' +
        ' hf: refs are fetched from https://huggingface.co; where it cannot be reached, set HF_ENDPOINT to a mirror (e.g. HF_ENDPOINT=https://hf-mirror.com).',
    );
  });
});
