import { close, fstat, open, read } from 'node:fs';
import { promisify } from 'node:util';
import type { ByteSink } from './object-store.js';

const openFile = promisify(open);
const fstatFile = promisify(fstat);
const closeFile = promisify(close);

/**
 * Read size of the disk store (here, and for `get`'s read streams), and the size of each of the two
 * buffers a transfer reuses. 1 MB reads cost about a third less CPU per MB than 256 KB in a gateway
 * serving downloads (fewer thread-pool round trips, fewer and larger socket writes; A/B in one run).
 */
export const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * Writes the file at `path` (or its inclusive byte range) to `out` and ends it. Reads go into two
 * buffers allocated once per transfer: one is read into while the other is being written, and a
 * buffer is read into again only after its write callback fired, so a download allocates nothing per
 * chunk (a read stream allocates a new 1 MB buffer for every read, which the GC then has to collect).
 * `onSize` is called with the byte count before the first byte goes out; a missing file rejects
 * (ENOENT) before that. If `out` closes first the transfer stops and rejects with
 * ERR_STREAM_PREMATURE_CLOSE; a file that turns out shorter than its size destroys `out` (the client
 * sees a short body, not a hang) and rejects. The file is closed in every case.
 */
export async function sendFile(
  path: string,
  out: ByteSink,
  opts: { range?: { start: number; end?: number }; onSize?: (bytes: number) => void } = {},
): Promise<{ bytes: number }> {
  const fd = await openFile(path, 'r');
  try {
    const size = (await fstatFile(fd)).size;
    const start = opts.range?.start ?? 0;
    const end = Math.min(opts.range?.end ?? size - 1, size - 1);
    const bytes = Math.max(0, end - start + 1);
    opts.onSize?.(bytes);
    await pump(fd, out, start, bytes);
    return { bytes };
  } finally {
    // pump never settles with a read in flight, so the descriptor cannot be reused under one.
    await closeFile(fd).catch(() => {});
  }
}

function pump(fd: number, out: ByteSink, start: number, total: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const size = Math.min(READ_CHUNK_BYTES, total);
    const free: Buffer[] = total > size ? [Buffer.allocUnsafe(size), Buffer.allocUnsafe(size)] : [Buffer.allocUnsafe(size)];
    let position = start;
    let left = total;
    let reading = false;
    let ready: { buffer: Buffer; chunk: Uint8Array } | undefined;
    let gone = false;
    let settled = false;

    const settle = (err?: Error) => {
      if (settled) return;
      settled = true;
      out.off('drain', step);
      out.off('close', onClose);
      if (err) reject(err);
      else resolve();
    };
    const onClose = () => {
      gone = true;
      // A read in flight settles when it returns (the caller closes the descriptor only after that).
      if (!reading) settle(prematureClose());
    };
    const fail = (err: Error) => {
      out.destroy(err);
      settle(err);
    };

    function step(): void {
      if (settled) return;
      if (gone || out.destroyed) return settle(prematureClose());
      // The chunk read ahead goes out once the sink has room; its buffer comes back in the write callback.
      if (ready && !out.writableNeedDrain) {
        const { buffer, chunk } = ready;
        ready = undefined;
        out.write(chunk, (err) => {
          if (err) return; // the sink is failing: its 'close' ends the transfer
          free.push(buffer);
          step();
        });
      }
      if (left === 0) {
        if (!reading && !ready) {
          out.end();
          settle();
        }
        return;
      }
      if (reading || ready || free.length === 0) return;
      const buffer = free.pop()!;
      reading = true;
      read(fd, buffer, 0, Math.min(buffer.length, left), position, (err, n) => {
        reading = false;
        if (settled) return;
        if (gone || out.destroyed) return settle(prematureClose());
        if (err) return fail(err);
        if (n === 0) return fail(new Error(`the file ended after ${position - start} of ${total} bytes (truncated while being read)`));
        position += n;
        left -= n;
        ready = { buffer, chunk: n === buffer.length ? buffer : buffer.subarray(0, n) };
        step();
      });
    }

    out.on('drain', step);
    out.on('close', onClose);
    step();
  });
}

/** What stream.pipeline rejects with when the destination closes first (callers treat it as the client leaving). */
function prematureClose(): Error {
  return Object.assign(new Error('Premature close'), { code: 'ERR_STREAM_PREMATURE_CLOSE' });
}
