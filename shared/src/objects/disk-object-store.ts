import { randomUUID } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { finished, Readable } from 'node:stream';
import { READ_CHUNK_BYTES, sendFile } from './file-sender.js';
import { ObjectNotFoundError, type ByteSink, type ObjectStore } from './object-store.js';

const TMP = '.tmp';
const MULTIPART = '.multipart';

/**
 * Objects as files under one folder (embedded mode). A write goes to a temporary file that is
 * renamed into place once complete and flushed, so a crash or an abort never leaves a partial object
 * under its key. Multipart uploads keep each part as its own file and join them at completion.
 */
export class DiskObjectStore implements ObjectStore {
  readonly kind = 'disk' as const;
  constructor(readonly dir: string) {}

  private ready?: Promise<void>;

  /** Once per store: in embedded mode several services share it, and a later call must not sweep a write in flight. */
  ensureReady(): Promise<void> {
    this.ready ??= this.prepare().catch((err: unknown) => {
      this.ready = undefined;
      throw err;
    });
    return this.ready;
  }

  private async prepare(): Promise<void> {
    await mkdir(join(this.dir, TMP), { recursive: true });
    await mkdir(join(this.dir, MULTIPART), { recursive: true });
    // Temporary files left by a crash belong to no object.
    for (const name of await readdir(join(this.dir, TMP))) await rm(join(this.dir, TMP, name), { force: true });
  }

  async ping(): Promise<void> {
    await mkdir(this.dir, { recursive: true });
  }

  async put(key: string, body: Readable, opts: { signal?: AbortSignal } = {}): Promise<{ bytes: number }> {
    const target = this.pathOf(key);
    const tmp = join(this.dir, TMP, randomUUID());
    await mkdir(dirname(tmp), { recursive: true });
    const bytes = await writeFile(tmp, body, opts.signal);
    await mkdir(dirname(target), { recursive: true });
    await rename(tmp, target);
    return { bytes };
  }

  async get(key: string, opts: { range?: { start: number; end?: number } } = {}): Promise<{ body: Readable; bytes: number }> {
    const path = this.pathOf(key);
    const size = await fileSize(path);
    if (size === undefined) throw new ObjectNotFoundError(key);
    const start = opts.range?.start ?? 0;
    const end = Math.min(opts.range?.end ?? size - 1, size - 1);
    const bytes = Math.max(0, end - start + 1);
    // An empty range must not open a stream that reads the whole file (createReadStream's end is inclusive).
    const body = bytes === 0 ? Readable.from([]) : createReadStream(path, { start, end, highWaterMark: READ_CHUNK_BYTES });
    return { body, bytes };
  }

  async writeTo(key: string, out: ByteSink, opts: { range?: { start: number; end?: number }; onSize?: (bytes: number) => void } = {}): Promise<{ bytes: number }> {
    try {
      return await sendFile(this.pathOf(key), out, opts);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ObjectNotFoundError(key);
      throw err;
    }
  }

  async head(key: string): Promise<{ bytes: number } | undefined> {
    const size = await fileSize(this.pathOf(key));
    return size === undefined ? undefined : { bytes: size };
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }

  async *list(prefix: string): AsyncIterable<string> {
    for await (const path of walk(this.dir)) {
      const key = relative(this.dir, path).split(sep).join('/');
      if (key.startsWith(TMP + '/') || key.startsWith(MULTIPART + '/')) continue;
      if (key.startsWith(prefix)) yield key;
    }
  }

  async createMultipart(): Promise<{ uploadId: string }> {
    const uploadId = randomUUID();
    await mkdir(join(this.dir, MULTIPART, uploadId), { recursive: true });
    return { uploadId };
  }

