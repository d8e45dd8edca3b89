import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { corsPolicy } from './cors.js';

// A real server with the policy in front of a handler that answers 200 "reached".
async function serve(origins: string[]): Promise<{ url: string; close(): void }> {
  const cors = corsPolicy(origins);
  const server = http.createServer((req, res) => {
    if (cors?.(req, res)) return;
    res.end('reached');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

const preflight = (origin: string) => ({
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type' },
});

describe('CORS', () => {
  let close = () => {};
  afterEach(() => close());

  it('is off by default: no policy, no headers, preflights reach the routes', async () => {
    expect(corsPolicy([])).toBeUndefined();
    const s = await serve([]);
    close = s.close;
    const res = await fetch(`${s.url}/v1/models`, preflight('https://app.example.com'));
    expect(await res.text()).toBe('reached');
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers an allowed origin’s preflight and marks its responses', async () => {
    const s = await serve(['https://app.example.com']);
    close = s.close;
    const pre = await fetch(`${s.url}/v1/chat/completions`, preflight('https://app.example.com'));
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(pre.headers.get('access-control-allow-methods')).toContain('POST');
    expect(pre.headers.get('access-control-allow-headers')).toBe('authorization, content-type');
    expect(pre.headers.get('vary')).toBe('Origin');
    const res = await fetch(`${s.url}/v1/models`, { headers: { origin: 'https://app.example.com' } });
    expect(await res.text()).toBe('reached');
    expect(res.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(res.headers.get('access-control-expose-headers')).toContain('x-request-id');
  });

  it('gives another origin no CORS headers (the browser refuses it)', async () => {
    const s = await serve(['https://app.example.com']);
    close = s.close;
    const pre = await fetch(`${s.url}/v1/models`, preflight('https://evil.example.net'));
    expect(pre.status).toBe(204);
    expect(pre.headers.get('access-control-allow-origin')).toBeNull();
    const res = await fetch(`${s.url}/v1/models`, { headers: { origin: 'https://evil.example.net' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('allows any origin with *, without credentials', async () => {
    const s = await serve(['*']);
    close = s.close;
    const res = await fetch(`${s.url}/v1/models`, { headers: { origin: 'https://anywhere.example' } });
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-credentials')).toBeNull();
  });
});
