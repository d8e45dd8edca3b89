import { InvalidFileError } from './ingest-errors.js';

/** Bytes as the ingest reads them: a Node Readable or any async iterable of buffers. */
export type ByteSource = AsyncIterable<Uint8Array | string>;

function toBuffer(chunk: Uint8Array | string): Buffer {
  return typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/**
 * Reads the first `size` bytes (or all, if fewer) without losing them: `rest` yields the head
 * again followed by the remaining bytes, so sniffing never forces the whole file into memory.
 */
export async function peek(source: ByteSource, size: number): Promise<{ head: Buffer; rest: AsyncIterable<Buffer>; close: () => Promise<void> }> {
  const iterator = source[Symbol.asyncIterator]();
  const parts: Buffer[] = [];
  let length = 0;
  let done = false;
  while (length < size) {
    const next = await iterator.next();
    if (next.done) {
      done = true;
      break;
    }
    const buf = toBuffer(next.value);
    parts.push(buf);
    length += buf.length;
  }
  const head = Buffer.concat(parts);
  async function* rest(): AsyncGenerator<Buffer> {
    if (head.length) yield head;
    if (done) return;
    try {
      for (;;) {
        const next = await iterator.next();
        if (next.done) {
          done = true;
          return;
        }
        yield toBuffer(next.value);
      }
    } finally {
      // Stopping early (an error downstream) must release the underlying stream.
      await close();
    }
  }
  // A generator never started does not run its finally: close() releases the source in every case.
  const close = async (): Promise<void> => {
    if (!done) {
      done = true;
      await iterator.return?.();
    }
  };
  return { head: head.subarray(0, Math.min(head.length, size)), rest: rest(), close };
}

/** Reads a whole (binary) file, refusing more than `maxBytes` before holding it. */
export async function readAll(source: AsyncIterable<Buffer>, maxBytes: number, what: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  let length = 0;
  for await (const chunk of source) {
    length += chunk.length;
    if (length > maxBytes) {
      throw new InvalidFileError(`The ${what} file is larger than the ${formatBytes(maxBytes)} this server extracts from ${what} files.`);
    }
    parts.push(chunk);
  }
  return Buffer.concat(parts, length);
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${Math.round((bytes / (1024 * 1024)) * 10) / 10} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}
