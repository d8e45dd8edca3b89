import { Readable } from 'node:stream';
import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  S3Client,
  UploadPartCommand,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { ObjectNotFoundError, ObjectStoreUnavailableError, type ObjectStore, type ObjectStoreConfig } from './object-store.js';
import { isAbortError, isNotFound, s3Call, statusOf, toStoreError } from './s3-errors.js';
import { completeS3Multipart, MIN_PART_BYTES, partPrefix, partToken } from './s3-multipart-join.js';
import { deletePrefix, listKeys, type S3Target } from './s3-target.js';

/**
 * lib-storage buffers up to `queueSize` parts in flight plus the one being filled, so a put holds at
 * most (QUEUE_SIZE + 1) * PART_BYTES in memory whatever the object's size. 8 MiB stays above S3's
 * 5 MiB minimum and below the 11 MiB request cap of small S3 emulators (fauxqs).
 */
export const PART_BYTES = 8 * 1024 * 1024;
const QUEUE_SIZE = 2;
/** Keys the store uses for itself (parts of open multipart uploads); hidden from `list`. */
const INTERNAL_PREFIX = '.multipart/';

/**
 * Objects in an S3-protocol bucket (AWS, MinIO, ...). Every transfer streams; a failing or unreachable
 * store surfaces as `ObjectStoreUnavailableError` within seconds rather than a hang (3 s connection
 * timeout, 10 s idle-socket timeout, one retry).
 */
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  readonly client: S3Client;
  private readonly target: S3Target;

  /**
   * `idleTimeoutMs` ends a request whose socket saw no traffic for that long (a hung server; also a
   * download whose reader stalls that long). The SDK retries once, so a hung server fails in about twice that.
   */
  constructor(
    readonly config: Extract<ObjectStoreConfig, { kind: 's3' }>,
    timeouts: { connectMs?: number; idleMs?: number } = {},
  ) {
    this.client = new S3Client({
      region: config.region,
      endpoint: config.endpoint,
      // MinIO and most self-hosted servers do not resolve bucket sub-domains.
      forcePathStyle: !!config.endpoint,
      credentials: config.accessKeyId && config.secretAccessKey ? { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey } : undefined,
      // Newer SDKs add CRC checksums to every request by default, which older S3-compatible servers reject.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      maxAttempts: 2,
      requestHandler: { connectionTimeout: timeouts.connectMs ?? 3_000, socketTimeout: timeouts.idleMs ?? 10_000 },
    });
    this.target = { client: this.client, bucket: config.bucket, partCopy: 'unknown' };
  }

  async ensureReady(): Promise<void> {
    const Bucket = this.config.bucket;
    try {
      await this.client.send(new HeadBucketCommand({ Bucket }));
      return;
    } catch (err) {
      if (statusOf(err) !== 404 && (err as Error).name !== 'NotFound' && (err as Error).name !== 'NoSuchBucket') throw toStoreError(err, Bucket);
    }
    try {
      const location = !this.config.endpoint && this.config.region !== 'us-east-1' ? { LocationConstraint: this.config.region as never } : undefined;
      await this.client.send(new CreateBucketCommand({ Bucket, CreateBucketConfiguration: location }));
    } catch (err) {
      // Another process of the platform may have created it in between.
      if ((err as Error).name !== 'BucketAlreadyOwnedByYou') throw toStoreError(err, Bucket);
    }
  }

  async ping(): Promise<void> {
    await s3Call(this.config.bucket, () => this.client.send(new HeadBucketCommand({ Bucket: this.config.bucket })));
  }

  async put(key: string, body: Readable, opts: { contentType?: string; signal?: AbortSignal } = {}): Promise<{ bytes: number }> {
    const { bytes } = await this.upload(key, body, opts);
    return { bytes };
  }

  async get(key: string, opts: { range?: { start: number; end?: number }; signal?: AbortSignal } = {}): Promise<{ body: Readable; bytes: number }> {
    const range = opts.range ? `bytes=${opts.range.start}-${opts.range.end ?? ''}` : undefined;
    try {
      const res = await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key: key, Range: range }), { abortSignal: opts.signal });
      const body = res.Body instanceof Readable ? res.Body : Readable.from([]);
      return { body, bytes: res.ContentLength ?? 0 };
    } catch (err) {
      // A range starting past the end (S3 answers 416) reads as empty, as on disk, when the object exists.
      if (statusOf(err) === 416 || (err as Error).name === 'InvalidRange') {
        if (await this.head(key)) return { body: Readable.from([]), bytes: 0 };
        throw new ObjectNotFoundError(key);
      }
      throw toStoreError(err, key);
    }
  }

  async head(key: string): Promise<{ bytes: number } | undefined> {
    try {
      const res = await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: key }));
      return { bytes: res.ContentLength ?? 0 };
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw toStoreError(err, key);
    }
  }

  async delete(key: string): Promise<void> {
    await s3Call(key, () => this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: key })));
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const key of listKeys(this.target, prefix)) if (!key.startsWith(INTERNAL_PREFIX)) yield key;
  }

  async createMultipart(key: string, opts: { contentType?: string } = {}): Promise<{ uploadId: string }> {
    const res = await s3Call(key, () => this.client.send(new CreateMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, ContentType: opts.contentType })));
    if (!res.UploadId) throw new ObjectStoreUnavailableError(`object store (S3) returned no upload id for '${key}'`);
    return { uploadId: res.UploadId };
  }

  /**
   * A part whose size is known and at least 5 MiB goes straight into S3's multipart upload (streamed,
   * the length is what UploadPart needs). Any other part (size unknown, or small) is streamed as its own
   * temporary object under `.multipart/<upload>/`: a native part that later turns out not to be last
   * could never be completed (S3's 5 MiB rule) nor read back, whereas an object can be copied
   * server-side or read when the parts are joined. The returned ETag records which it is and its size,
   * so completion needs no listing and works from any process.
   */
  async putPart(key: string, uploadId: string, partNumber: number, body: Readable, opts: { bytes?: number; signal?: AbortSignal } = {}): Promise<{ etag: string; bytes: number }> {
    if (!Number.isInteger(partNumber) || partNumber < 1 || partNumber > 10_000) throw new RangeError(`part number ${partNumber} is outside 1..10000`);
    if (opts.bytes !== undefined && opts.bytes >= MIN_PART_BYTES) {
      const bytes = opts.bytes;
      const counted = countBytes(body, opts.signal, bytes);
      // The SDK pipes the body into the request without watching it: a failing body must cancel the
      // request itself, or the server would wait for the missing bytes until the idle timeout.
      const cancel = new AbortController();
      counted.stream.on('error', () => cancel.abort());
      const signal = opts.signal ? AbortSignal.any([opts.signal, cancel.signal]) : cancel.signal;
      try {
        const res = await this.client.send(
          new UploadPartCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId, PartNumber: partNumber, Body: counted.stream, ContentLength: bytes }),
          { abortSignal: signal },
        );
        return { etag: partToken('part', bytes, res.ETag ?? ''), bytes };
      } catch (err) {
        if (opts.signal?.aborted) throw abortErrorOf(opts.signal);
        throw counted.failure() ?? toStoreError(err, key);
      }
    }
    const tmpKey = `${partPrefix(uploadId)}${partNumber}`;
    const { bytes, etag } = await this.upload(tmpKey, body, { signal: opts.signal, expected: opts.bytes });
    return { etag: partToken('object', bytes, etag), bytes };
  }

  async completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<{ bytes: number }> {
    return completeS3Multipart(this.target, key, uploadId, parts, (k, body) => this.upload(k, body));
  }

  async abortMultipart(key: string, uploadId: string): Promise<void> {
    try {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket: this.config.bucket, Key: key, UploadId: uploadId }));
    } catch (err) {
      if (!isNotFound(err)) throw toStoreError(err, key);
    }
    await deletePrefix(this.target, partPrefix(uploadId));
  }

  async close(): Promise<void> {
    this.client.destroy();
  }

  /**
   * Streams `body` into `key` with lib-storage (one PutObject when it fits in a part, else a multipart
   * upload with bounded memory). The signal is honoured by destroying the body: lib-storage then fails
   * its own upload and, before rejecting, aborts the multipart upload it had opened, so nothing is left
   * behind (its own `abort()` rejects at once and cleans up later, racing the caller).
   */
  private async upload(key: string, body: Readable, opts: { contentType?: string; signal?: AbortSignal; expected?: number } = {}): Promise<{ bytes: number; etag: string }> {
    const counted = countBytes(body, opts.signal, opts.expected);
    const upload = new Upload({
      client: this.client,
      params: { Bucket: this.config.bucket, Key: key, Body: counted.stream, ContentType: opts.contentType },
      queueSize: QUEUE_SIZE,
      partSize: PART_BYTES,
      leavePartsOnError: false,
    });
    try {
      const res = await upload.done();
      return { bytes: counted.bytes(), etag: res.ETag ?? '' };
    } catch (err) {
      if (opts.signal?.aborted) throw abortErrorOf(opts.signal);
      // The body's own failure (the client went away) is not the store's.
      throw counted.failure() ?? toStoreError(err, key);
    }
  }
}

