/**
 * Download a GGUF model into the models folder: `hf:user/repo/file.gguf`
 * (optionally `#revision`; the host is `$HF_ENDPOINT` when set, the Hugging
 * Face convention, so mirrors work) or an `https://` URL.
 *
 * The bytes go to `<name>.part`; an interrupted download resumes from there
 * with a `Range` request (a server that ignores it is restarted from zero).
 * The size (Content-Length / Content-Range / Hugging Face's X-Linked-Size) and
 * the sha256 (given, or Hugging Face's X-Linked-ETag for LFS files) are checked
 * and the file must start with the GGUF magic before it is renamed to its final
 * name, so a half or wrong file never sits under that name.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AbortedError, ConfigError, MoAError } from '../../util/errors.js';
import { registerSecret } from '../../util/redact.js';
import { sleep } from '../../util/sleep.js';
import { hasGgufMagic } from './gguf-file.js';

type Env = Record<string, string | undefined>;
import type { FetchFunction } from '../../util/fetch-function.js';

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';
const MAX_REDIRECTS = 10;
const DEFAULT_RETRIES = 3;

export interface ModelRef {
  /** Where the file is downloaded from. */
  url: string;
  /** The file name the ref suggests (the last path segment). */
  fileName: string;
  source: 'hf' | 'url';
  /** For `hf:` refs: `user/repo`, the file's path in the repo, and the revision (default `main`). */
  repo?: string;
  filePath?: string;
  revision?: string;
}

export interface PullOptions {
  /** File name in `dir` (default: the ref's file name); `.gguf` is added when missing. */
  name?: string;
  /** The models folder (see `modelsDir(env)`). */
  dir: string;
  env: Env;
  signal?: AbortSignal;
  /** Called as bytes arrive: bytes on disk so far (resumed bytes included), and the total when known. */
  onProgress?: (received: number, total: number | undefined) => void;
  /** Called when a download continues from a partial file. */
  onResume?: (fromBytes: number) => void;
  fetch?: FetchFunction;
  /** Expected sha256 (hex); else Hugging Face's X-Linked-ETag is used when it is one. */
  sha256?: string;
  /** Download again even when the file is already there. */
  force?: boolean;
  /** Resumes attempted after an interrupted transfer within this call (default 3). */
  retries?: number;
  /** Wait before the n-th retry: n × this (default 1000 ms). */
  retryDelayMs?: number;
}

export interface PullResult {
  path: string;
  bytes: number;
  sha256: string;
  /** The sha256 was compared with a known one (given or from the server). */
  verified: boolean;
  /** The file was already there (nothing was downloaded). */
  alreadyPresent?: boolean;
  /** Bytes that came from an earlier partial download. */
  resumedFrom?: number;
}

/** A download that failed (HTTP status, size or checksum mismatch, interrupted): CLI exit 1. */
export class PullError extends MoAError {
  /** The partial file kept for resuming, when there is one. */
  readonly partialPath: string | undefined;
  constructor(code: string, message: string, options?: { cause?: unknown; partialPath?: string }) {
    super(code, message, options);
    this.name = 'PullError';
    this.partialPath = options?.partialPath;
  }
}

function hfEndpoint(env: Env): string {
  return (env.HF_ENDPOINT?.trim() || DEFAULT_HF_ENDPOINT).replace(/\/+$/, '');
}

function encodePath(path: string): string {
  return path
    .split('/')
    .map((segment) => encodeURIComponent(segment))
    .join('/');
}

/**
 * `hf:user/repo/path/file.gguf[#revision]` (also `hf://…`) →
 * `${HF_ENDPOINT ?? https://huggingface.co}/user/repo/resolve/<revision>/path/file.gguf`;
 * `https://…` (and `http://…`) URLs as they are. Anything else is a ConfigError.
 */
