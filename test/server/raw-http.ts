// One HTTP request through node:http, which (unlike fetch) lets a test set any Host header:
// how a DNS-rebinding page or a client naming the server differently reaches it.
import { request, type IncomingHttpHeaders } from 'node:http';

export interface RawResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface RawRequest {
  method?: string;
  path: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Send `raw` to the server at `baseUrl` (its address and port are where the socket goes, whatever Host says). */
export function rawRequest(baseUrl: string, raw: RawRequest): Promise<RawResponse> {
  const target = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const outgoing = request(
      {
        host: target.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: target.port,
        method: raw.method ?? 'GET',
        path: raw.path,
        headers: { ...(raw.body !== undefined ? { 'content-length': String(Buffer.byteLength(raw.body)) } : {}), ...raw.headers },
        agent: false,
      },
      (incoming) => {
        let body = '';
        incoming.setEncoding('utf8');
        incoming.on('data', (text: string) => (body += text));
        incoming.on('end', () => resolve({ status: incoming.statusCode ?? 0, headers: incoming.headers, body }));
        incoming.on('error', reject);
      },
    );
    outgoing.on('error', reject);
    outgoing.end(raw.body);
  });
}

/** The OpenAI-shaped error of a raw response (throws when the body is not one). */
export function errorOf(response: RawResponse | { body: string }): { message: string; type: string; code: string | null; param: string | null } {
  const parsed = JSON.parse(response.body) as { error?: { message: string; type: string; code: string | null; param: string | null } };
  if (!parsed.error) throw new Error(`not an error body: ${response.body}`);
  return parsed.error;
}
