import { afterEach, describe, expect, it } from 'vitest';
import { mock, platforms } from '../support/context.js';
import { chunked, head, isEnvelope, rawConnect, rawRequest } from '../support/raw-http.js';
import { authFetch } from '../support/auth.js';

// The suite's platforms run with BODY_LIMIT=2mb (test/support/global-setup.ts).
const OVER_LIMIT = 3 * 1024 * 1024;
const chatBody = JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] });

afterEach(() => mock.reset());

async function expectAlive(origin: string) {
  expect((await authFetch(`${origin}/health`)).status).toBe(200);
  const res = await authFetch(`${origin}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody });
  expect(res.status).toBe(200);
}

function envelopeOf(reply: { body: string } | null): { error: { message: string; code: string | null; param: string | null } } {
  expect(reply).not.toBeNull();
  const body = JSON.parse(reply!.body);
  expect(isEnvelope(body)).toBe(true);
  return body;
}

describe.each(platforms)('hardening at the edge ($mode)', (p) => {
  it.each(['/v1/chat/completions', '/v1/embeddings', '/v1/responses', '/v1/conversations'])(
    'answers a chunked body over the limit on %s with a 413 envelope, and lives on',
    async (path) => {
      const body = chunked(`{"input":"${'x'.repeat(OVER_LIMIT)}"}`, 64 * 1024);
      const reply = await rawRequest(p.origin, Buffer.concat([Buffer.from(head('POST', path, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' })), body]));
      expect(reply?.status).toBe(413);
      expect(reply?.headers['x-request-id']).toMatch(/\S/);
      expect(envelopeOf(reply).error.code).toBe('request_too_large');
      await expectAlive(p.origin);
    },
  );

  it('answers a declared Content-Length over the limit at once, before any body arrives', async () => {
    const ex = await rawConnect(p.origin);
    try {
      // 60 MB declared, two bytes sent: the answer may not wait for the rest.
      await ex.write(head('POST', '/v1/chat/completions', { 'content-type': 'application/json', 'content-length': 60_000_000 }) + '{}');
      const reply = await ex.reply;
      expect(reply?.status).toBe(413);
      expect(reply?.headers['x-request-id']).toMatch(/\S/);
      envelopeOf(reply);
      // The rest of the body is drained for a moment (so a client still writing reads the answer
      // rather than a reset), then the connection is cut: it never waits for the 60 MB.
      await new Promise<void>((resolve) => (ex.socket.destroyed ? resolve() : ex.socket.once('close', () => resolve())));
    } finally {
      ex.socket.destroy();
    }
  });

  it('answers what Node itself refuses (bad request line, bad header, oversized headers) in the envelope with a request id', async () => {
    for (const [request, status] of [
      ['GARBAGE\r\n\r\n', 400],
      ['GET /v1/models HTTP/1.1\r\nhost: x\r\nbad header\r\n\r\n', 400],
      ['POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n', 400],
      [head('GET', '/v1/models', { 'x-big': 'a'.repeat(20_000) }), 431],
    ] as const) {
      const reply = await rawRequest(p.origin, request);
      expect(reply?.status, request.slice(0, 40)).toBe(status);
      expect(reply?.headers['x-request-id']).toMatch(/^req_/);
      expect(reply?.headers['content-type']).toBe('application/json');
      envelopeOf(reply);
    }
    await expectAlive(p.origin);
  });

  it('refuses JSON nested past the depth cap on the inference path with a 400', async () => {
    for (const path of ['/v1/chat/completions', '/v1/embeddings']) {
      const res = await authFetch(`${p.origin}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '['.repeat(100_000) + ']'.repeat(100_000) });
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.code).toBe('json_too_deep');
    }
  });

  it('never echoes a huge model name back whole', async () => {
    const model = 'm'.repeat(1024 * 1024);
    for (const path of ['/v1/chat/completions', '/v1/embeddings']) {
      const res = await authFetch(`${p.origin}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model, messages: [{ role: 'user', content: 'x' }], input: 'x' }),
      });
      expect(res.status).toBe(404);
      const text = await res.text();
      expect(text.length).toBeLessThan(2000);
      expect(JSON.parse(text).error.code).toBe('model_not_found');
    }
  });

  it('relays a 100 MB upstream error page as a short message, without buffering it', async () => {
    await mock.raw({ path: '/v1/chat/completions', status: 500, contentType: 'text/html', prefix: '<html>', fill: 'boom ', fillBytes: 100 * 1024 * 1024 });
    const res = await authFetch(`${p.origin}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: chatBody });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-error-source')).toBe('upstream');
    const text = await res.text();
    expect(text.length).toBeLessThan(4000);
    expect(JSON.parse(text).error.message).toMatch(/^upstream provider 'default': <html>boom/);
    await expectAlive(p.origin);
  });

  it('does not reveal a provider address when it is unreachable', async () => {
    const res = await authFetch(`${p.origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'offline/offline-model', messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.status).toBe(502);
    const body = (await res.json()) as any;
    expect(body.error.message).toContain("upstream provider 'offline'");
    expect(body.error.message).not.toMatch(/127\.0\.0\.1|:9\b|http:/);
  });

  it.each(['.', '..', '../conversations', 'a/b', 'x%2F..', 'pmpt_\u0000'])('refuses the prompt id %j with a 400 naming prompt.id', async (id) => {
    const res = await authFetch(`${p.origin}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-model', input: 'hi', prompt: { id } }),
    });
    expect(res.status).toBe(400);
    const body = (await res.json()) as any;
    expect(body.error.param).toBe('prompt.id');
  });

  it('answers an unknown well-formed prompt id with a 404 naming prompt.id', async () => {
    const res = await authFetch(`${p.origin}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-model', input: 'hi', prompt: { id: `pmpt_${'0'.repeat(48)}` } }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.param).toBe('prompt.id');
  });
});
