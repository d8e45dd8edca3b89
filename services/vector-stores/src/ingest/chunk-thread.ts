import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { firstMessage, moduleWorker } from '../module-worker.js';
import { chunkText, type ChunkOptions, type TextChunk } from './chunk-tokens.js';

/** Messages to the chunker thread (chunk-thread-worker.ts). */
export type ToWorker =
  | { t: 'start'; session: number; opts: ChunkOptions }
  | { t: 'text'; session: number; text: string }
  | { t: 'end'; session: number }
  | { t: 'next'; session: number; max: number }
  | { t: 'stop'; session: number };

type FromWorker =
  | { t: 'ready' }
  | { t: 'pull'; session: number }
  | { t: 'chunks'; session: number; chunks: TextChunk[]; done: boolean }
  | { t: 'error'; session: number; message: string; name: string };

/** Chunks per reply of the thread: one reply is prepared while the previous one is embedded and stored. */
const REPLY_CHUNKS = 64;
const READY_TIMEOUT_MS = 30_000;

interface Thread {
  worker: Worker;
  busy: boolean;
  dead: boolean;
  onMessage?: (msg: FromWorker) => void;
  onFailure?: (err: Error) => void;
}

/**
 * Tokenizing is a share of an ingest's CPU (about 0.05 CPU-ms a chunk since o200k-encoder.ts; the
 * index's writer thread commits the rows), and the worker's main thread has the rest to do: the
 * embeddings' JSON and HTTP, the queue. Chunking on a thread of its own keeps it off that thread. `threads` chunker threads are started on first use; a file finding them all busy, or a
 * process that cannot start one, chunks on the calling thread (the same chunks either way: the
 * same chunker runs on the same text).
 */
export class ChunkThreads {
  private readonly threads: Thread[] = [];
  private starting?: Promise<void>;
  private disabled = false;
  private session = 0;

  constructor(
    private readonly size: number = defaultThreads(),
    private readonly onStartFailure: (err: Error) => void = () => {},
  ) {}

  /** The chunks of `segments`, as chunkText makes them, cut on a chunker thread when one is free. */
  async *chunk(segments: AsyncIterable<string> | Iterable<string>, opts: ChunkOptions): AsyncGenerator<TextChunk> {
    const thread = await this.acquire();
    if (!thread) return yield* chunkText(segments, opts);
    try {
      yield* this.run(thread, segments, opts);
    } finally {
      thread.onMessage = undefined;
      thread.onFailure = undefined;
      thread.busy = false;
      thread.worker.unref();
    }
  }

  async close(): Promise<void> {
    this.disabled = true;
    await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()));
  }

  /** Starts the threads (once) and resolves when they are up: true, or false when none could start. */
  async ready(): Promise<boolean> {
    if (this.size < 1) return false;
    this.starting ??= this.start();
    await this.starting;
    return this.threads.length > 0;
  }

  private async acquire(): Promise<Thread | undefined> {
    if (this.disabled || this.size < 1) return undefined;
    // Never waits for the threads to start (loading the tokenizer there takes a moment): until they
    // are up, files are chunked on the calling thread.
    void this.ready();
    const free = this.threads.find((t) => !t.busy && !t.dead);
    if (free) {
      free.busy = true;
      // Working for someone: its replies are awaited, so it keeps the process alive meanwhile.
      free.worker.ref();
    }
    return free;
  }

  private async start(): Promise<void> {
    try {
      const started = await Promise.all(Array.from({ length: this.size }, () => startThread()));
      if (this.disabled) await Promise.all(started.map((t) => t.worker.terminate()));
      else this.threads.push(...started);
    } catch (err) {
      this.disabled = true;
      await Promise.all(this.threads.splice(0).map((t) => t.worker.terminate()));
      this.onStartFailure(err as Error);
    }
  }

  private async *run(thread: Thread, segments: AsyncIterable<string> | Iterable<string>, opts: ChunkOptions): AsyncGenerator<TextChunk> {
    const session = ++this.session;
    const post = (msg: ToWorker): void => thread.worker.postMessage(msg);
    const source = Symbol.asyncIterator in segments ? segments[Symbol.asyncIterator]() : segments[Symbol.iterator]();
    let readError: unknown = null; // extraction failed: thrown to the consumer, as chunkText would
    let failure: Error | null = null;
    let reply: { resolve: (r: { chunks: TextChunk[]; done: boolean }) => void; reject: (e: Error) => void } | undefined;
    const fail = (err: Error): void => {
      failure ??= err;
      reply?.reject(err);
      reply = undefined;
    };
    thread.onFailure = fail;
    thread.onMessage = (msg) => {
      if (msg.t === 'ready' || msg.session !== session) return;
      if (msg.t === 'pull') {
        // Text goes over only when the chunker asks for it: memory stays bounded on both sides.
        Promise.resolve(source.next()).then(
          (r) => post(r.done ? { t: 'end', session } : { t: 'text', session, text: r.value }),
          (err: unknown) => {
            readError = err;
            post({ t: 'end', session });
          },
        );
      } else if (msg.t === 'chunks') {
        reply?.resolve(msg);
        reply = undefined;
      } else {
        fail(Object.assign(new Error(msg.message), { name: msg.name }));
      }
    };
    const ask = (): Promise<{ chunks: TextChunk[]; done: boolean }> => {
      const p = new Promise<{ chunks: TextChunk[]; done: boolean }>((resolve, reject) => {
        if (failure) return reject(failure);
        reply = { resolve, reject };
        post({ t: 'next', session, max: REPLY_CHUNKS });
      });
      // Awaited later (or never, when the consumer stops early): its failure must not go unhandled meanwhile.
      p.catch(() => {});
      return p;
    };
    let done = false;
    post({ t: 'start', session, opts });
    try {
      let pending = ask();
      while (!done) {
        const r = await pending;
        if (readError) throw readError;
        done = r.done;
        // The next reply is cut while these chunks are embedded and stored.
        if (!done) pending = ask();
        yield* r.chunks;
      }
      if (readError) throw readError;
    } finally {
      if (!done) post({ t: 'stop', session });
      if (!done) await source.return?.();
    }
  }
}

async function startThread(): Promise<Thread> {
  const worker = moduleWorker('chunk-thread-worker', import.meta.url);
  const thread: Thread = { worker, busy: false, dead: false };
  await firstMessage<FromWorker>(worker, 'the chunker thread', READY_TIMEOUT_MS, (msg) => (msg.t === 'ready' ? undefined : msg.t));
  worker.on('message', (msg: FromWorker) => thread.onMessage?.(msg));
  const die = (err: Error): void => {
    thread.dead = true;
    thread.onFailure?.(err);
  };
  worker.on('error', die);
  worker.on('exit', (code) => die(new Error(`the chunker thread exited (code ${code})`)));
  // A thread waiting for work must not keep the process alive (acquire refs it while it works).
  worker.unref();
  return thread;
}

/** One chunker thread per core beyond the first (INGEST_CHUNK_THREADS overrides; 0 chunks on the calling thread). */
function defaultThreads(): number {
  const configured = process.env.INGEST_CHUNK_THREADS;
  if (configured !== undefined && configured !== '') return Math.max(0, Math.floor(Number(configured)) || 0);
  return Math.max(1, availableParallelism() - 1);
}
