// Without --cors the server sends no CORS header, and a page from another origin is refused outright
// (403, no model called): it could not read the answers, but it could still make the server spend.
import { describe, expect, it } from 'vitest';
import { useServerSuite } from './server-suite.js';

const suite = useServerSuite();

describe('CORS off by default', () => {
  it('sends no Access-Control-Allow-Origin, and refuses other origins with 403, preflight included', async () => {
    const preflight = await fetch(`${suite.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const models = await fetch(`${suite.url}/v1/models`, { headers: { Origin: 'http://localhost:3000' } });
    expect(models.status).toBe(403);
    expect(models.headers.get('access-control-allow-origin')).toBeNull();
    expect(((await models.json()) as { error: { code: string } }).error.code).toBe('origin_not_allowed');
    const plain = await fetch(`${suite.url}/v1/models`);
    expect(plain.status).toBe(200);
    expect(plain.headers.get('access-control-allow-origin')).toBeNull();
  });
});