export function parseModelRef(ref: string, env: Env = process.env): ModelRef {
  const text = ref.trim();
  const hf = /^hf:(?:\/\/)?(.*)$/i.exec(text);
  if (hf) {
    const body = hf[1] ?? '';
    const hashIndex = body.indexOf('#');
    const pathPart = hashIndex >= 0 ? body.slice(0, hashIndex) : body;
    const revision = hashIndex >= 0 ? body.slice(hashIndex + 1) : 'main';
    const parts = pathPart.split('/').filter((segment) => segment !== '');
    const [user, repo, ...file] = parts;
    if (!user || !repo || file.length === 0 || !revision) {
      throw new ConfigError(
        `"${ref}" is not a Hugging Face model file: write hf:<user>/<repo>/<file>.gguf (optionally #<revision>), e.g. hf:ggml-org/models/tinyllamas/stories260K.gguf`,
        { code: 'pull_bad_ref' },
      );
    }
    if (parts.some((segment) => segment === '..' || segment === '.')) {
      throw new ConfigError(`"${ref}": a Hugging Face path may not contain "." or ".." segments`, { code: 'pull_bad_ref' });
    }
    const filePath = file.join('/');
    return {
      url: `${hfEndpoint(env)}/${encodePath(`${user}/${repo}`)}/resolve/${encodeURIComponent(revision)}/${encodePath(filePath)}`,
      fileName: file[file.length - 1]!,
      source: 'hf',
      repo: `${user}/${repo}`,
      filePath,
      revision,
    };
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ConfigError(`"${ref}" is neither hf:<user>/<repo>/<file>.gguf nor an https:// URL`, { code: 'pull_bad_ref' });
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(`"${ref}": only https:// (or http://) URLs and hf: refs can be pulled (got ${url.protocol})`, { code: 'pull_bad_ref' });
  }
  let fileName: string;
  try {
    fileName = decodeURIComponent(basename(url.pathname));
  } catch {
    fileName = basename(url.pathname);
  }
  return { url: url.href, fileName, source: 'url' };
}

/** The final file name: no folders, `.gguf` added when it has no such extension. */
export function modelFileName(name: string): string {
  const trimmed = name.trim();
  if (!trimmed || trimmed === '.' || trimmed === '..' || /[\\/\0]/.test(trimmed)) {
    throw new ConfigError(`"${name}" cannot be a model file name: give a plain name without folders, e.g. --name my-model.gguf`, { code: 'pull_bad_name' });
  }
  return /\.gguf$/i.test(trimmed) ? trimmed : `${trimmed}.gguf`;
}

function normalizeSha256(value: string | undefined | null): string | undefined {
  const cleaned = value?.trim().replace(/^W\//, '').replace(/^"|"$/g, '').toLowerCase();
  return cleaned && /^[0-9a-f]{64}$/.test(cleaned) ? cleaned : undefined;
}

async function hashFile(path: string, hash: Hash = createHash('sha256')): Promise<Hash> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash;
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? stats.size : undefined;
  } catch {
    return undefined;
  }
}

interface Fetched {
  response: Response;
  /** Size and sha256 announced by a Hugging Face hop (X-Linked-Size / X-Linked-ETag). */
  linkedSize: number | undefined;
  linkedSha256: string | undefined;
  finalUrl: string;
}

/** A request that failed before any answer, with the URL of the hop that failed (a redirect target, maybe). */
class FetchHopError extends Error {
  constructor(
    readonly url: string,
    override readonly cause: unknown,
  ) {
    super(cause instanceof Error ? cause.message : String(cause));
  }
}

interface NetworkCause {
  code?: string;
  message: string;
  address?: string;
  port?: number;
  hostname?: string;
}

/** The innermost error of a `cause` chain that says what happened (undici wraps it in "fetch failed"). */
function networkCause(error: unknown): NetworkCause {
  let current: unknown = error;
  let found: NetworkCause = { message: error instanceof Error ? error.message : String(error) };
  for (let depth = 0; depth < 8 && current instanceof Error; depth++) {
    const record = current as Error & { code?: unknown; address?: unknown; port?: unknown; hostname?: unknown; errors?: unknown };
    found = {
      message: record.message,
      ...(typeof record.code === 'string' ? { code: record.code } : {}),
      ...(typeof record.address === 'string' ? { address: record.address } : {}),
      ...(typeof record.port === 'number' ? { port: record.port } : {}),
      ...(typeof record.hostname === 'string' ? { hostname: record.hostname } : {}),
    };
    // Happy eyeballs: one error per address tried; the first says it.
    current = record.cause ?? (Array.isArray(record.errors) ? record.errors[0] : undefined);
  }
  return found;
}

