import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { UPSERT_SQL } from './embedded-schema.js';

// The worker side of embedded-writer.ts: its own connection to the index file, committing the
// batches of rows the main thread sends, one transaction each, in the order they come.

const { path, busyTimeoutMs } = workerData as { path: string; busyTimeoutMs: number };
const db = new Database(path, { timeout: busyTimeoutMs });
db.pragma('synchronous = NORMAL');
const upsert = db.prepare(UPSERT_SQL);
// IMMEDIATE: take the write lock up front, so two writers queue on the busy timeout instead of one
// failing to upgrade a read transaction.
const commit = db.transaction((rows: Record<string, unknown>[]) => {
  for (const r of rows) {
    // A Buffer arrives as a plain Uint8Array; the driver binds only Buffers as BLOBs.
    const e = r.embedding as Uint8Array | null;
    if (e) r.embedding = Buffer.from(e.buffer, e.byteOffset, e.byteLength);
    upsert.run(r);
  }
});
const port = parentPort!;
port.on('message', (msg: { id: number; rows: Record<string, unknown>[] }) => {
  try {
    commit.immediate(msg.rows);
    port.postMessage({ id: msg.id });
  } catch (err) {
    const e = err as Error & { code?: string };
    port.postMessage({ id: msg.id, error: { message: e.message, name: e.name, code: e.code } });
  }
});
port.postMessage({ ready: true });
