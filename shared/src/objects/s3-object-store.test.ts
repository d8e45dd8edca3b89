import { Readable } from 'node:stream';
import { startFauxqs } from 'fauxqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startS3TestServer, type S3TestServer } from '../../../test/support/s3-server.js';
import { pattern, readAll } from './contract-targets.js';
import { S3ObjectStore } from './s3-object-store.js';

// Which S3 calls each multipart join makes: the cheap paths must not copy bytes, nor pass them through us.
const MiB = 1024 * 1024;
const big1 = pattern(6 * MiB, 1);
const big2 = pattern(5 * MiB, 2);
const small = pattern(3000, 3);

function storeOn(endpoint: string, bucket: string) {
  const store = new S3ObjectStore({ kind: 's3', endpoint, bucket, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' });
  const calls: string[] = [];
  store.client.middlewareStack.add(
    (next, context) => async (args) => {
      calls.push(context.commandName ?? '?');
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  return { store, calls };
}

async function join(store: S3ObjectStore, calls: string[], key: string, parts: [Buffer, boolean][], order: number[]) {
  const { uploadId } = await store.createMultipart(key);
  const etags: string[] = [];
  for (const [i, [data, sized]] of parts.entries()) {
    etags.push((await store.putPart(key, uploadId, i + 1, Readable.from([data]), sized ? { bytes: data.length } : {})).etag);
  }
  calls.length = 0;
  await store.completeMultipart(key, uploadId, order.map((n) => ({ partNumber: n, etag: etags[n - 1]! })));
  const made = [...calls];
  const bytes = await readAll((await store.get(key)).body);
  expect(bytes.equals(Buffer.concat(order.map((n) => parts[n - 1]![0])))).toBe(true);
  return made;
}

describe('S3 multipart join paths', () => {
  let server: S3TestServer;
  let s: ReturnType<typeof storeOn>;
  beforeAll(async () => {
    server = await startS3TestServer();
    s = storeOn(server.endpoint, 'paths');
    await s.store.ensureReady();
  });
  afterAll(async () => {
    await s.store.close();
    await server.stop();
  });

  it('in order with sized parts of 5 MiB and more: only CompleteMultipartUpload', async () => {
    const calls = await join(s.store, s.calls, 'native', [[big1, true], [big2, true]], [1, 2]);
    expect(calls.filter((c) => c !== 'ListObjectsV2Command')).toEqual(['CompleteMultipartUploadCommand']);
  });

  it('a small last part (kept as an object when it arrived) costs one server-side copy of that part only', async () => {
    const calls = await join(s.store, s.calls, 'small-last', [[big1, true], [big2, true], [small, true]], [1, 2, 3]);
    expect(calls.filter((c) => c === 'UploadPartCopyCommand')).toHaveLength(1);
    expect(calls).not.toContain('GetObjectCommand');
  });

  it('in order with unsized parts: server-side UploadPartCopy into the same upload, nothing read back', async () => {
    const calls = await join(s.store, s.calls, 'copied', [[big1, true], [big2, false], [small, false]], [1, 2, 3]);
    expect(calls.filter((c) => c === 'UploadPartCopyCommand')).toHaveLength(2);
    expect(calls).not.toContain('GetObjectCommand');
  });

  it('reordered large parts: rebuilt by server-side copies, nothing read back', async () => {
    const calls = await join(s.store, s.calls, 'reordered', [[big1, true], [big2, false], [small, true]], [2, 1, 3]);
    expect(calls.filter((c) => c === 'UploadPartCopyCommand')).toHaveLength(3);
    expect(calls).not.toContain('GetObjectCommand');
  });

  it('a small part that is not last: streamed through this process in the requested order', async () => {
    const calls = await join(s.store, s.calls, 'streamed', [[big1, true], [small, true], [big2, false]], [2, 1, 3]);
    expect(calls).toContain('GetObjectCommand');
    expect(calls).not.toContain('UploadPartCopyCommand');
  });
});

describe('S3 multipart join on a server without UploadPartCopy', () => {
  it('detects it and streams instead, with the right bytes', async () => {
    const plain = await startFauxqs({ port: 0, logger: false });
    const s = storeOn(`http://127.0.0.1:${plain.port}`, 'plain');
    try {
      await s.store.ensureReady();
      const first = await join(s.store, s.calls, 'a', [[big1, true], [big2, false], [small, false]], [1, 2, 3]);
      expect(first).toContain('UploadPartCopyCommand');
      expect(first).toContain('GetObjectCommand');
      // Learnt once: the next join streams straight away.
      const second = await join(s.store, s.calls, 'b', [[big2, false], [big1, true]], [2, 1]);
      expect(second).not.toContain('UploadPartCopyCommand');
    } finally {
      await s.store.close();
      await plain.stop();
    }
  });
});