const TLS_CODE = /^(ERR_SSL_|ERR_TLS_|ERR_OSSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_|SELF_SIGNED_|HOSTNAME_MISMATCH)/;

/**
 * Why a request to `url` got no answer, in words: DNS, refused, reset, timeout, unreachable,
 * TLS (with OpenSSL's reason), instead of undici's bare "fetch failed".
 */
export function describeNetworkFailure(error: unknown, url: string): string {
  const target = new URL(url);
  const host = target.host;
  const cause = networkCause(error);
  const code = cause.code ?? '';
  if (/^(ENOTFOUND|EAI_AGAIN|EAI_NONAME|EAI_FAIL|EAI_NODATA)$/.test(code)) {
    return `the DNS lookup of ${cause.hostname ?? target.hostname} failed (${code}${code === 'EAI_AGAIN' ? ', a temporary failure' : ''}): the name is unknown, or this machine has no working DNS or network`;
  }
  if (code === 'ECONNREFUSED') {
    const at = cause.address !== undefined && cause.port !== undefined ? `${cause.address.includes(':') ? `[${cause.address}]` : cause.address}:${cause.port}` : host;
    return `the connection to ${at}${at === host ? '' : ` (${host})`} was refused (ECONNREFUSED): nothing is listening there`;
  }
  if (/^(ECONNRESET|EPIPE|UND_ERR_SOCKET)$/.test(code)) return `the connection to ${host} was closed by the other side (${code}: ${cause.message})`;
  if (/^(ETIMEDOUT|UND_ERR_CONNECT_TIMEOUT|UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT)$/.test(code)) return `${host} did not answer in time (${code})`;
  if (/^(ENETUNREACH|EHOSTUNREACH|ENETDOWN|EHOSTDOWN)$/.test(code))
    return `${host} cannot be reached from this machine (${code}: no route to it, or the network is down)`;
  if (TLS_CODE.test(code)) {
    const reason = /SSL routines:[^:]*:([^:]+)/.exec(cause.message)?.[1] ?? cause.message;
    const hint =
      code === 'ERR_SSL_WRONG_VERSION_NUMBER' || code === 'ERR_SSL_PACKET_LENGTH_TOO_LONG'
        ? ': the server does not speak https on that port (is it an http:// address?)'
        : /CERT|UNABLE_TO|SELF_SIGNED|DEPTH_ZERO|ALTNAME|HOSTNAME/.test(code)
          ? ": the server's certificate is not trusted here (a network that re-signs https needs its CA in NODE_EXTRA_CA_CERTS)"
          : '';
    return `the TLS (https) connection to ${host} failed: ${reason} (${code})${hint}`;
  }
  if (/bad port/i.test(cause.message)) return `port ${target.port} is one that fetch refuses to use ("bad port"): choose another port`;
  return `${cause.message}${code ? ` (${code})` : ''}`;
}

/** For hf: refs, where the files come from and how to use a mirror. */
function mirrorHint(ref: ModelRef, env: Env): string {
  if (ref.source !== 'hf') return '';
  const endpoint = hfEndpoint(env);
  return env.HF_ENDPOINT?.trim()
    ? ` hf: refs are fetched from HF_ENDPOINT=${endpoint}: check it, or unset it to use ${DEFAULT_HF_ENDPOINT}.`
    : ` hf: refs are fetched from ${endpoint}; where it cannot be reached, set HF_ENDPOINT to a mirror (e.g. HF_ENDPOINT=https://hf-mirror.com).`;
}

