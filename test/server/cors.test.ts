// CORS: with corsOrigins (moa serve --cors), a chat UI served from another origin may call /v1 from the
// browser (preflight without a key, then the keyed request); without it, no CORS header is ever sent.
import { describe, expect, it } from 'vitest';
import { useServerSuite } from './server-suite.js';

const KEY = 'moa-test-key';
const UI = 'http://localhost:3000';
const open = useServerSuite({ apiKey: KEY, corsOrigins: [UI] });

describe('CORS for browser chat UIs (--cors)', () => {
  it('answers the preflight of an allowed origin without asking for the key', async () => {
    const response = await fetch(`${open.url}/v1/chat/completions`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'authorization,content-type' },
    });
    expect(response.status).toBe(204);
    expect(response.headers.get('access-control-allow-origin')).toBe(UI);
    expect(response.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('authorization');
  });

  it('lets the keyed request through with the origin allowed, and still refuses a wrong key', async () => {
    const body = JSON.stringify({ model: 'solo', messages: [{ role: 'user', content: 'hi' }] });
    const ok = await fetch(`${open.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Origin: UI, Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' },
      body,
    });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('access-control-allow-origin')).toBe(UI);
    expect(ok.headers.get('access-control-expose-headers')).toContain('X-MoA-Run-Id');
    const refused = await fetch(`${open.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { Origin: UI, Authorization: 'Bearer wrong', 'Content-Type': 'application/json' },
      body,
    });
    expect(refused.status).toBe(401);
  });

  it('does not allow other origins', async () => {
    const response = await fetch(`${open.url}/v1/models`, { headers: { Origin: 'https://evil.example', Authorization: `Bearer ${KEY}` } });
    expect(response.headers.get('access-control-allow-origin')).toBeNull();
  });
});
