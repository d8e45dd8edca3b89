import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, loadConfig } from '@rgw/shared';
import { startGateway, type Gateway } from '../gateway.js';

// A model server whose model list is slow, and whose embeddings reply breaks off after its headers.
const chatCalls: string[] = [];
let upstream: http.Server;
let gateway: Gateway;

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    if (req.url === '/v1/models') {
      setTimeout(() => res.end(JSON.stringify({ data: [{ id: 'm' }] })), 600);
      return;
    }
    if (req.url === '/v1/chat/completions') chatCalls.push('chat');
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
    res.write('{"data":[');
    setTimeout(() => res.socket!.destroy(), 20);
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  const config = loadConfig({ BACKEND_BASE_URL: `http://127.0.0.1:${port}/v1`, PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'uf-')), MODEL_CACHE_TTL_SECONDS: '1' });
  gateway = await startGateway(config, { logger: createLogger('uf', 'silent') });
});
afterAll(async () => {
  await gateway.close();
  upstream.close();
});

const post = (path: string, body: unknown, signal?: AbortSignal) =>
  fetch(`${gateway.url}/v1/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal });

describe('inference path against a failing model server', () => {
  it('does not start a generation for a client that left while the model list was loading', async () => {
    const abort = new AbortController();
    const pending = post('chat/completions', { model: 'm', messages: [{ role: 'user', content: 'x' }] }, abort.signal).catch(() => undefined);
    setTimeout(() => abort.abort(), 150);
    await pending;
    await new Promise((r) => setTimeout(r, 900));
    expect(chatCalls).toEqual([]);
  });

  it('answers a reply that breaks off with 502, not 500', async () => {
    const res = await post('embeddings', { model: 'm', input: 'x' });
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error).toMatchObject({ code: 'upstream_unreachable' });
    expect(body.error.message).toContain('broke off its reply');
    expect(res.headers.get('x-error-source')).toBe('upstream');
  });
});
