// A local HTTP server standing in for Hugging Face / a download host, for `moa pull` tests.
// It serves one payload (GGUF magic + random bytes) with Range support, can cut the
// connection midway, ignore Range, and answer like Hugging Face (302 to a CDN path with
// X-Linked-Size / X-Linked-ETag). Every request is logged with its Range header.
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FileServerRequest {
  method: string;
  path: string;
  range: string | undefined;
  authorization: string | undefined;
}

export interface ModelFileServer {
  url: string;
  payload: Buffer;
  sha256: string;
  requests: FileServerRequest[];
  /**
   * `cut-once`: the next full or ranged response breaks after `cutAt` bytes; `always-cut`: every
   * one does; `stall`: responses send `cutAt` bytes and then nothing (the client must give up).
   */
  mode: 'normal' | 'cut-once' | 'always-cut' | 'stall';
  cutAt: number;
  close(): Promise<void>;
}

/** Payload: "GGUF" then `size - 4` random bytes (enough to be split into many chunks). */
export async function startModelFileServer(size = 256 * 1024): Promise<ModelFileServer> {
  const payload = Buffer.concat([Buffer.from('GGUF'), randomBytes(size - 4)]);
  const sha256 = createHash('sha256').update(payload).digest('hex');
  const notGguf = Buffer.from('<html>login required</html>');
  const state: ModelFileServer = {
    url: '',
    payload,
    sha256,
    requests: [],
    mode: 'normal',
    cutAt: Math.floor(size / 2),
    close: async () => undefined,
  };

  function serveBytes(request: IncomingMessage, response: ServerResponse, body: Buffer, options: { ranges: boolean }): void {
    const range = /^bytes=(\d+)-$/.exec(request.headers.range ?? '');
    let start = 0;
    if (range && options.ranges) {
      start = Number(range[1]);
      if (start >= body.length) {
        response.writeHead(416, { 'content-range': `bytes */${body.length}` });
        response.end();
        return;
      }
      response.writeHead(206, {
        'content-type': 'application/octet-stream',
        'content-length': String(body.length - start),
        'content-range': `bytes ${start}-${body.length - 1}/${body.length}`,
        'accept-ranges': 'bytes',
      });
    } else {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(body.length), 'accept-ranges': options.ranges ? 'bytes' : 'none' });
    }
    const rest = body.subarray(start);
    if (state.mode === 'stall') {
      response.write(rest.subarray(0, Math.max(1, state.cutAt - start)));
      return;
    }
    const cut = state.mode === 'always-cut' || state.mode === 'cut-once';
    if (cut && rest.length > 1) {
      if (state.mode === 'cut-once') state.mode = 'normal';
      // Send part of the body, then break the connection: the client sees a truncated transfer.
      const upTo = Math.max(1, Math.min(rest.length - 1, state.cutAt - start > 0 ? state.cutAt - start : Math.floor(rest.length / 2)));
      response.write(rest.subarray(0, upTo), () => {
        setTimeout(() => response.socket?.destroy(), 20);
      });
      return;
    }
    response.end(rest);
  }

  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    state.requests.push({ method: request.method ?? 'GET', path, range: request.headers.range, authorization: request.headers.authorization });
    if (path === '/files/model.gguf') return serveBytes(request, response, payload, { ranges: true });
    if (path === '/files/no-range.gguf') return serveBytes(request, response, payload, { ranges: false });
    if (path === '/files/page.gguf') return serveBytes(request, response, notGguf, { ranges: true });
    // Hugging Face: /<user>/<repo>/resolve/<revision>/<file> redirects to the CDN with the LFS size and sha256.
    const hf = /^\/([^/]+)\/([^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
    if (hf) {
      const [, user, repo, revision, file] = hf;
      if (user === 'acme' && repo === 'tiny-GGUF' && (file === 'tiny.gguf' || file === 'wrong-sha.gguf')) {
        const announced = file === 'wrong-sha.gguf' ? createHash('sha256').update('something else').digest('hex') : sha256;
        response.writeHead(302, {
          location: `/cdn/${revision}/${file}?signature=abc`,
          'x-linked-size': String(payload.length),
          'x-linked-etag': `"${announced}"`,
          etag: `"${announced}"`,
        });
        response.end();
        return;
      }
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('Entry not found');
      return;
    }
    if (path.startsWith('/cdn/')) return serveBytes(request, response, payload, { ranges: true });
    response.writeHead(404);
    response.end('not found');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as AddressInfo;
  state.url = `http://127.0.0.1:${address.port}`;
  state.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return state;
}
