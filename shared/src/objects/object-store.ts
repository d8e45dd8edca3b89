import type { Readable } from 'node:stream';

/**
 * Where file bytes live: local disk under DATA_DIR (embedded) or an S3-protocol bucket (distributed;
 * MinIO or AWS). Keys are opaque, `/`-separated and chosen by the caller (e.g. `files/<project>/<id>`).
 * Every method streams: nothing holds a whole object in memory.
 */
export interface ObjectStore {
  readonly kind: 'disk' | 's3';
  /** Creates the bucket (S3) or folder (disk) when missing; called once when a service that stores bytes starts. */
  ensureReady(): Promise<void>;
  /** Cheap reachability check for /health, bounded by the caller. */
  ping(): Promise<void>;
  /**
   * Writes `body` under `key` as it arrives (backpressure respected), replacing any object there.
   * Resolves with the byte count once the object is durable. Aborting `signal` (or `body` erroring)
   * rejects and leaves no object and no partial upload behind.
   */
  put(key: string, body: Readable, opts?: { contentType?: string; signal?: AbortSignal }): Promise<{ bytes: number }>;
  /** Streams the object (or the inclusive byte range); throws `ObjectNotFoundError` when absent. */
  get(key: string, opts?: { range?: { start: number; end?: number }; signal?: AbortSignal }): Promise<{ body: Readable; bytes: number }>;
  /**
   * Optional, for adapters that can serve an object faster than through `get`'s stream (disk: reads
   * into two reused buffers, nothing allocated per chunk). Writes the object (or the inclusive byte
   * range) to `out` and ends it, honouring backpressure. `onSize` gets the byte count before the first
   * byte is written; an absent object throws `ObjectNotFoundError` before that. Rejects with
   * ERR_STREAM_PREMATURE_CLOSE when `out` closes first, and destroys `out` when the object turns out
   * shorter than its size.
   */
  writeTo?(key: string, out: ByteSink, opts?: { range?: { start: number; end?: number }; onSize?: (bytes: number) => void }): Promise<{ bytes: number }>;
  /** Size of the object, or undefined when absent. */
  head(key: string): Promise<{ bytes: number } | undefined>;
  /** Removes the object; absent is not an error. */
  delete(key: string): Promise<void>;
  /** Keys under a prefix, for sweepers and tests (paged internally). */
  list(prefix: string): AsyncIterable<string>;

  /** Multipart writes (the Uploads API): S3's own multipart upload; part files joined at completion on disk. */
  createMultipart(key: string, opts?: { contentType?: string }): Promise<{ uploadId: string }>;
  /** Stores part `partNumber` (1..10000) of an open multipart upload; resolves with its size and ETag. */
  putPart(key: string, uploadId: string, partNumber: number, body: Readable, opts?: { bytes?: number; signal?: AbortSignal }): Promise<{ etag: string; bytes: number }>;
  /**
   * Joins the listed parts, in the order given, into the object `key`; afterwards the parts are gone.
   * Parts need not have been stored in that order (an adapter whose native multipart needs ascending
   * numbers or a minimum part size reassembles them itself, without a copy through this process when it can).
   */
  completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<{ bytes: number }>;
  /** Discards an open multipart upload and its stored parts; unknown is not an error. */
  abortMultipart(key: string, uploadId: string): Promise<void>;
  close(): Promise<void>;
}

/** Where `writeTo` writes: an HTTP response or a writable stream. */
export interface ByteSink {
  write(chunk: Uint8Array, callback: (err?: Error | null) => void): boolean;
  end(): unknown;
  destroy(err?: Error): unknown;
  readonly destroyed: boolean;
  readonly writableNeedDrain: boolean;
  on(event: 'drain' | 'close', listener: () => void): unknown;
  off(event: 'drain' | 'close', listener: () => void): unknown;
}

export class ObjectNotFoundError extends Error {
  constructor(readonly key: string) {
    super(`object not found: ${key}`);
    this.name = 'ObjectNotFoundError';
  }
}

/** The store itself is unreachable or failing (not a client's mistake): services answer 503. */
export class ObjectStoreUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ObjectStoreUnavailableError';
  }
}

export type ObjectStoreConfig =
  | { kind: 'disk'; dir: string }
  | {
      kind: 's3';
      /** S3_ENDPOINT (MinIO etc.); unset = AWS. Path-style addressing whenever an endpoint is given. */
      endpoint?: string;
      bucket: string;
      region: string;
      /** Unset = the standard AWS credential chain. */
      accessKeyId?: string;
      secretAccessKey?: string;
    };