/** GET with redirects followed by hand, to read Hugging Face's X-Linked-* headers on the hop that has them. */
async function fetchFollowing(
  fetchImpl: FetchFunction,
  ref: ModelRef,
  headers: Record<string, string>,
  auth: string | undefined,
  signal: AbortSignal | undefined,
): Promise<Fetched> {
  let url = ref.url;
  const authOrigin = new URL(ref.url).origin;
  let linkedSize: number | undefined;
  let linkedSha256: string | undefined;
  for (let hop = 0; hop <= MAX_REDIRECTS; hop++) {
    const requestHeaders: Record<string, string> = { ...headers, 'accept-encoding': 'identity' };
    // The token goes to the Hugging Face endpoint only, never to the CDN it redirects to.
    if (auth && new URL(url).origin === authOrigin) requestHeaders.authorization = `Bearer ${auth}`;
    let response: Response;
    try {
      response = await fetchImpl(url, { headers: requestHeaders, redirect: 'manual', ...(signal ? { signal } : {}) });
    } catch (error) {
      throw new FetchHopError(url, error);
    }
    const size = Number(response.headers.get('x-linked-size'));
    if (response.headers.get('x-linked-size') !== null && Number.isSafeInteger(size) && size >= 0) linkedSize = size;
    linkedSha256 = normalizeSha256(response.headers.get('x-linked-etag')) ?? linkedSha256;
    // A mirror serving the file directly: the ETag of a Hugging Face LFS file is its sha256.
    if (ref.source === 'hf' && new URL(url).origin === authOrigin && response.ok) linkedSha256 ??= normalizeSha256(response.headers.get('etag'));
    const location = response.headers.get('location');
    if ([301, 302, 303, 307, 308].includes(response.status) && location) {
      await response.body?.cancel().catch(() => undefined);
      url = new URL(location, url).href;
      continue;
    }
    return { response, linkedSize, linkedSha256, finalUrl: url };
  }
  throw new PullError('pull_redirects', `${ref.url}: more than ${MAX_REDIRECTS} redirects`);
}

function statusError(status: number, statusText: string, ref: ModelRef, url: string, env: Env): PullError {
  const hint =
    status === 401 || status === 403
      ? ref.source === 'hf'
        ? ' The repository may be gated or private: accept its terms on the Hugging Face page and set HF_TOKEN to a read token.'
        : ' The server refused the download.'
      : status === 404
        ? ref.source === 'hf'
          ? ` Check the user, repository, file path and revision (${ref.repo}/${ref.filePath}#${ref.revision}).`
          : ' Check the URL.'
        : status >= 500 || status === 429
          ? ` The server is having trouble: try again later (the partial file, if any, is kept for resuming).${mirrorHint(ref, env)}`
          : '';
  return new PullError(status === 404 ? 'pull_not_found' : 'pull_http_error', `Download of ${url} failed: HTTP ${status}${statusText ? ` ${statusText}` : ''}.${hint}`);
}

/** Content-Range: `bytes <start>-<end>/<total>`, or `bytes *\/<total>` on a 416. */
function parseContentRange(value: string | null): { start?: number; total?: number } {
  const match = value ? /^bytes\s+(?:(\d+)-\d+|\*)\/(\d+|\*)$/i.exec(value.trim()) : null;
  if (!match) return {};
  return {
    ...(match[1] !== undefined ? { start: Number(match[1]) } : {}),
    ...(match[2] !== undefined && match[2] !== '*' ? { total: Number(match[2]) } : {}),
  };
}

function isAbort(error: unknown, signal: AbortSignal | undefined): boolean {
  return Boolean(signal?.aborted) || (error instanceof Error && error.name === 'AbortError');
}

