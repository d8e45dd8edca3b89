import { IndexWriterThread } from './embedded-writer.js';

export interface OrderedWritesOptions {
  /** The index file the writer thread opens. */
  path: string;
  busyTimeoutMs: number;
  /** Whether to commit upserts on a writer thread at all. */
  threaded: boolean;
  /** How long an idle writer thread is kept. */
  idleMs: number;
  /** Whether the index is still open (a thread that comes up after its close is closed at once). */
  isOpen(): boolean;
}

/**
 * The writes of one embedded index, in the order they were called: upserts commit on the writer
 * thread when it is up (started on the first upsert, stopped when idle), everything else on the
 * calling thread, and no write starts before every write called before it has committed, so a delete
 * never overtakes an upsert still on the thread (that would leave its rows behind).
 */
export class OrderedWrites {
  private writer?: IndexWriterThread;
  private writerStart?: Promise<void>;
  private idle?: NodeJS.Timeout;
  private writes: Promise<unknown> = Promise.resolve();

  constructor(private readonly o: OrderedWritesOptions) {}

  /** Runs `write` once every write called before it has committed. */
  run<T>(write: () => T | Promise<T>): Promise<T> {
    const run = this.writes.then(write);
    this.writes = run.catch(() => {});
    return run;
  }

  /** Commits `rows` on the writer thread if it is up, else with `here`; then `after`, in turn. */
  upsert(rows: Record<string, unknown>[], here: () => void, after: () => void): Promise<void> {
    const writer = this.startedWriter();
    return this.run(async () => {
      if (writer?.usable) {
        await writer.write(rows);
        this.stopWriterWhenIdle();
      } else {
        here();
      }
      after();
    });
  }

  async close(): Promise<void> {
    clearTimeout(this.idle);
    await this.writes;
    await this.writerStart;
    await this.writer?.close();
    this.writer = undefined;
    this.writerStart = undefined;
  }

  private stopWriterWhenIdle(): void {
    clearTimeout(this.idle);
    this.idle = setTimeout(() => {
      // In turn with the writes: an upsert that picked this thread finds it closed and writes here.
      void this.run(async () => {
        const idle = this.writer;
        this.writer = undefined;
        this.writerStart = undefined;
        await idle?.close();
      });
    }, this.o.idleMs).unref();
  }

  /** The writer thread once it is up (until then rows are written on the calling thread). */
  private startedWriter(): IndexWriterThread | undefined {
    if (!this.o.threaded) return undefined;
    this.writerStart ??= IndexWriterThread.start(this.o.path, this.o.busyTimeoutMs).then(async (w) => {
      if (this.o.isOpen()) this.writer = w;
      else await w?.close(); // closed meanwhile
    });
    return this.writer;
  }
}