  async putPart(_key: string, uploadId: string, partNumber: number, body: Readable, opts: { bytes?: number; signal?: AbortSignal } = {}): Promise<{ etag: string; bytes: number }> {
    const folder = this.uploadDir(uploadId);
    if ((await fileSize(folder)) === undefined) throw new ObjectNotFoundError(`multipart ${uploadId}`);
    const tmp = join(this.dir, TMP, randomUUID());
    const bytes = await writeFile(tmp, body, opts.signal);
    if (opts.bytes !== undefined && bytes !== opts.bytes) {
      await rm(tmp, { force: true });
      throw new RangeError(`the body has ${bytes} bytes, ${opts.bytes} announced`);
    }
    await rename(tmp, join(folder, String(partNumber)));
    return { etag: `${partNumber}-${bytes}`, bytes };
  }

  async completeMultipart(key: string, uploadId: string, parts: { partNumber: number; etag: string }[]): Promise<{ bytes: number }> {
    const folder = this.uploadDir(uploadId);
    const sources = parts.map((p) => join(folder, String(p.partNumber)));
    for (const source of sources) if ((await fileSize(source)) === undefined) throw new ObjectNotFoundError(`part ${source}`);
    async function* joined() {
      for (const source of sources) yield* createReadStream(source, { highWaterMark: READ_CHUNK_BYTES });
    }
    const result = await this.put(key, Readable.from(joined()));
    await rm(folder, { recursive: true, force: true });
    return result;
  }

  async abortMultipart(_key: string, uploadId: string): Promise<void> {
    await rm(this.uploadDir(uploadId), { recursive: true, force: true });
  }

  async close(): Promise<void> {}

  private uploadDir(uploadId: string): string {
    if (!/^[A-Za-z0-9-]+$/.test(uploadId)) throw new ObjectNotFoundError(`multipart ${uploadId}`);
    return join(this.dir, MULTIPART, uploadId);
  }

  /** Keys are ours, but refuse anything that could leave the folder all the same. */
  private pathOf(key: string): string {
    const parts = key.split('/');
    if (!key || parts.some((p) => !p || p === '.' || p === '..' || p.startsWith('.')) || key.includes('\0')) {
      throw new Error(`invalid object key '${key}'`);
    }
    return join(this.dir, ...parts);
  }
}

/**
 * Bytes gathered before a write call. The body arrives in socket-sized chunks (16–64 KB); writing each
 * through its own thread-pool round trip (what fs.WriteStream does, with a 16 KB high-water mark)
 * makes the reader stop and wait on every chunk, which on a loaded machine means waiting for a time
 * slice each time. The chunks themselves are gathered (no copy) and written with one writev; only
 * two batches are held at a time, so memory stays flat whatever the size.
 */
// 1 MB: each batch is a hand-off to the thread pool that wakes a pool thread; with 4x fewer of them the
// gateway spent 14 % less CPU per uploaded MB than with 256 KB (1.60 → 1.37, 1.45 → 1.25 ms/MB, two
// gateways side by side in bench section 6 at load ~2; 512 KB and 4 MB lost to 1 MB as well). At
// load 8–16 the two had measured the same.
// (Copying chunks into 1 MB batch buffers, an earlier design, had cost more than 256 KB.)
const WRITE_BATCH_BYTES = 1024 * 1024;
/**
 * Bytes written between two flushes started while the body is still arriving. The write is fsynced
 * before it is acknowledged; left to the end, that flush was most of a large upload's time (256 MB:
 * ~85 ms of page-cache writes, then ~300 ms of fsync on this machine's disk) and the client waited it
 * out after its last byte. Flushed as it goes (one datasync in flight at a time, beside the writes),
 * the disk works while the socket is read: 256 MB paced at ~1 ms/MB took 390 ms instead of 670.
 */
const FLUSH_EVERY_BYTES = 16 * 1024 * 1024;

/**
 * Streams `body` into `path` with at most one write in flight while the next batch gathers, fsyncs
 * it, and removes it on any failure or abort.
 */
