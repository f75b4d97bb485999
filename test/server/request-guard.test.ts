// The default server (loopback, no MOA_API_KEY) must not be usable by the web pages its user visits:
// a body that is not JSON gets 415 (browsers send text/plain and forms across sites without a preflight),
// an Origin other than the server's own gets 403, and so does a Host that is not the server's
// (DNS rebinding). Each refusal happens before any model is called: the fake provider's log stays empty.
import { describe, expect, it } from 'vitest';
import { errorOf, rawRequest, type RawResponse } from './raw-http.js';
import { useServerSuite, type ServerSuite } from './server-suite.js';

const chatBody = JSON.stringify({ model: 'solo', messages: [{ role: 'user', content: 'Spend my credits' }] });

function post(suite: ServerSuite, path: string, headers: Record<string, string>, body = chatBody): Promise<RawResponse> {
  return rawRequest(suite.url, { method: 'POST', path, headers, body });
}

function expectRefused(response: RawResponse, status: number, code: string, hint: RegExp): void {
  expect(response.status, response.body).toBe(status);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  const error = errorOf(response);
  expect(Object.keys(error).sort()).toEqual(['code', 'message', 'param', 'type']);
  expect(error).toMatchObject({ code, type: 'invalid_request_error', param: null });
  expect(error.message).toMatch(hint);
}

describe('the default server (loopback, no key)', () => {
  const suite = useServerSuite();
  const port = (): string => new URL(suite.url).port;

  describe('request bodies must be JSON', () => {
    const notJson = [
      'text/plain;charset=UTF-8',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/json; charset=latin1',
      'application/jsonx',
    ];
    for (const type of notJson) {
      it(`refuses Content-Type ${type} with 415 and calls no model`, async () => {
        for (const path of ['/v1/chat/completions', '/api/runs']) {
          expectRefused(await post(suite, path, { 'content-type': type }), 415, 'unsupported_media_type', /Content-Type: application\/json/);
        }
        expect(suite.fake.log).toEqual([]);
      });
    }

    it('refuses a body sent without any Content-Type', async () => {
      const response = await post(suite, '/v1/chat/completions', {});
      expectRefused(response, 415, 'unsupported_media_type', /no Content-Type/);
      expect(suite.fake.log).toEqual([]);
    });

    it('accepts application/json, with or without charset=utf-8', async () => {
      for (const type of ['application/json', 'application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"']) {
        const response = await post(suite, '/v1/chat/completions', { 'content-type': type });
        expect(response.status, `${type}: ${response.body}`).toBe(200);
      }
      expect(suite.fake.log.filter((entry) => entry.model === 'aggregator')).toHaveLength(3);
    });
  });

  describe('Origin', () => {
    const json = { 'content-type': 'application/json' };

    it('refuses requests from pages at other origins with 403 before calling any model', async () => {
      for (const origin of ['https://evil.example', `http://127.0.0.1:${Number(port()) + 1}`, 'http://localhost:3000', 'null']) {
        for (const path of ['/v1/chat/completions', '/api/runs']) {
          const response = await post(suite, path, { ...json, origin });
          expectRefused(response, 403, 'origin_not_allowed', /--cors/);
          expect(response.headers['access-control-allow-origin']).toBeUndefined();
        }
        // Reading is refused too (and a sandboxed page's `null` is not "same origin").
        expectRefused(await rawRequest(suite.url, { path: '/v1/models', headers: { origin } }), 403, 'origin_not_allowed', /--cors/);
      }
      expect(suite.fake.log).toEqual([]);
    });

    it("lets the server's own page through: its origin, or null from a same-origin page under no-referrer", async () => {
      const sameOrigin: Array<Record<string, string>> = [
        { origin: `http://127.0.0.1:${port()}` },
        { origin: `http://localhost:${port()}`, host: `localhost:${port()}` },
        { origin: 'null', 'sec-fetch-site': 'same-origin' },
      ];
      for (const headers of sameOrigin) {
        const response = await post(suite, '/v1/chat/completions', { ...json, ...headers });
        expect(response.status, `${JSON.stringify(headers)}: ${response.body}`).toBe(200);
      }
      // A sandboxed frame elsewhere also sends null, but says cross-site.
      expectRefused(await post(suite, '/api/runs', { ...json, origin: 'null', 'sec-fetch-site': 'cross-site' }), 403, 'origin_not_allowed', /--cors/);
    });
  });

  describe('Host (DNS rebinding)', () => {
    it('refuses a Host that does not name this server, on every route, before calling any model', async () => {
      for (const host of [`rebind.example:${port()}`, 'rebind.example', 'localhost.evil.example', `192.0.2.1:${port()}`]) {
        const response = await post(suite, '/v1/chat/completions', { 'content-type': 'application/json', host });
        expectRefused(response, 403, 'host_not_allowed', /--allowed-hosts/);
        for (const path of ['/', '/healthz', '/v1/models', '/api/runs/run_x']) {
          expect((await rawRequest(suite.url, { path, headers: { host } })).status, `${host} ${path}`).toBe(403);
        }
      }
      expect(suite.fake.log).toEqual([]);
    });

    it('answers to the loopback names, in any spelling', async () => {
      for (const host of [`127.0.0.1:${port()}`, `localhost:${port()}`, `LocalHost.:${port()}`, `[::1]:${port()}`, '127.0.0.2', 'localhost']) {
        const response = await rawRequest(suite.url, { path: '/v1/models', headers: { host } });
        expect(response.status, `${host}: ${response.body}`).toBe(200);
      }
      const page = await rawRequest(suite.url, { path: '/', headers: { host: `localhost:${port()}` } });
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
    });
  });
});

