/**
 * The contract for the embedding function: it embeds many inputs in one call and, when the model
 * server refuses, throws an error carrying the HTTP `status` and, if the server sent `retry-after`,
 * `retryAfterMs`. 429, 408 and 5xx (and transport failures, which have no status) are retried with
 * backoff; any other 4xx is final.
 */
export type EmbedFn = (inputs: string[], signal: AbortSignal) => Promise<number[][]>;

export interface EmbedFailure {
  status?: number;
  retryAfterMs?: number;
}

export interface EmbedOptions {
  /** Inputs per call. Default 64. */
  batchSize?: number;
  /** Calls in flight at once. Default 4. */
  concurrency?: number;
  /** Retries of one call after its first attempt. Default 5. */
  maxRetries?: number;
  /** Backoff base and ceiling: attempt n waits a random time up to min(max, base·2ⁿ). Defaults 500 ms, 20 s. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** The dimension every vector must have; by default the first reply's sets it. */
  dimension?: number;
  signal?: AbortSignal;
  /** Called before each retry (for logs and metrics). */
  onRetry?: (info: { attempt: number; delayMs: number; error: unknown }) => void;
  /** Random source of the jitter, in [0, 1). Tests pin it. */
  random?: () => number;
}

export interface EmbeddedChunk<T> {
  chunk: T;
  embedding: Float32Array;
}

/** The model server answered with vectors we cannot use (wrong count, wrong or changing dimension). */
export class EmbeddingResponseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EmbeddingResponseError';
  }
}

const RETRY_AFTER_CAP_MS = 60_000;

export function isRetryable(err: unknown): boolean {
  if (isAbort(err)) return false;
  if (err instanceof EmbeddingResponseError) return false;
  const status = (err as EmbedFailure | null)?.status;
  if (typeof status !== 'number') return true; // no HTTP status: the call failed in transport
  return status === 408 || status === 429 || status >= 500;
}

function isAbort(err: unknown): boolean {
  return (err as Error | null)?.name === 'AbortError';
}

/**
 * Embeds chunks in batches of `batchSize` inputs with up to `concurrency` calls in flight, yielding
 * the batches in input order. A failed call is retried with jittered exponential backoff (at least
 * the server's `retry-after`); a final failure aborts the calls in flight and is thrown. Stopping
 * early (or `signal`) aborts them too.
 */
export async function* embedChunks<T extends { text: string }>(
  chunks: AsyncIterable<T> | Iterable<T>,
  embed: EmbedFn,
  opts: EmbedOptions = {},
): AsyncGenerator<EmbeddedChunk<T>[]> {
  const batchSize = opts.batchSize ?? 64;
  const concurrency = opts.concurrency ?? 4;
  if (!(batchSize >= 1) || !(concurrency >= 1)) throw new RangeError('batchSize and concurrency must be at least 1');
  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(opts.signal!.reason);
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener('abort', onOuterAbort, { once: true });
  let dimension = opts.dimension;

  const run = async (batch: T[]): Promise<EmbeddedChunk<T>[]> => {
    const vectors = await withRetry(() => embed(batch.map((c) => c.text), controller.signal), controller.signal, opts);
    if (!Array.isArray(vectors) || vectors.length !== batch.length) {
      throw new EmbeddingResponseError(`The embedding model returned ${Array.isArray(vectors) ? vectors.length : 'no'} vectors for ${batch.length} inputs.`);
    }
    return batch.map((chunk, i) => {
      const vector = vectors[i];
      if (!Array.isArray(vector) || vector.length === 0) throw new EmbeddingResponseError('The embedding model returned an empty vector.');
      dimension ??= vector.length;
      if (vector.length !== dimension) {
        throw new EmbeddingResponseError(`The embedding model returned a vector of ${vector.length} dimensions where ${dimension} were expected.`);
      }
      const embedding = Float32Array.from(vector);
      if (!embedding.every(Number.isFinite)) throw new EmbeddingResponseError('The embedding model returned a vector with a non-finite value.');
      return { chunk, embedding };
    });
  };

  const inFlight: Promise<EmbeddedChunk<T>[]>[] = [];
  let failure: unknown = null; // the first real failure: siblings aborted because of it report it, not their abort
  const start = (batch: T[]): void => {
    const p = run(batch);
    // Marked handled now: it is awaited later, in order, and a rejection must not go unhandled meanwhile.
    p.catch((err) => {
      if (failure === null && !isAbort(err)) failure = err;
      controller.abort(new Error('another embedding call failed'));
    });
    inFlight.push(p);
  };
  const next = async (): Promise<EmbeddedChunk<T>[]> => {
    try {
      return await inFlight.shift()!;
    } catch (err) {
      throw failure ?? err;
    }
  };
  try {
    let batch: T[] = [];
    for await (const chunk of chunks) {
      if (failure !== null) throw failure;
      throwIfAborted(controller.signal);
      batch.push(chunk);
      if (batch.length < batchSize) continue;
      start(batch);
      batch = [];
      if (inFlight.length >= concurrency) yield await next();
    }
    if (batch.length) start(batch);
    while (inFlight.length) yield await next();
  } finally {
    opts.signal?.removeEventListener('abort', onOuterAbort);
    if (inFlight.length) controller.abort(new Error('embedding stopped'));
  }
}

async function withRetry<R>(call: () => Promise<R>, signal: AbortSignal, opts: EmbedOptions): Promise<R> {
  const maxRetries = opts.maxRetries ?? 5;
  const base = opts.baseDelayMs ?? 500;
  const ceiling = opts.maxDelayMs ?? 20_000;
  const random = opts.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    throwIfAborted(signal);
    try {
      return await call();
    } catch (err) {
      if (signal.aborted) throw abortError(signal);
      if (attempt >= maxRetries || !isRetryable(err)) throw err;
      // Full jitter spreads the retries of concurrent calls apart; retry-after is a floor, not a suggestion.
      const jittered = random() * Math.min(ceiling, base * 2 ** attempt);
      const retryAfter = Math.min((err as EmbedFailure).retryAfterMs ?? 0, RETRY_AFTER_CAP_MS);
      const delayMs = Math.max(jittered, retryAfter);
      opts.onRetry?.({ attempt: attempt + 1, delayMs, error: err });
      await sleep(delayMs, signal);
    }
  }
}

function throwIfAborted(signal: AbortSignal): void {
  if (signal.aborted) throw abortError(signal);
}

function abortError(signal: AbortSignal): Error {
  const reason = signal.reason;
  if (reason instanceof Error && reason.name === 'AbortError') return reason;
  const err = new Error(`Embedding was aborted${reason instanceof Error ? `: ${reason.message}` : ''}.`);
  err.name = 'AbortError';
  return err;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError(signal));
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
