import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyPrincipal } from '../auth/principal-headers.js';
import { ApiError } from '../errors.js';
import { FilesClient } from './files-client.js';
import { errorOf } from '../../../test/support/errors.js';

// A stand-in gateway serving one file in many writes, so the content arrives as a stream.

const SECRET = 'files-client-test-secret';
const CONTENT = Buffer.alloc(3 * 1024 * 1024, 'abc');
let server: Server;
let base = '';
let lastHeaders: IncomingMessage['headers'] = {};

beforeAll(async () => {
  server = createServer((req, res) => {
    lastHeaders = req.headers;
    if (req.url === '/v1/files/file-1') return void res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: 'file-1', object: 'file', bytes: CONTENT.length, created_at: 1, filename: 'a.txt', purpose: 'assistants' }));
    if (req.url === '/v1/files/file-1/content') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      for (let at = 0; at < CONTENT.length; at += 64 * 1024) res.write(CONTENT.subarray(at, at + 64 * 1024));
      return void res.end();
    }
    res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'No such file', type: 'invalid_request_error', param: 'file_id', code: null } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('FilesClient', () => {
  const client = new FilesClient({ baseUrl: () => base, internalToken: () => SECRET });
  const principal = { projectId: 'proj_x', keyId: 'key_1' };

  it('reads metadata signed as the caller', async () => {
    expect(await client.retrieve('file-1', { principal, requestId: 'req_1' })).toMatchObject({ id: 'file-1', filename: 'a.txt' });
    expect(verifyPrincipal(lastHeaders, SECRET)).toEqual(principal);
    expect(lastHeaders['x-request-id']).toBe('req_1');
  });

  it('streams the content in parts, signed, with its content type', async () => {
    const content = await client.content('file-1', { principal });
    expect(content.contentType).toBe('text/plain');
    expect(verifyPrincipal(lastHeaders, SECRET)).toEqual(principal);
    const parts: Uint8Array[] = [];
    for await (const part of content.body) parts.push(part);
    expect(parts.length).toBeGreaterThan(1);
    expect(Buffer.concat(parts).equals(CONTENT)).toBe(true);
  });

  it("turns the files service's error into its ApiError", async () => {
    for (const call of [client.retrieve('file-2'), client.content('file-2')]) {
      const err = await errorOf(call);
      expect(err).toBeInstanceOf(ApiError);
      expect(err).toMatchObject({ status: 404, param: 'file_id', message: 'No such file' });
    }
  });
});