async function verifyAndFinish(
  partPath: string,
  finalPath: string,
  hash: Hash,
  bytes: number,
  expectedSha256: string | undefined,
  url: string,
): Promise<{ sha256: string; verified: boolean }> {
  const sha256 = hash.digest('hex');
  if (expectedSha256 && sha256 !== expectedSha256) {
    await rm(partPath, { force: true });
    throw new PullError(
      'pull_checksum_mismatch',
      `Download of ${url} is corrupt or not the expected file: its sha256 is ${sha256}, expected ${expectedSha256}. The partial file was deleted; nothing was saved as ${finalPath}. Run the command again to download it afresh.`,
    );
  }
  const head = Buffer.alloc(4);
  const handle = await open(partPath, 'r');
  try {
    await handle.read(head, 0, 4, 0);
  } finally {
    await handle.close();
  }
  if (!hasGgufMagic(head)) {
    await rm(partPath, { force: true });
    throw new PullError(
      'pull_not_gguf',
      `Download of ${url} is not a GGUF model (it starts with ${JSON.stringify(head.toString('latin1').replace(/[^\x20-\x7e]/g, '.'))}, not "GGUF"; ${bytes} bytes). Nothing was saved as ${finalPath}. Pull a .gguf file.`,
    );
  }
  await rename(partPath, finalPath);
  return { sha256, verified: expectedSha256 !== undefined };
}

