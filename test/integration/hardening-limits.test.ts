import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { mock } from '../support/context.js';
import { REPO_ROOT, spawnTs, waitHealthy, type ManagedProcess } from '../support/process-harness.js';
import { chunked, head, isEnvelope, rawConnect, rawRequest } from '../support/raw-http.js';

// One gateway of our own (embedded), with limits small enough to reach in a test: a 1 KB body limit,
// a 1 MB cap on buffered model-server replies, and short connection timeouts.
const HEADERS_TIMEOUT_MS = 600;
const REQUEST_TIMEOUT_MS = 1500;
const KEEP_ALIVE_TIMEOUT_MS = 800;

let gateway: ManagedProcess;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'rgw-limits-'));
  gateway = await spawnTs(
    'limits-gateway',
    'gateway/src/main.ts',
    {
      BACKEND_BASE_URL: `${mock.origin}/v1`,
      DATA_DIR: dataDir,
      BODY_LIMIT: '1kb',
      UPSTREAM_MAX_BODY: '1mb',
      HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS),
      REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      KEEP_ALIVE_TIMEOUT_MS: String(KEEP_ALIVE_TIMEOUT_MS),
      SHUTDOWN_TIMEOUT_MS: '2000',
    },
    join(REPO_ROOT, '.tmp', 'test-logs'),
  );
  await waitHealthy(gateway);
});

afterAll(async () => {
  await gateway?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

afterEach(() => mock.reset());

const chatBody = JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] });
const post = (path: string, body: string) => fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });

/** Resident memory of the gateway process, in bytes. */
function rss(): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${gateway.child.pid}/status`, 'utf8'))![1];
  return Number(kb) * 1024;
}

/** Resolves true when `promise` settles within `ms` (the server did not leave us hanging). */
const within = (promise: Promise<unknown>, ms: number) => Promise.race([promise.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), ms))]);

describe('body and reply limits', () => {
  it.each(['/v1/chat/completions', '/v1/embeddings'])('answers a 3 KB chunked body to %s with a 413 (limit 1 KB) and serves the next request', async (path) => {
    const body = chunked(JSON.stringify({ model: 'mock-model', input: 'x'.repeat(3000) }), 500);
    const reply = await rawRequest(gateway.url, Buffer.concat([Buffer.from(head('POST', path, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })), body]));
    expect(reply?.status).toBe(413);
    expect(isEnvelope(JSON.parse(reply!.body))).toBe(true);
    expect(gateway.child.exitCode).toBeNull();
    expect((await post('/v1/chat/completions', chatBody)).status).toBe(200);
  });

  it('refuses a 100 MB embeddings reply over UPSTREAM_MAX_BODY with a 502, without buffering it', async () => {
    const before = rss();
    await mock.raw({ path: '/v1/embeddings', status: 200, prefix: '{"data":[{"embedding":[', fill: '0.125,', fillBytes: 100 * 1024 * 1024, suffix: '0]}]}' });
    const res = await post('/v1/embeddings', JSON.stringify({ model: 'mock-embed', input: 'x' }));
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('upstream_reply_too_large');
    expect(body.error.message).toContain(String(1024 * 1024));
    expect(rss() - before).toBeLessThan(100 * 1024 * 1024);
  });

  it('ends a Responses call whose model stream sends a line past the SSE line bound with a 502', async () => {
    await mock.raw({
      path: '/v1/chat/completions',
      status: 200,
      contentType: 'text/event-stream',
      prefix: 'data: {"choices":[{"index":0,"delta":{"content":"',
      fill: 'a',
      fillBytes: 9 * 1024 * 1024,
      suffix: '"}}]}\n\ndata: [DONE]\n\n',
    });
    // Streamed, so the model is asked for a stream; the overlong line arrives before any output, so the answer is still an HTTP error.
    const res = await post('/v1/responses', JSON.stringify({ model: 'mock-model', input: 'hi', store: false, stream: true }));
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('upstream_invalid_reply');
    expect(body.error.message).toContain('line longer than');
  });

  it('ends a non-streaming Responses call whose whole model reply is past UPSTREAM_MAX_BODY with a 502', async () => {
    // Not streamed, so the model is asked for one JSON reply, which is bounded as a whole.
    const before = rss();
    await mock.raw({ path: '/v1/chat/completions', status: 200, prefix: '{"choices":[{"index":0,"message":{"role":"assistant","content":"', fill: 'a', fillBytes: 9 * 1024 * 1024, suffix: '"}}]}' });
    const res = await post('/v1/responses', JSON.stringify({ model: 'mock-model', input: 'hi', store: false }));
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.code).toBe('upstream_reply_too_large');
    expect(rss() - before).toBeLessThan(64 * 1024 * 1024);
  });
});

describe('connection timeouts', () => {
  it('closes a connection that never sends anything', async () => {
    const ex = await rawConnect(gateway.url);
    expect(await within(ex.closed, HEADERS_TIMEOUT_MS + 4000)).toBe(true);
  });

  it('answers headers that never finish with a 408 envelope and closes', async () => {
    const ex = await rawConnect(gateway.url);
    await ex.write('POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\n');
    expect(await within(ex.closed, HEADERS_TIMEOUT_MS + 4000)).toBe(true);
    const reply = await ex.reply;
    expect(reply?.status).toBe(408);
    expect(reply?.headers['x-request-id']).toMatch(/^req_/);
    expect(isEnvelope(JSON.parse(reply!.body))).toBe(true);
  });

  it('answers a body that stops short of its declared length with a 408 envelope and closes', async () => {
    const ex = await rawConnect(gateway.url);
    await ex.write(head('POST', '/v1/chat/completions', { 'content-type': 'application/json', 'content-length': 100 }) + '{"model":');
    expect(await within(ex.closed, REQUEST_TIMEOUT_MS + 4000)).toBe(true);
    const reply = await ex.reply;
    expect(reply?.status).toBe(408);
    expect(isEnvelope(JSON.parse(reply!.body))).toBe(true);
  });

  it('closes an idle keep-alive connection after its reply', async () => {
    const ex = await rawConnect(gateway.url);
    await ex.write(head('GET', '/v1/models'));
    const reply = await ex.reply;
    expect(reply?.status).toBe(200);
    expect(await within(ex.closed, KEEP_ALIVE_TIMEOUT_MS + 4000)).toBe(true);
  });

  it('does not cut a streamed reply that lasts longer than every timeout', async () => {
    const chunks = Array.from({ length: 8 }, (_, i) => `w${i} `);
    await mock.enqueue({ type: 'text', text: chunks.join(''), chunks, delayMs: 400 });
    const res = await post('/v1/chat/completions', JSON.stringify({ model: 'mock-model', stream: true, messages: [{ role: 'user', content: 'x' }] }));
    expect(res.status).toBe(200);
    const text = await res.text();
    for (const c of chunks) expect(text).toContain(JSON.stringify(c));
    expect(text).toContain('data: [DONE]');
  });
});
