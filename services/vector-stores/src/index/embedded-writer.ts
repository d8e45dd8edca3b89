import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

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
    const url = new URL(`./embedded-writer-thread${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url);
    const workerData = { path, busyTimeoutMs };
    // TypeScript run directly (tsx): Node 20 does not pass the loader hooks to worker threads, so the
    // thread loads its module through tsx's API (as the ingest worker's chunker thread does).
    const tsx = url.pathname.endsWith('.ts') ? tsxApiUrl() : undefined;
    let worker: Worker | undefined;
    try {
      worker = tsx
        ? new Worker(`import(${JSON.stringify(tsx)}).then((api) => api.tsImport(${JSON.stringify(url.href)}, ${JSON.stringify(import.meta.url)}))`, { eval: true, workerData })
        : new Worker(url, { workerData });
      const started = worker;
      await new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('the index writer thread did not start in time')), READY_TIMEOUT_MS);
        started.once('message', () => {
          clearTimeout(timer);
          resolve();
        });
        started.once('error', (err) => {
          clearTimeout(timer);
          reject(err);
        });
      });
      return new IndexWriterThread(started);
    } catch {
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

/** tsx's ESM API (`tsx/esm/api`, its `import` condition), found from here. */
function tsxApiUrl(): string {
  const resolve = (import.meta as { resolve?: (s: string) => string }).resolve;
  if (resolve) return resolve('tsx/esm/api');
  // Where import.meta.resolve is missing (a test runner's transform), the `require` entry's sibling.
  return pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api').replace(/\.cjs$/, '.mjs')).href;
}
