import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiError, DEFAULT_SAFE_FETCH_POLICY, UrlRefusedError } from '@rgw/shared';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ResponseItem } from '../wire/response-types.js';
import { classifyFile } from './file-content.js';
import { FilesApiReader, type FileSource } from './files-reader.js';
import { InputFileResolver } from './input-file-resolver.js';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3]);
const FILES: Record<string, { filename: string; bytes: Buffer }> = {
  'file-notes': { filename: 'notes.md', bytes: Buffer.from('# Notes\nThe code is 42.') },
  'file-img': { filename: 'cat.png', bytes: PNG },
  'file-pdf': { filename: 'doc.pdf', bytes: Buffer.from('%PDF-1.4\n...') },
  'file-bin': { filename: 'blob.bin', bytes: Buffer.from([0, 1, 2, 3, 255]) },
};

function fakeFiles(): FileSource & { calls: { id: string; principal?: unknown }[] } {
  const calls: { id: string; principal?: unknown }[] = [];
  return {
    calls,
    async read(id, opts) {
      calls.push({ id, principal: opts.principal });
      const f = FILES[id];
      if (!f) throw new ApiError(404, `No such File object: ${id}`);
      return { id, ...f };
    },
  };
}

const user = (...content: Record<string, unknown>[]): ResponseItem => ({ id: 'msg_1', type: 'message', role: 'user', status: 'completed', content });
const inputParam = (i: number) => `input[${i}]`;

async function errorOf(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (err) {
    return err as ApiError;
  }
  throw new Error('expected an error');
}

describe('InputFileResolver', () => {
  it('turns a text file into text for the model, read as the caller', async () => {
    const files = fakeFiles();
    const r = new InputFileResolver({ files });
    const [item] = await r.resolve([user({ type: 'input_text', text: 'read this' }, { type: 'input_file', file_id: 'file-notes' })], { principal: { projectId: 'p1' } }, inputParam);
    expect(item!.content).toEqual([
      { type: 'input_text', text: 'read this' },
      { type: 'input_text', text: '[file: notes.md]\n# Notes\nThe code is 42.' },
    ]);
    expect(files.calls).toEqual([{ id: 'file-notes', principal: { projectId: 'p1' } }]);
  });

  it('turns an image file into a data URL', async () => {
    const [item] = await new InputFileResolver({ files: fakeFiles() }).resolve([user({ type: 'input_image', file_id: 'file-img', detail: 'low' })], {}, inputParam);
    expect(item!.content).toEqual([{ type: 'input_image', image_url: `data:image/png;base64,${PNG.toString('base64')}`, file_id: null, detail: 'low' }]);
  });

  it('leaves items without references as they are', async () => {
    const items = [user({ type: 'input_text', text: 'x' }, { type: 'input_image', image_url: 'data:image/png;base64,AAAA' }), { id: 'fc', type: 'function_call' } as ResponseItem];
    const out = await new InputFileResolver({ files: fakeFiles() }).resolve(items, {}, inputParam);
    expect(out[0]).toBe(items[0]);
    expect(out[1]).toBe(items[1]);
  });

  it.each([
    ['file-missing', 404, 'input[1].content[0].file_id'],
    ['file-bin', 400, 'input[1].content[0].file_id'],
    ['file-img', 400, 'input[1].content[0].file_id'],
    ['file-pdf', 400, 'input[1].content[0].file_id'],
  ])('input_file %s is a %d naming %s', async (id, status, param) => {
    const err = await errorOf(new InputFileResolver({ files: fakeFiles() }).resolve([user({ type: 'input_text', text: 'a' }), user({ type: 'input_file', file_id: id })], {}, inputParam));
    expect(err.status).toBe(status);
    expect(err.param).toBe(param);
  });

  it('uses a PDF extractor when one is wired', async () => {
    const r = new InputFileResolver({ files: fakeFiles(), extractPdf: async () => 'pdf text' });
    const [item] = await r.resolve([user({ type: 'input_file', file_id: 'file-pdf' })], {}, inputParam);
    expect(item!.content).toEqual([{ type: 'input_text', text: '[file: doc.pdf]\npdf text' }]);
  });

  it('refuses a non-image as input_image', async () => {
    const err = await errorOf(new InputFileResolver({ files: fakeFiles() }).resolve([user({ type: 'input_image', file_id: 'file-notes' })], {}, inputParam));
    expect(err).toMatchObject({ status: 400, param: 'input[0].content[0].file_id' });
  });

  it('names no input position for items of earlier turns', async () => {
    const err = await errorOf(new InputFileResolver({ files: fakeFiles() }).resolve([user({ type: 'input_file', file_id: 'file-missing' })], {}, () => null));
    expect(err.param).toBe('input');
  });

  it('refuses loopback, private and metadata URLs before fetching, naming the param', async () => {
    const r = new InputFileResolver({ files: fakeFiles(), policy: DEFAULT_SAFE_FETCH_POLICY });
    const cases: [Record<string, unknown>, string, string][] = [
      [{ type: 'input_file', file_url: 'http://127.0.0.1:9/x.txt' }, 'input[0].content[0].file_url', 'loopback'],
      [{ type: 'input_file', file_url: 'http://10.0.0.8/x.txt' }, 'input[0].content[0].file_url', 'private'],
      [{ type: 'input_file', file_url: 'http://169.254.169.254/latest/meta-data/' }, 'input[0].content[0].file_url', 'link_local'],
      [{ type: 'input_file', file_url: 'ftp://example.com/x.txt' }, 'input[0].content[0].file_url', 'scheme'],
      [{ type: 'input_image', image_url: 'http://metadata.google.internal/x.png' }, 'input[0].content[0].image_url', 'blocked_hostname'],
      [{ type: 'input_image', image_url: 'http://[::1]/x.png' }, 'input[0].content[0].image_url', 'loopback'],
      [{ type: 'input_image', image_url: 'file:///etc/passwd' }, 'input[0].content[0].image_url', 'scheme'],
    ];
    for (const [part, param, rule] of cases) {
      const err = await errorOf(r.resolve([user(part)], {}, inputParam));
      expect(err, JSON.stringify(part)).toBeInstanceOf(UrlRefusedError);
      expect(err).toMatchObject({ status: 400, param, rule });
    }
  });

  it('forwards a public image URL whose name cannot be resolved here (mode forward)', async () => {
    const r = new InputFileResolver({ files: fakeFiles(), policy: DEFAULT_SAFE_FETCH_POLICY, imageUrls: 'forward' });
    const part = { type: 'input_image', image_url: 'https://unresolvable.invalid/cat.png' };
    expect((await r.resolve([user(part)], {}, inputParam))[0]!.content).toEqual([part]);
  });
});

