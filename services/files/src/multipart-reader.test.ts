import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '@rgw/shared';
import { readMultipart } from './multipart-reader.js';

// A bare HTTP server answering with what readMultipart made of the body (or the error's status and param).
let server: http.Server;
let url: string;
let sinkAborted = 0;

beforeAll(async () => {
  server = http.createServer(async (req, res) => {
    try {
      const result = await readMultipart(req, {
        fileField: 'file',
        textFields: ['purpose'],
        maxFileBytes: 10,
        tooLarge: () => new ApiError(413, 'too large', { param: 'file' }),
        onFile: async (stream, info, early, signal) => {
          const chunks: Buffer[] = [];
          try {
            for await (const c of stream) chunks.push(c as Buffer);
          } catch (err) {
            // The sink sees its stream fail and its signal aborted, so a store write would be undone.
            if (signal.aborted) sinkAborted++;
            throw err;
          }
          return { text: Buffer.concat(chunks).toString(), filename: info.filename, early };
        },
      });
      res.end(JSON.stringify({ status: 200, ...result }));
    } catch (err) {
      const e = err as ApiError;
      res.end(JSON.stringify({ status: e.status, param: e.param }));
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => server.close(() => r())));

async function send(parts: [string, string, string?][]) {
  const f = new FormData();
  for (const [name, value, filename] of parts) filename ? f.append(name, new Blob([value]), filename) : f.append(name, value);
  return (await fetch(url, { method: 'POST', body: f })).json();
}

describe('readMultipart', () => {
  it('streams the file to the sink with the fields that came before it, and collects the rest', async () => {
    expect(await send([['purpose', 'p1'], ['file', 'hello', 'ü.txt']])).toMatchObject({ status: 200, fields: { purpose: 'p1' }, file: { bytes: 5, info: { filename: 'ü.txt' }, result: { text: 'hello', early: { purpose: 'p1' } } } });
    expect(await send([['file', 'hello', 'a.txt'], ['purpose', 'p2']])).toMatchObject({ status: 200, fields: { purpose: 'p2' }, file: { result: { early: {} } } });
    expect(await send([['purpose', 'p']])).toMatchObject({ status: 200, fields: { purpose: 'p' } });
  });

  it('refuses unknown fields, a second file, a text `file` and a file past the limit', async () => {
    expect(await send([['colour', 'red']])).toEqual({ status: 400, param: 'colour' });
    expect(await send([['other', 'x', 'x.txt']])).toEqual({ status: 400, param: 'other' });
    expect(await send([['file', 'plain text']])).toEqual({ status: 400, param: 'file' });
    expect(await send([['file', 'a', 'a.txt'], ['file', 'b', 'b.txt']])).toEqual({ status: 400, param: 'file' });
    const before = sinkAborted;
    expect(await send([['file', 'x'.repeat(11), 'big.txt']])).toEqual({ status: 413, param: 'file' });
    expect(sinkAborted).toBe(before + 1);
    expect(await send([['file', 'x'.repeat(10), 'ok.txt']])).toMatchObject({ status: 200, file: { bytes: 10 } });
  });

  it('answers a form that ends without its closing boundary, or has no boundary at all, with a 400', async () => {
    const raw = (body: string, type = 'multipart/form-data; boundary=b') => fetch(url, { method: 'POST', headers: { 'content-type': type }, body }).then((r) => r.json());
    expect(await raw('--b\r\nContent-Disposition: form-data; name="file"; filename="a"\r\n\r\nabc')).toMatchObject({ status: 400 });
    expect(await raw('--b\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nx')).toMatchObject({ status: 400 });
    expect(await raw('whatever', 'multipart/form-data')).toMatchObject({ status: 400 });
    expect(await raw('--b--\r\n')).toMatchObject({ status: 200, fields: {} });
  });
});
