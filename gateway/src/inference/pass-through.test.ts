import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, loadConfig } from '@rgw/shared';
import { startGateway, type Gateway } from '../gateway.js';

// An upstream that writes its SSE reply in awkward pieces: splits inside JSON, inside a UTF-8
// character and between "\r" and "\n". The gateway must relay the bytes exactly and promptly.
const REPLY = Buffer.from(
  'data: {"choices":[{"index":0,"delta":{"content":"héllo wörld"}}]}\r\n\r\n' + 'data: {"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\r\n\r\ndata: [DONE]\r\n\r\n',
);
const CUTS = [3, 17, 33, 34, 35, 70, 71, REPLY.length - 3];

let upstream: http.Server;
let gateway: Gateway;
beforeAll(async () => {
  upstream = http.createServer(async (req, res) => {
    if (req.url === '/v1/models') return res.end(JSON.stringify({ data: [{ id: 'm' }] }));
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let at = 0;
    for (const cut of CUTS) {
      res.write(REPLY.subarray(at, cut));
      at = cut;
      await new Promise((r) => setTimeout(r, 5));
    }
    res.end(REPLY.subarray(at));
  });
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r));
  const port = (upstream.address() as AddressInfo).port;
  const config = loadConfig({ BACKEND_BASE_URL: `http://127.0.0.1:${port}/v1`, PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'pt-')) });
  gateway = await startGateway(config, { logger: createLogger('pt', 'silent') });
});
afterAll(async () => {
  await gateway.close();
  upstream.close();
});

describe('chat completions pass-through', () => {
  it('relays an SSE stream split at arbitrary boundaries byte for byte, as it arrives', async () => {
    const res = await fetch(`${gateway.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] }),
    });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('cache-control')).toBe('no-cache, no-transform');
    const pieces: Buffer[] = [];
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) pieces.push(Buffer.from(chunk));
    expect(Buffer.concat(pieces).equals(REPLY)).toBe(true);
    // Unbuffered: the pieces arrive separately rather than as one body at the end.
    expect(pieces.length).toBeGreaterThan(3);
  });
});