/** Downloads `ref` into `options.dir`; see the file comment for the guarantees. */
export async function pullModel(ref: string, options: PullOptions): Promise<PullResult> {
  const parsed = parseModelRef(ref, options.env);
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const name = modelFileName(options.name ?? parsed.fileName);
  const finalPath = join(options.dir, name);
  const partPath = `${finalPath}.part`;
  const givenSha256 = options.sha256 === undefined ? undefined : normalizeSha256(options.sha256);
  if (options.sha256 !== undefined && !givenSha256) {
    throw new ConfigError(`--sha256 must be 64 hexadecimal characters (got "${options.sha256}")`, { code: 'pull_bad_sha256' });
  }
  const auth = parsed.source === 'hf' ? options.env.HF_TOKEN?.trim() || options.env.HUGGING_FACE_HUB_TOKEN?.trim() || undefined : undefined;
  registerSecret(auth);
  await mkdir(options.dir, { recursive: true });

  const existing = await fileSize(finalPath);
  if (existing !== undefined && !options.force) {
    const sha256 = (await hashFile(finalPath)).digest('hex');
    if (givenSha256 && sha256 !== givenSha256) {
      throw new PullError(
        'pull_checksum_mismatch',
        `${finalPath} is already there but its sha256 is ${sha256}, not ${givenSha256}: pull again with --force to replace it.`,
      );
    }
    return { path: finalPath, bytes: existing, sha256, verified: givenSha256 !== undefined, alreadyPresent: true };
  }

  const retries = options.retries ?? DEFAULT_RETRIES;
  let failures = 0;
  let resumedFrom: number | undefined;
  const retry = async (): Promise<boolean> => {
    if (failures >= retries) return false;
    failures++;
    try {
      await sleep((options.retryDelayMs ?? 1000) * failures, options.signal);
    } catch (error) {
      throw new AbortedError('The download was cancelled', { cause: error });
    }
    return true;
  };
  for (;;) {
    if (options.signal?.aborted) throw new AbortedError('The download was cancelled', { cause: options.signal.reason });
    let offset = (await fileSize(partPath)) ?? 0;
    let fetched: Fetched;
    try {
      fetched = await fetchFollowing(fetchImpl, parsed, offset > 0 ? { range: `bytes=${offset}-` } : {}, auth, options.signal);
    } catch (thrown) {
      const error = thrown instanceof FetchHopError ? thrown.cause : thrown;
      if (isAbort(error, options.signal)) throw new AbortedError('The download was cancelled', { cause: error });
      if (error instanceof PullError) throw error;
      if (await retry()) continue;
      const hopUrl = thrown instanceof FetchHopError ? thrown.url : parsed.url;
      throw new PullError(
        'pull_network_error',
        `Cannot download ${parsed.url}: ${describeNetworkFailure(error, hopUrl)}${hopUrl === parsed.url ? '' : ` (at ${hopUrl}, where it redirected)`}.` +
          `${offset > 0 ? ` The partial file ${partPath} is kept: run again to resume.` : ''}${mirrorHint(parsed, options.env)}`,
        { cause: error, ...(offset > 0 ? { partialPath: partPath } : {}) },
      );
    }
    const { response, linkedSize, linkedSha256 } = fetched;
    const expectedSha256 = givenSha256 ?? linkedSha256;
    const range = parseContentRange(response.headers.get('content-range'));

    if (response.status === 416 && offset > 0) {
      await response.body?.cancel().catch(() => undefined);
      const total = range.total ?? linkedSize;
      if (total === offset) {
        // The partial file already holds every byte: verify it.
        const { sha256, verified } = await verifyAndFinish(partPath, finalPath, await hashFile(partPath), offset, expectedSha256, parsed.url);
        return { path: finalPath, bytes: offset, sha256, verified, resumedFrom: offset };
      }
      await rm(partPath, { force: true }); // not a prefix of this file: start over
      continue;
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw statusError(response.status, response.statusText, parsed, fetched.finalUrl, options.env);
    }
    if (!response.body) throw new PullError('pull_empty', `Download of ${parsed.url} returned no body`);

    let append = false;
    let total: number | undefined;
    const contentLength = response.headers.get('content-length');
    const length = contentLength === null ? undefined : Number(contentLength);
    if (response.status === 206) {
      if (range.start !== offset) {
        await response.body.cancel().catch(() => undefined);
        throw new PullError('pull_bad_range', `Download of ${parsed.url}: asked to resume at byte ${offset}, the server answered from byte ${String(range.start)}`);
      }
      append = true;
      total = range.total ?? (length !== undefined ? offset + length : undefined);
    } else {
      total = length; // 200: the whole file (a server that ignores Range restarts the download)
      offset = 0;
    }
    if (linkedSize !== undefined) {
      if (total !== undefined && total !== linkedSize) {
        await response.body.cancel().catch(() => undefined);
        throw new PullError('pull_size_mismatch', `Download of ${parsed.url}: the server announced ${linkedSize} bytes but sends ${total}`);
      }
      total = linkedSize;
    }
    if (append) {
      resumedFrom = offset;
      options.onResume?.(offset);
    }

    const hash = append ? await hashFile(partPath) : createHash('sha256');
    const handle = await open(partPath, append ? 'a' : 'w');
    let received = offset;
    options.onProgress?.(received, total);
    let interrupted: unknown;
    try {
      const reader = response.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        if (total !== undefined && received + value.byteLength > total) {
          await reader.cancel().catch(() => undefined);
          await handle.close();
          await rm(partPath, { force: true });
          throw new PullError('pull_size_mismatch', `Download of ${parsed.url} is larger than the ${total} bytes announced; the partial file was deleted. Try again.`);
        }
        await handle.write(value);
        hash.update(value);
        received += value.byteLength;
        options.onProgress?.(received, total);
      }
    } catch (error) {
      if (error instanceof PullError) throw error;
      interrupted = error;
    } finally {
      await handle.close().catch(() => undefined);
    }
    if (interrupted !== undefined && isAbort(interrupted, options.signal)) {
      throw new AbortedError(`The download was cancelled; ${received} bytes are kept in ${partPath} for resuming`, { cause: interrupted });
    }
    const complete = interrupted === undefined && (total === undefined || received === total);
    if (!complete) {
      if (await retry()) continue; // resume from what is on disk
      const cause = interrupted !== undefined ? `: ${describeNetworkFailure(interrupted, fetched.finalUrl)}` : '';
      throw new PullError(
        'pull_interrupted',
        `Download of ${parsed.url} was interrupted at ${received} of ${total ?? 'unknown'} bytes${cause}. The partial file ${partPath} is kept: run the same command again to resume.`,
        { ...(interrupted !== undefined ? { cause: interrupted } : {}), partialPath: partPath },
      );
    }
    const { sha256, verified } = await verifyAndFinish(partPath, finalPath, hash, received, expectedSha256, parsed.url);
    return { path: finalPath, bytes: received, sha256, verified, ...(resumedFrom !== undefined ? { resumedFrom } : {}) };
  }
}