describe('with allowedHosts (--allowed-hosts)', () => {
  const suite = useServerSuite({ allowedHosts: ['moa.example.test', '.lan.test'] });

  it('answers to the listed names (a leading dot: the domain and its subdomains) and still refuses others', async () => {
    for (const host of ['moa.example.test', 'MOA.example.test:8080', 'lan.test', 'box.lan.test', 'localhost']) {
      expect((await rawRequest(suite.url, { path: '/v1/models', headers: { host } })).status, host).toBe(200);
    }
    for (const host of ['example.test', 'other.moa.example.test', 'evillan.test']) {
      expect((await rawRequest(suite.url, { path: '/v1/models', headers: { host } })).status, host).toBe(403);
    }
  });
});

describe('bound to a wildcard address (0.0.0.0)', () => {
  const suite = useServerSuite({ host: '0.0.0.0' });
  const local = (): string => `http://127.0.0.1:${new URL(suite.url).port}`;

  it('answers to any IP address and the loopback names, but DNS names must be listed', async () => {
    for (const host of ['192.0.2.1', '10.1.2.3:8787', '[fd00::9]:8787', 'localhost', '127.0.0.1']) {
      expect((await rawRequest(local(), { path: '/v1/models', headers: { host } })).status, host).toBe(200);
    }
    for (const host of ['moa.example.test', 'rebind.example:8787', '192.0.2.1.nip.example']) {
      const response = await rawRequest(local(), { path: '/v1/models', headers: { host } });
      expectRefused(response, 403, 'host_not_allowed', /--allowed-hosts/);
    }
  });
});

describe('with MOA_API_KEY the same checks still apply', () => {
  const KEY = 'moa-guard-key-0123456789';
  const suite = useServerSuite({ apiKey: KEY });
  const auth = { authorization: `Bearer ${KEY}` };

  it('refuses a non-JSON body, another origin and another Host even with the right key', async () => {
    expectRefused(await post(suite, '/v1/chat/completions', { ...auth, 'content-type': 'text/plain' }), 415, 'unsupported_media_type', /application\/json/);
    expectRefused(
      await post(suite, '/v1/chat/completions', { ...auth, 'content-type': 'application/json', origin: 'https://evil.example' }),
      403,
      'origin_not_allowed',
      /--cors/,
    );
    expectRefused(
      await post(suite, '/v1/chat/completions', { ...auth, 'content-type': 'application/json', host: 'rebind.example' }),
      403,
      'host_not_allowed',
      /--allowed-hosts/,
    );
    expect(suite.fake.log).toEqual([]);
    const ok = await post(suite, '/v1/chat/completions', { ...auth, 'content-type': 'application/json' });
    expect(ok.status, ok.body).toBe(200);
  });
});
