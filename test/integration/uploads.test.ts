import { createHash, randomBytes } from 'node:crypto';
import OpenAI, { APIError, toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { signPrincipal } from '@rgw/shared';
import { staticProjectOf, TEST_INTERNAL_TOKEN, TEST_KEY, TEST_KEY_B } from '../support/auth.js';
import { openai, platforms } from '../support/context.js';
import { errorOf } from '../support/errors.js';

const UPLOAD_ID = /^upload_[0-9a-f]{48}$/;
const PART_ID = /^part_[0-9a-f]{48}$/;

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');

describe.each(platforms)('Uploads API through the openai SDK ($mode)', (p) => {
  const client = openai(p);
  const other = openai(p, { apiKey: TEST_KEY_B });

  const start = (bytes: number, extra: Partial<OpenAI.Uploads.UploadCreateParams> = {}) =>
    client.uploads.create({ bytes, filename: 'data.jsonl', mime_type: 'application/jsonl', purpose: 'fine-tune', ...extra });
  const part = async (id: string, data: Buffer, c: OpenAI = client) => c.uploads.parts.create(id, { data: await toFile(data, 'part') });

  it('uploads parts in parallel and completes them in the order given, not the order they arrived, with md5', async () => {
    const chunks = [randomBytes(3_000_000), randomBytes(2_000_000), randomBytes(1_234_567)];
    const whole = Buffer.concat(chunks);
    const upload = await start(whole.length);
    expect(upload).toMatchObject({ id: expect.stringMatching(UPLOAD_ID), object: 'upload', status: 'pending', bytes: whole.length, filename: 'data.jsonl', purpose: 'fine-tune', file: null });
    expect(upload.expires_at).toBe(upload.created_at + 3600);
    // The last chunk goes first, the first last: arrival order is not the file's order.
    const last = await part(upload.id, chunks[2]!);
    const [first, middle] = await Promise.all([part(upload.id, chunks[0]!), part(upload.id, chunks[1]!)]);
    expect(last).toMatchObject({ id: expect.stringMatching(PART_ID), object: 'upload.part', upload_id: upload.id, created_at: expect.any(Number) });
    const done = await client.uploads.complete(upload.id, { part_ids: [first.id, middle.id, last.id], md5: md5(whole) });
    expect(done).toMatchObject({ id: upload.id, object: 'upload', status: 'completed', bytes: whole.length });
    expect(done.file).toMatchObject({ id: expect.stringMatching(/^file-/), object: 'file', bytes: whole.length, filename: 'data.jsonl', purpose: 'fine-tune', status: 'processed' });
    // The file is now an ordinary file.
    expect(await client.files.retrieve(done.file!.id)).toEqual(done.file);
    const back = Buffer.from(await (await client.files.content(done.file!.id)).arrayBuffer());
    expect(md5(back)).toBe(md5(whole));
    expect((await client.files.list()).data.map((f) => f.id)).toContain(done.file!.id);
    // Completed: no more parts, no second completion, no cancel.
    for (const call of [() => part(upload.id, Buffer.from('x')), () => client.uploads.complete(upload.id, { part_ids: [first.id] }), () => client.uploads.cancel(upload.id)]) {
      const err = await errorOf<APIError>(call());
      expect(err.status).toBe(400);
      expect(err.error).toMatchObject({ code: 'invalid_upload_state' });
    }
  });

  it('gives the file its expires_after; batch uploads default to 30 days', async () => {
    const a = await start(2, { expires_after: { anchor: 'created_at', seconds: 7200 } });
    const done = await client.uploads.complete(a.id, { part_ids: [(await part(a.id, Buffer.from('ok'))).id] });
    expect(done.file!.expires_at).toBe(done.file!.created_at + 7200);
    const b = await start(2, { purpose: 'batch' });
    const doneB = await client.uploads.complete(b.id, { part_ids: [(await part(b.id, Buffer.from('ok'))).id] });
    expect(doneB.file!.expires_at).toBe(doneB.file!.created_at + 30 * 24 * 3600);
  });

  it('refuses parts that do not add up to bytes, and an md5 that does not match', async () => {
    const upload = await start(10);
    const a = await part(upload.id, Buffer.from('12345'));
    const short = await errorOf<APIError>(client.uploads.complete(upload.id, { part_ids: [a.id] }));
    expect(short.status).toBe(400);
    expect(short.error).toMatchObject({ param: 'part_ids', code: 'bytes_mismatch' });
    const b = await part(upload.id, Buffer.from('67890'));
    const dup = await errorOf<APIError>(client.uploads.complete(upload.id, { part_ids: [a.id, a.id] }));
    expect(dup.status).toBe(400);
    const unknown = await errorOf<APIError>(client.uploads.complete(upload.id, { part_ids: [a.id, `part_${'0'.repeat(48)}`] }));
    expect(unknown.status).toBe(400);
    // Still pending after those refusals: the right call completes it.
    const wrongMd5 = await start(4);
    const w = await part(wrongMd5.id, Buffer.from('abcd'));
    const mismatch = await errorOf<APIError>(client.uploads.complete(wrongMd5.id, { part_ids: [w.id], md5: md5(Buffer.from('abce')) }));
    expect(mismatch.status).toBe(400);
    expect(mismatch.error).toMatchObject({ param: 'md5', code: 'md5_mismatch' });
    const done = await client.uploads.complete(upload.id, { part_ids: [b.id, a.id] });
    expect(await (await client.files.content(done.file!.id)).text()).toBe('6789012345');
  });

  it('cancels: the upload is cancelled and takes no more parts', async () => {
    const upload = await start(4);
    await part(upload.id, Buffer.from('ab'));
    const cancelled = await client.uploads.cancel(upload.id);
    expect(cancelled).toMatchObject({ id: upload.id, status: 'cancelled', file: null });
    expect((await errorOf<APIError>(part(upload.id, Buffer.from('cd')))).status).toBe(400);
    expect((await errorOf<APIError>(client.uploads.cancel(upload.id))).status).toBe(400);
  });

  it('refuses a part bigger than the upload, bad create requests, and unknown uploads', async () => {
    const small = await start(3);
    const big = await errorOf<APIError>(part(small.id, Buffer.from('four')));
    expect(big.status).toBe(413);
    expect(big.error).toMatchObject({ param: 'data', code: 'part_too_large' });
    const noData = await fetch(`${p.baseURL}/uploads/${small.id}/parts`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}` }, body: new FormData() });
    expect(noData.status).toBe(400);
    for (const [body, param] of [
      [{ bytes: 8 * 1024 ** 3 + 1, filename: 'x', mime_type: 'text/plain', purpose: 'assistants' }, 'bytes'],
      [{ bytes: 0, filename: 'x', mime_type: 'text/plain', purpose: 'assistants' }, 'bytes'],
      [{ bytes: 1, filename: 'x', mime_type: 'text/plain', purpose: 'fun' }, 'purpose'],
      [{ bytes: 1, filename: 'x', purpose: 'assistants' }, 'mime_type'],
      [{ bytes: 1, filename: 'x', mime_type: 'text/plain', purpose: 'assistants', expires_after: { anchor: 'created_at', seconds: 10 } }, 'expires_after.seconds'],
    ] as const) {
      const err = await errorOf<APIError>(client.uploads.create(body as never));
      expect(err.status, param).toBe(400);
      expect(String((err.error as { param?: string }).param), `${param}: ${err.message}`).toContain(param.split('.')[0]!);
    }
    const unknown = `upload_${'0'.repeat(48)}`;
    for (const call of [() => part(unknown, Buffer.from('x')), () => client.uploads.complete(unknown, { part_ids: [] }), () => client.uploads.cancel(unknown)]) {
      expect((await errorOf<APIError>(call())).status).toBe(404);
    }
  });

  it('expires a pending upload after an hour: its parts and completion are refused', async () => {
    const upload = await start(4);
    const a = await part(upload.id, Buffer.from('abcd'));
    const later = { ...signPrincipal({ projectId: staticProjectOf(TEST_KEY) }, TEST_INTERNAL_TOKEN), 'x-rgw-clock-offset-ms': String(3601_000) };
    const form = new FormData();
    form.append('data', new Blob(['x']), 'p');
    expect((await fetch(`${p.baseURL}/uploads/${upload.id}/parts`, { method: 'POST', headers: later, body: form })).status).toBe(404);
    const complete = await fetch(`${p.baseURL}/uploads/${upload.id}/complete`, { method: 'POST', headers: { ...later, 'content-type': 'application/json' }, body: JSON.stringify({ part_ids: [a.id] }) });
    expect(complete.status).toBe(404);
    expect(((await complete.json()) as { error: unknown }).error).toMatchObject({ code: 'upload_expired' });
    // Now (not an hour later) it is still pending and completes.
    expect((await client.uploads.complete(upload.id, { part_ids: [a.id] })).status).toBe('completed');
  });

  it("keeps each project's uploads to itself", async () => {
    const upload = await start(2);
    for (const call of [() => part(upload.id, Buffer.from('ab'), other), () => other.uploads.complete(upload.id, { part_ids: [] }), () => other.uploads.cancel(upload.id)]) {
      expect((await errorOf<APIError>(call())).status).toBe(404);
    }
    const mine = await part(upload.id, Buffer.from('ab'));
    const done = await client.uploads.complete(upload.id, { part_ids: [mine.id] });
    expect((await errorOf<APIError>(other.files.retrieve(done.file!.id))).status).toBe(404);
  });
});
