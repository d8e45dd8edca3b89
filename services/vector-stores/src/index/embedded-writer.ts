import type { Worker } from 'node:worker_threads';
import { firstMessage, moduleWorker } from '../module-worker.js';

const READY_TIMEOUT_MS = 30_000;

/**
 * Commits chunk rows on a thread of its own (embedded-writer-thread.ts, its own connection to the
 * file). Inserting a chunk costs about 0.2 ms of CPU, most of it FTS5 indexing its text: on the
 * writer thread that runs beside the ingest worker's main thread (embeddings, queue, HTTP) instead of
 * in turn with it. `write` resolves once the rows are committed, as the synchronous upsert did.
 */
export class IndexWriterThread {
  private readonly waiting = new Map<number, { resolve: () => void; reject: (err: Error) => void }>();
  private next = 0;
  private failure?: Error;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (msg: { id: number; error?: { message: string; name: string; code?: string } }) => {
      const w = this.waiting.get(msg.id);
      if (!w) return;
      this.waiting.delete(msg.id);
      if (this.waiting.size === 0) worker.unref();
      if (msg.error) w.reject(Object.assign(new Error(msg.error.message), { name: msg.error.name, code: msg.error.code }));
      else w.resolve();
    });
    const die = (err: Error): void => {
      this.failure ??= err;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', die);
    worker.on('exit', (code) => die(new Error(`the index writer thread exited (code ${code})`)));
    // Idle, it must not keep the process alive (write refs it while rows are in flight).
    worker.unref();
  }

  /** Starts a writer thread on the file (whose schema exists); undefined when none can start. */
  static async start(path: string, busyTimeoutMs: number): Promise<IndexWriterThread | undefined> {
    let worker: Worker | undefined;
    try {
      worker = moduleWorker('embedded-writer-thread', import.meta.url, { workerData: { path, busyTimeoutMs } });
      const started = worker;
      await firstMessage(started, 'the index writer thread', READY_TIMEOUT_MS);
      return new IndexWriterThread(started);
    } catch (err) {
      // Not fatal (the rows are written on the calling thread), but never silent.
      process.emitWarning(`the index writer thread could not start (${(err as Error).message}); rows are written on the main thread`);
      await worker?.terminate();
      return undefined;
    }
  }

  get usable(): boolean {
    return !this.failure;
  }

  /** Commits the rows in one transaction; resolves once they are committed. */
  write(rows: Record<string, unknown>[]): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const id = ++this.next;
    return new Promise<void>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.worker.ref();
      this.worker.postMessage({ id, rows });
    });
  }

  async close(): Promise<void> {
    this.failure ??= new Error('the index is closed');
    await this.worker.terminate();
  }
}
