// Test support for object-store.contract.test.ts: the stores the contract runs against, each with a
// way to see what a failed or aborted write left behind. Not imported by production code.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startS3TestServer, type S3TestServer } from '../../../test/support/s3-server.js';
import { DiskObjectStore } from './disk-object-store.js';
import type { ObjectStore } from './object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

export interface ContractTarget {
  name: string;
  store: ObjectStore;
  /** Open multipart uploads and temporary files/objects: must be none after an abort or a failure. */
  leftovers(): Promise<string[]>;
  stop(): Promise<void>;
}

export interface TargetPlan {
  name: string;
  /** Why this target cannot run here (printed loudly), or undefined. */
  skipReason?: string;
  start(): Promise<ContractTarget>;
}

export function targetPlans(): TargetPlan[] {
  const realEndpoint = process.env.S3_ENDPOINT;
  return [
    { name: 'disk', start: startDisk },
    { name: 's3 (fauxqs)', start: startFauxqs },
    {
      name: `s3 (real: ${realEndpoint ?? 'unset'})`,
      skipReason: realEndpoint ? undefined : 'S3_ENDPOINT is not set in the environment: no real S3/MinIO server to run the contract against',
      start: () => startRealS3(realEndpoint!),
    },
  ];
}

async function startDisk(): Promise<ContractTarget> {
  const dir = mkdtempSync(join(tmpdir(), 'rgw-objects-'));
  const store = new DiskObjectStore(dir);
  await store.ensureReady();
  return {
    name: 'disk',
    store,
    async leftovers() {
      return ['.tmp', '.multipart'].flatMap((sub) => readdirSync(join(dir, sub)).map((name) => `${sub}/${name}`));
    },
    async stop() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function startFauxqs(): Promise<ContractTarget> {
  // A child process: the server keeps objects in memory, which must not count in this process's RSS.
  const server: S3TestServer = await startS3TestServer({ childProcess: true });
  const store = new S3ObjectStore({ kind: 's3', endpoint: server.endpoint, bucket: `contract-${randomBytes(4).toString('hex')}`, region: 'us-east-1', accessKeyId: 'test', secretAccessKey: 'test' });
  await store.ensureReady();
  return { name: 's3 (fauxqs)', store, leftovers: () => s3Leftovers(store), stop: async () => (await store.close(), await server.stop()) };
}

async function startRealS3(endpoint: string): Promise<ContractTarget> {
  const store = new S3ObjectStore({
    kind: 's3',
    endpoint,
    bucket: process.env.S3_BUCKET ?? 'rgw-contract',
    region: process.env.S3_REGION ?? 'us-east-1',
    accessKeyId: process.env.S3_ACCESS_KEY_ID,
    secretAccessKey: process.env.S3_SECRET_ACCESS_KEY,
  });
  await store.ensureReady();
  return { name: 's3 (real)', store, leftovers: () => s3Leftovers(store), stop: () => store.close() };
}

async function s3Leftovers(store: S3ObjectStore): Promise<string[]> {
  const Bucket = store.config.bucket;
  const uploads = await store.client.send(new ListMultipartUploadsCommand({ Bucket }));
  const internal = await store.client.send(new ListObjectsV2Command({ Bucket, Prefix: '.multipart/' }));
  return [...(uploads.Uploads ?? []).map((u) => `upload ${u.Key} ${u.UploadId}`), ...(internal.Contents ?? []).map((o) => `object ${o.Key}`)];
}

/** Deterministic pseudo-random bytes: the same (seed, length) always gives the same buffer. */
export function pattern(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed * 2654435761 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export async function readAll(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * A body that sends `chunks` chunks of `chunkBytes` on demand, then either ends, stalls (never ends,
 * like a client that went quiet) or fails with an error.
 */
export function chunkedBody(chunkBytes: number, chunks: number, then: 'end' | 'stall' | 'fail', onChunk?: (sent: number) => void): Readable {
  let sent = 0;
  const base = pattern(chunkBytes, 7);
  return new Readable({
    read() {
      if (sent < chunks) {
        const chunk = Buffer.from(base);
        chunk.writeUInt32BE(sent, 0);
        sent++;
        onChunk?.(sent);
        this.push(chunk);
      } else if (then === 'end') this.push(null);
      else if (then === 'fail') this.destroy(new Error('client went away mid-upload'));
      // 'stall': push nothing more; only an abort ends it.
    },
  });
}

/**
 * A slow destination for `writeTo`, holding each chunk as a socket does: it copies the bytes only when
 * it is done with them, 2 ms later (slower than the disk), so a sender that reused a buffer before the
 * write callback shows up as wrong bytes. `maxQueued` is the most it ever held after a `write`.
 * `destroyAfter` destroys it once that many bytes arrived (a client leaving).
 */
export function slowSink(opts: { destroyAfter?: number } = {}) {
  const chunks: Buffer[] = [];
  const seen = { bytes: 0, maxQueued: 0 };
  const sink = new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _encoding, callback) {
      setTimeout(() => {
        chunks.push(Buffer.from(chunk));
        seen.bytes += chunk.length;
        if (opts.destroyAfter !== undefined && seen.bytes >= opts.destroyAfter) return sink.destroy();
        callback();
      }, 2);
    },
  });
  const write = sink.write.bind(sink) as (chunk: Uint8Array, cb?: (err?: Error | null) => void) => boolean;
  sink.write = ((chunk: Uint8Array, cb?: (err?: Error | null) => void) => {
    const ok = write(chunk, cb);
    seen.maxQueued = Math.max(seen.maxQueued, sink.writableLength);
    return ok;
  }) as typeof sink.write;
  return { sink, seen, finished: new Promise<Buffer>((resolve, reject) => sink.on('finish', () => resolve(Buffer.concat(chunks))).on('error', reject)) };
}
