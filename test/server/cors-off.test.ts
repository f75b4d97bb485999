// Without --cors the server sends no CORS header: other origins' pages cannot read its answers.
import { describe, expect, it } from 'vitest';
import { useServerSuite } from './server-suite.js';

const suite = useServerSuite();

describe('CORS off by default', () => {
  it('sends no Access-Control-Allow-Origin, even to a preflight', async () => {
    const preflight = await fetch(`${suite.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: 'http://localhost:3000', 'Access-Control-Request-Method': 'POST' },
    });
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const models = await fetch(`${suite.url}/v1/models`, { headers: { Origin: 'http://localhost:3000' } });
    expect(models.status).toBe(200);
    expect(models.headers.get('access-control-allow-origin')).toBeNull();
  });
});