async function writeFile(path: string, body: Readable, signal?: AbortSignal): Promise<number> {
  if (signal?.aborted) throw abortError(signal.reason);
  // Destroying the body ends the copy below, wherever it is waiting.
  const onAbort = () => body.destroy(abortError(signal!.reason));
  signal?.addEventListener('abort', onAbort, { once: true });
  let handle: FileHandle | undefined;
  const copy: CopyState = {};
  try {
    handle = await open(path, 'wx');
    const bytes = await copyInto(handle, body, copy);
    await copy.flushing;
    await handle.sync();
    return bytes;
  } catch (err) {
    await copy.writing?.catch(() => {});
    await copy.flushing?.catch(() => {});
    await handle?.close().catch(() => {});
    handle = undefined;
    await rm(path, { force: true });
    if (!body.destroyed) body.destroy();
    throw err;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await handle?.close();
  }
}

/** What a copy has in flight on the file, which the caller awaits before closing it. */
interface CopyState {
  writing?: Promise<void>;
  flushing?: Promise<void>;
}

/**
 * The body's chunks, as they come ('data' events: no copy, no concatenation of the stream's buffer
 * as its async iterator does), gathered into batches written with writev. While a write is in
 * flight and the next batch is full the body is paused. Every FLUSH_EVERY_BYTES a datasync starts
 * beside the writes (never two at once).
 */
function copyInto(handle: FileHandle, body: Readable, state: CopyState): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    let batch: Uint8Array[] = [];
    let batchBytes = 0;
    let bytes = 0;
    let unflushed = 0;
    let ended = false;
    let settled = false;
    let busy = false;
    const settle = (err?: unknown) => {
      if (settled) return;
      settled = true;
      body.off('data', onData);
      stop();
      if (err === undefined) resolve(bytes);
      else reject(err);
    };
    const flush = () => {
      if (busy || settled) return;
      if (batchBytes === 0) {
        if (ended) settle();
        return;
      }
      const out = batch;
      unflushed += batchBytes;
      batch = [];
      batchBytes = 0;
      busy = true;
      state.writing = writevAll(handle, out);
      state.writing.then(
        () => {
          busy = false;
          if (unflushed >= FLUSH_EVERY_BYTES && !state.flushing && !ended) startFlush();
          flush();
          if (!ended && body.isPaused()) body.resume();
        },
        (err: unknown) => settle(err),
      );
    };
    const startFlush = () => {
      unflushed = 0;
      const flushing = handle.datasync();
      state.flushing = flushing;
      flushing.then(
        () => {
          if (state.flushing === flushing) state.flushing = undefined;
        },
        (err: unknown) => settle(err),
      );
    };
    const onData = (chunk: Uint8Array | string) => {
      const data = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      if (data.length === 0) return;
      bytes += data.length;
      batch.push(data);
      batchBytes += data.length;
      if (batchBytes < WRITE_BATCH_BYTES) return;
      if (busy) body.pause();
      else flush();
    };
    // Errors, an abort (the body destroyed) and a body that closes before its end all reject here.
    const stop = finished(body, { writable: false }, (err) => {
      if (err) return settle(err);
      ended = true;
      flush();
    });
    body.on('data', onData);
  });
}

/** What stream.pipeline rejects with when its signal aborts (callers and the contract suite expect it). */
function abortError(reason: unknown): Error {
  return Object.assign(new Error('The operation was aborted', { cause: reason }), { name: 'AbortError', code: 'ABORT_ERR' });
}

/** One writev, repeated for what a short write left over (libuv also cuts at IOV_MAX buffers). */
async function writevAll(handle: FileHandle, chunks: Uint8Array[]): Promise<void> {
  let rest = chunks;
  for (;;) {
    let { bytesWritten } = await handle.writev(rest);
    let i = 0;
    while (i < rest.length && bytesWritten >= rest[i]!.length) bytesWritten -= rest[i++]!.length;
    if (i === rest.length) return;
    rest = [rest[i]!.subarray(bytesWritten), ...rest.slice(i + 1)];
  }
}

async function fileSize(path: string): Promise<number | undefined> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

async function* walk(dir: string): AsyncIterable<string> {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else yield path;
  }
}