describe('InputFileResolver against a local server (private allowed)', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/doc.txt') return res.end('fetched text');
      if (req.url === '/cat.png') return res.end(PNG);
      if (req.url === '/hop') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/' });
        return res.end();
      }
      res.writeHead(404);
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('fetches file_url text and, in fetch mode, image_url bytes', async () => {
    const r = new InputFileResolver({ files: fakeFiles(), policy: { ...DEFAULT_SAFE_FETCH_POLICY, allowList: ['127.0.0.1'] }, imageUrls: 'fetch' });
    const [item] = await r.resolve([user({ type: 'input_file', file_url: `${base}/doc.txt` }, { type: 'input_image', image_url: `${base}/cat.png` })], {}, inputParam);
    expect(item!.content).toEqual([
      { type: 'input_text', text: '[file: doc.txt]\nfetched text' },
      { type: 'input_image', image_url: `data:image/png;base64,${PNG.toString('base64')}` },
    ]);
  });

  it('refuses a redirect to the metadata address even when the first host is allowed', async () => {
    const r = new InputFileResolver({ files: fakeFiles(), policy: { ...DEFAULT_SAFE_FETCH_POLICY, allowList: ['127.0.0.1'] } });
    const err = await errorOf(r.resolve([user({ type: 'input_file', file_url: `${base}/hop` })], {}, inputParam));
    expect(err).toMatchObject({ status: 400, param: 'input[0].content[0].file_url', rule: 'link_local' });
  });
});

describe('FilesApiReader', () => {
  it('reads metadata then content through the gateway, signed, and maps a 404', async () => {
    const seen: string[] = [];
    const fetchImpl = (async (url: URL) => {
      seen.push(url.pathname);
      if (url.pathname.endsWith('/file-x')) return new Response(JSON.stringify({ id: 'file-x', object: 'file', filename: 'x.txt', bytes: 5 }), { headers: { 'content-type': 'application/json' } });
      if (url.pathname.endsWith('/file-x/content')) return new Response('hello');
      return new Response(JSON.stringify({ error: { message: 'No such File object', type: 'invalid_request_error', param: null, code: null } }), { status: 404 });
    }) as unknown as typeof fetch;
    const reader = new FilesApiReader({ baseUrl: () => 'http://gw.test', fetch: fetchImpl, internalToken: () => 'secret' });
    const file = await reader.read('file-x', {});
    expect(file).toEqual({ id: 'file-x', filename: 'x.txt', bytes: Buffer.from('hello') });
    expect(seen).toEqual(['/v1/files/file-x', '/v1/files/file-x/content']);
    await expect(reader.read('file-y', {})).rejects.toMatchObject({ status: 404 });
  });
});

describe('classifyFile', () => {
  it('tells text, images, PDFs and other bytes apart', () => {
    expect(classifyFile(Buffer.from('a,b\n1,2'), 'data.csv').kind).toBe('text');
    expect(classifyFile(Buffer.from('{"a":1}'), 'noext', 'application/json').kind).toBe('text');
    expect(classifyFile(PNG, 'renamed.txt').kind).toBe('image');
    expect(classifyFile(Buffer.from('%PDF-1.7'), 'x.txt').kind).toBe('pdf');
    expect(classifyFile(Buffer.from([0xc3, 0x28]), 'bad.txt').kind).toBe('other');
    expect(classifyFile(Buffer.from('hello'), 'archive.zip').kind).toBe('other');
  });
});
