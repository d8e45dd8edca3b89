import { createHash, randomBytes } from 'node:crypto';
import LlamaStackClient from 'llama-stack-client';
import OpenAI, { APIError, toFile, toStreamingFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { signPrincipal } from '@rgw/shared';
import { authFetch, staticProjectOf, TEST_INTERNAL_TOKEN, TEST_KEY, TEST_KEY_B } from '../support/auth.js';
import { openai, platforms } from '../support/context.js';
import { errorOf } from '../support/errors.js';
import { rawConnect } from '../support/raw-http.js';

const FILE_ID = /^file-[0-9a-f]{48}$/;
const HOUR_MS = 3600_000;

/** Headers of an internal call for test-key's project, an hour and a second later by the files service's expiry clock. */
function anHourLater(): Record<string, string> {
  return { ...signPrincipal({ projectId: staticProjectOf(TEST_KEY) }, TEST_INTERNAL_TOKEN), 'x-rgw-clock-offset-ms': String(HOUR_MS + 1000) };
}

/**
 * Deterministic pseudo-random bytes, generated chunk by chunk (never held whole): one random block
 * from the seed, each chunk stamped with its index so that a misplaced chunk shows in the hash.
 */
async function* generated(total: number, seed: string, chunk = 1 << 20): AsyncGenerator<Uint8Array> {
  const block = Buffer.alloc(chunk);
  let h = createHash('sha256').update(seed).digest();
  for (let i = 0; i < chunk; i += 32) {
    h = createHash('sha256').update(h).digest();
    h.copy(block, i);
  }
  for (let sent = 0, index = 0; sent < total; index++) {
    const n = Math.min(chunk, total - sent);
    const piece = Buffer.from(block.subarray(0, n));
    piece.writeUInt32BE(index, 0);
    yield piece;
    sent += n;
  }
}

async function sha256Of(chunks: AsyncIterable<Uint8Array>): Promise<{ hash: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  for await (const c of chunks) {
    hash.update(c);
    bytes += c.length;
  }
  return { hash: hash.digest('hex'), bytes };
}

describe.each(platforms)('Files API through the openai SDK ($mode)', (p) => {
  const client = openai(p);
  const other = openai(p, { apiKey: TEST_KEY_B });

  it('round-trips text and binary byte for byte, with the file object OpenAI returns', async () => {
    const text = 'héllo, wörld\n'.repeat(100);
    const file = await client.files.create({ file: await toFile(Buffer.from(text), 'notes.txt'), purpose: 'assistants' });
    expect(file).toEqual({
      id: expect.stringMatching(FILE_ID),
      object: 'file',
      bytes: Buffer.byteLength(text),
      created_at: expect.any(Number),
      expires_at: null,
      filename: 'notes.txt',
      purpose: 'assistants',
      status: 'processed',
      status_details: null,
    });
    expect(Math.abs(file.created_at - Date.now() / 1000)).toBeLessThan(60);
    expect(await client.files.retrieve(file.id)).toEqual(file);
    const res = await client.files.content(file.id);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(res.headers.get('content-length')).toBe(String(Buffer.byteLength(text)));
    expect(res.headers.get('content-disposition')).toContain('filename="notes.txt"');
    expect(await res.text()).toBe(text);

    const binary = randomBytes(300_000);
    binary[0] = 0;
    binary[1] = 0xff;
    const bin = await client.files.create({ file: await toFile(binary, 'blob.bin'), purpose: 'user_data' });
    const back = Buffer.from(await (await client.files.content(bin.id)).arrayBuffer());
    expect(back.equals(binary)).toBe(true);
    expect((await client.files.content(bin.id)).headers.get('content-type')).toBe('application/octet-stream');
  });

  it('keeps a non-ASCII file name exactly and sends it back in content-disposition', async () => {
    const name = 'résumé (final) ü.pdf';
    const file = await client.files.create({ file: await toFile(Buffer.from('%PDF-1.4'), name), purpose: 'user_data' });
    expect(file.filename).toBe(name);
    const res = await client.files.content(file.id);
    expect(res.headers.get('content-type')).toBe('application/pdf');
    expect(res.headers.get('content-disposition')).toContain(`filename*=UTF-8''r%C3%A9sum%C3%A9%20%28final%29%20%C3%BC.pdf`);
  });

  it('uploads 100 MB streamed (the JSON body limit does not apply) and downloads it intact', async () => {
    const size = 100 * 1024 * 1024;
    const expected = await sha256Of(generated(size, 'hundred'));
    const file = await client.files.create({ file: toStreamingFile(generated(size, 'hundred'), 'big.bin'), purpose: 'assistants' }, { timeout: 120_000 });
    expect(file.bytes).toBe(size);
    const res = await client.files.content(file.id, { timeout: 120_000 });
    expect(res.headers.get('content-length')).toBe(String(size));
    expect(await sha256Of(res.body! as unknown as AsyncIterable<Uint8Array>)).toEqual(expected);
    await client.files.delete(file.id);
  }, 180_000);

  it('takes concurrent uploads, each intact', async () => {
    const bodies = Array.from({ length: 8 }, (_, i) => randomBytes(200_000 + i * 1000));
    const files = await Promise.all(bodies.map(async (b, i) => client.files.create({ file: await toFile(b, `c${i}.bin`), purpose: 'assistants' })));
    expect(new Set(files.map((f) => f.id)).size).toBe(8);
    const back = await Promise.all(files.map(async (f) => Buffer.from(await (await client.files.content(f.id)).arrayBuffer())));
    back.forEach((b, i) => expect(b.equals(bodies[i]!)).toBe(true));
  });

  it('lists with real cursors in both orders, and filters by purpose', async () => {
    const purpose = 'evals';
    const made: string[] = [];
    for (let i = 0; i < 5; i++) made.push((await client.files.create({ file: await toFile(Buffer.from(`e${i}`), `e${i}.jsonl`), purpose })).id);
    const desc: string[] = [];
    for await (const f of client.files.list({ purpose, limit: 2 })) desc.push(f.id);
    expect(desc.filter((id) => made.includes(id))).toEqual([...made].reverse());
    const asc: string[] = [];
    for await (const f of client.files.list({ purpose, limit: 2, order: 'asc' })) asc.push(f.id);
    expect(asc.filter((id) => made.includes(id))).toEqual(made);

    const page = await client.files.list({ purpose, limit: 2, order: 'asc', after: made[1] });
    expect(page.data.map((f) => f.id)).toEqual(made.slice(2, 4));
    const raw = await (await authFetch(`${p.baseURL}/files?purpose=${purpose}&limit=2&order=asc&after=${made[1]}`)).json();
    expect(raw).toMatchObject({ object: 'list', first_id: made[2], last_id: made[3], has_more: true });
    // Newest first by default. Only this test's files: other suites' rows (some made with a shifted
    // test clock) share the platform, so the whole list's created_at need not be monotonic.
    const ours = (await client.files.list()).data.filter((f) => made.includes(f.id));
    expect(ours.map((f) => f.id)).toEqual([...made].reverse());
    expect(ours.every((f, i, a) => i === 0 || a[i - 1]!.created_at >= f.created_at)).toBe(true);
    expect((await client.files.list({ purpose: 'vision' })).data.every((f) => f.purpose === 'vision')).toBe(true);
    expect((await client.files.list({ purpose })).data.every((f) => (f.purpose as string) === purpose)).toBe(true);
  });

  it('deletes bytes and row: then 404 everywhere and gone from the list', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from('bye'), 'bye.txt'), purpose: 'assistants' });
    expect(await client.files.delete(file.id)).toEqual({ id: file.id, object: 'file', deleted: true });
    for (const call of [() => client.files.retrieve(file.id), () => client.files.content(file.id), () => client.files.delete(file.id)]) {
      const err = await errorOf<APIError>(call());
      expect(err.status).toBe(404);
      expect(err.error).toMatchObject({ param: 'file_id', code: 'file_not_found', type: 'invalid_request_error' });
    }
    expect((await client.files.list()).data.map((f) => f.id)).not.toContain(file.id);
  });

  it('honours expiry: a file past expires_at is 404 at once and absent from the list; batch files default to 30 days', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from('ephemeral'), 'e.txt'), purpose: 'assistants', expires_after: { anchor: 'created_at', seconds: 3600 } });
    expect(file.expires_at).toBe(file.created_at + 3600);
    const batch = await client.files.create({ file: await toFile(Buffer.from('{}\n'), 'batch.jsonl'), purpose: 'batch' });
    expect(batch.expires_at).toBe(batch.created_at + 30 * 24 * 3600);
    const later = anHourLater();
    for (const [method, path] of [['GET', `/files/${file.id}`], ['GET', `/files/${file.id}/content`], ['DELETE', `/files/${file.id}`]] as const) {
      const res = await fetch(`${p.baseURL}${path}`, { method, headers: later });
      expect(res.status, `${method} ${path}`).toBe(404);
    }
    const list = (await (await fetch(`${p.baseURL}/files?limit=10000`, { headers: later })).json()) as { data: { id: string }[] };
    expect(list.data.map((f: { id: string }) => f.id)).not.toContain(file.id);
    expect(list.data.map((f: { id: string }) => f.id)).toContain(batch.id);
    // The clock header is internal: from a client it is stripped, so the file is still there for it.
    const fromClient = await authFetch(`${p.baseURL}/files/${file.id}`, { headers: { 'x-rgw-clock-offset-ms': String(HOUR_MS + 1000) } });
    expect(fromClient.status).toBe(200);
  });

  it('refuses bad input with a 400 naming the param, and unknown ids with a 404', async () => {
    const post = (body: FormData) => authFetch(`${p.baseURL}/files`, { method: 'POST', body });
    const cases: [FormData, string][] = [];
    const noFile = new FormData();
    noFile.append('purpose', 'assistants');
    cases.push([noFile, 'file']);
    const noPurpose = new FormData();
    noPurpose.append('file', new Blob(['x']), 'x.txt');
    cases.push([noPurpose, 'purpose']);
    const badPurpose = new FormData();
    badPurpose.append('purpose', 'fun');
    badPurpose.append('file', new Blob(['x']), 'x.txt');
    cases.push([badPurpose, 'purpose']);
    for (const seconds of ['60', '2592001', 'soon']) {
      const f = new FormData();
      f.append('purpose', 'assistants');
      f.append('expires_after[anchor]', 'created_at');
      f.append('expires_after[seconds]', seconds);
      f.append('file', new Blob(['x']), 'x.txt');
      cases.push([f, 'expires_after[seconds]']);
    }
    const badAnchor = new FormData();
    badAnchor.append('purpose', 'assistants');
    badAnchor.append('file', new Blob(['x']), 'x.txt');
    badAnchor.append('expires_after[anchor]', 'last_used_at');
    badAnchor.append('expires_after[seconds]', '3600');
    cases.push([badAnchor, 'expires_after[anchor]']);
    const before = (await client.files.list()).data.length;
    for (const [body, param] of cases) {
      const res = await post(body);
      expect(res.status, param).toBe(400);
      expect(((await res.json()) as { error: unknown }).error, param).toMatchObject({ param, type: 'invalid_request_error' });
    }
    expect((await client.files.list()).data.length).toBe(before);
    const sdk = await errorOf<APIError>(client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'nonsense' as 'assistants' }));
    expect(sdk.status).toBe(400);
    const notJson = await authFetch(`${p.baseURL}/files`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(notJson.status).toBe(400);
    const unknown = `file-${'0'.repeat(48)}`;
    expect((await errorOf<APIError>(client.files.retrieve(unknown))).status).toBe(404);
    expect((await errorOf<APIError>(client.files.list({ after: unknown }))).status).toBe(400);
    expect((await errorOf<APIError>(client.files.list({ limit: 10_001 }))).status).toBe(400);
  });

  it('answers 413 at once for a declared body over FILES_MAX_BYTES', async () => {
    const ex = await rawConnect(p.origin);
    await ex.write(
      `POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TEST_KEY}\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: ${600 * 1024 * 1024}\r\n\r\n--b\r\n`,
    );
    const reply = await ex.reply;
    ex.socket.destroy();
    expect(reply?.status).toBe(413);
  });

  it("keeps each project's files to itself", async () => {
    const mine = await client.files.create({ file: await toFile(Buffer.from('private'), 'private.txt'), purpose: 'assistants' });
    for (const call of [() => other.files.retrieve(mine.id), () => other.files.content(mine.id), () => other.files.delete(mine.id)]) {
      expect((await errorOf<APIError>(call())).status).toBe(404);
    }
    expect((await other.files.list()).data.map((f) => f.id)).not.toContain(mine.id);
    expect((await errorOf<APIError>(other.files.list({ after: mine.id }))).status).toBe(400);
    expect(await (await client.files.content(mine.id)).text()).toBe('private');
  });
});