/**
 * Passes `body` through, counting bytes; aborting `signal` or a failing body ends the stream with that
 * error, and so does a body longer or shorter than `expected` (a request must never carry fewer bytes
 * than its Content-Length: the server would wait for the rest).
 */
function countBytes(body: Readable, signal?: AbortSignal, expected?: number): { stream: Readable; bytes: () => number; failure: () => Error | undefined } {
  let bytes = 0;
  let failure: Error | undefined;
  const onAbort = () => body.destroy(abortErrorOf(signal!));
  async function* pass() {
    if (signal?.aborted) throw abortErrorOf(signal);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      for await (const chunk of body) {
        const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array | string);
        bytes += buf.length;
        if (expected !== undefined && bytes > expected) throw new RangeError(`the body has more than the ${expected} bytes announced`);
        yield buf;
      }
      if (expected !== undefined && bytes !== expected) throw new RangeError(`the body has ${bytes} bytes, ${expected} announced`);
    } catch (err) {
      failure = err as Error;
      throw err;
    } finally {
      signal?.removeEventListener('abort', onAbort);
    }
  }
  return { stream: Readable.from(pass(), { objectMode: false }), bytes: () => bytes, failure: () => failure };
}

function abortErrorOf(signal: AbortSignal): Error {
  const reason = signal.reason as unknown;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  return Object.assign(new Error('the operation was aborted', { cause: reason }), { name: 'AbortError' });
}