describe.each(platforms)('the files service in /health ($mode)', (p) => {
  it('reports the object store (and, distributed, the files process as healthy)', async () => {
    const body = (await (await fetch(`${p.origin}/health`)).json()) as { dependencies: { objects?: { status: string; kind: string }; services?: Record<string, { status: string }> } };
    expect(body.dependencies.objects).toMatchObject({ status: 'OK', kind: expect.stringMatching(/^(disk|s3)$/) });
    if (p.services?.files) {
      expect(body.dependencies.services?.files).toMatchObject({ status: 'OK' });
      const own = (await (await fetch(`${p.services.files}/health`)).json()) as { dependencies: Record<string, { status: string }> };
      expect(own.dependencies.objects).toMatchObject({ status: 'OK' });
    }
  });
});

describe.each(platforms)('Files API through llama-stack-client ($mode)', (p) => {
  const client = new LlamaStackClient({ baseURL: p.origin, apiKey: TEST_KEY, maxRetries: 0 });

  it('creates, lists, retrieves, reads and deletes a file', async () => {
    const file = await client.files.create({ file: await toFile(Buffer.from('llama text'), 'llama.txt'), purpose: 'assistants' });
    expect(file).toMatchObject({ id: expect.stringMatching(FILE_ID), object: 'file', bytes: 10, filename: 'llama.txt', purpose: 'assistants' });
    expect(await client.files.retrieve(file.id)).toMatchObject({ id: file.id, bytes: 10 });
    const ids: string[] = [];
    for await (const f of client.files.list({ limit: 3 })) ids.push(f.id);
    expect(ids).toContain(file.id);
    expect(await client.files.content(file.id)).toBe('llama text');
    const expiring = await client.files.create({ file: await toFile(Buffer.from('x'), 'x.txt'), purpose: 'batch', expires_after: { anchor: 'created_at', seconds: 7200 } });
    expect(expiring.expires_at).toBe(expiring.created_at + 7200);
    expect(await client.files.delete(file.id)).toMatchObject({ id: file.id, deleted: true });
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
  });
});
