import { ApiError, type ClientCallOptions, type FileContent, type FileObject, type InferenceClient, type JobContext, type Logger } from '@rgw/shared';
import type { ChunkRecord, VectorIndex } from './index/vector-index.js';
import { chunkText, embedChunks, extractText, type ChunkOptions, type TextChunk } from './ingest/index.js';
import type { FileDeletedEvent, IngestJob } from './ingest-topics.js';
import { embedTexts } from './query-embedder.js';
import type { FileRecord, IngestErrorCode, VectorStoreFileStore } from './vector-store-file-store.js';
import type { VectorStoreStore } from './vector-store-store.js';

/** What the worker needs of the Files API: metadata and streamed bytes, read as the attaching caller. */
export interface FileSource {
  retrieve(id: string, opts: ClientCallOptions): Promise<FileObject>;
  content(id: string, opts: ClientCallOptions): Promise<FileContent>;
}

export interface ProcessorDeps {
  stores: VectorStoreStore;
  files: VectorStoreFileStore;
  index: VectorIndex;
  fileSource: FileSource;
  inference: Pick<InferenceClient, 'embeddings'>;
  log: Logger;
  /** Chunks per embeddings call (and per index upsert). */
  batchSize?: number;
  /** Cuts text into chunks (ChunkThreads: on a thread of its own); by default chunkText on this thread. */
  chunker?: { chunk(segments: AsyncIterable<string>, opts: ChunkOptions): AsyncIterable<TextChunk> };
}

/** Why a job stopped early: its attachment is gone, replaced or cancelled. */
class Superseded extends Error {}

/**
 * Runs ingest jobs: fetch the file through the Files API, extract, chunk, embed in batches and
 * upsert chunks under deterministic ids (`<store>:<file>:<index>`), so a retried or redelivered job
 * rewrites the same chunks. The file is marked `completed` only after every chunk is committed; the
 * job resolves (is acknowledged) after that. Between batches the attachment is checked again, and
 * chunks written for an attachment that was deleted meanwhile are removed, so nothing is orphaned.
 */
export class IngestProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  async run(job: IngestJob, ctx: Pick<JobContext, 'attempt' | 'signal' | 'heartbeat'> & { maxAttempts: number }): Promise<void> {
    const { files, log } = this.deps;
    const row = await files.getAttachment(job.vector_store_id, job.file_id, job.attach_id);
    // Deleted, re-attached (a newer job owns it) or already ended (a redelivery after completion): nothing to do.
    if (!row || row.status !== 'in_progress') return;
    try {
      await this.ingest(job, row, ctx);
    } catch (err) {
      if (err instanceof Superseded) return this.cleanUpIfGone(job);
      const code = ingestErrorCode(err);
      if (code) {
        // A file we cannot read will not become readable: failed at once, no retry.
        await this.fail(job, code, (err as Error).message);
        return;
      }
      if (ctx.signal.aborted) throw err;
      if (ctx.attempt >= ctx.maxAttempts) {
        // The queue dead-letters the job after this throw; the file says why it failed.
        await this.fail(job, 'server_error', `The file could not be processed: ${(err as Error).message}`);
      }
      log.warn({ err: (err as Error).message, file_id: job.file_id, attempt: ctx.attempt }, 'ingest attempt failed');
      throw err;
    }
  }

  /** A file deleted through the Files API leaves every store of its project (rows, then chunks). */
  async onFileDeleted(event: FileDeletedEvent): Promise<void> {
    const storeIds = await this.deps.files.deleteEverywhere(event.project_id, event.file_id);
    for (const storeId of storeIds) await this.deps.index.deleteFile(storeId, event.file_id);
  }

  private async ingest(job: IngestJob, row: FileRecord, ctx: Pick<JobContext, 'signal' | 'heartbeat'>): Promise<void> {
    const { stores, index, fileSource } = this.deps;
    const store = await stores.get(job.project_id, job.vector_store_id);
    if (!store) throw new Superseded();
    const call: ClientCallOptions = { principal: job.principal, requestId: job.request_id, signal: ctx.signal };
    const meta = await fileSource.retrieve(job.file_id, call).catch(notFoundAsInvalid(job.file_id));
    const content = await fileSource.content(job.file_id, call).catch(notFoundAsInvalid(job.file_id));
    const model = store.embedding_model;
    const segments = extractText({ filename: meta.filename ?? row.filename, contentType: content.contentType, body: content.body });
    const { max_chunk_size_tokens: maxTokens, chunk_overlap_tokens: overlapTokens } = row.chunking_strategy.static;
    // A redelivered job (the worker died, the broker went away) resumes after the chunks its earlier
    // attempts committed: the chunker is deterministic, so the chunks before the checkpoint are the
    // ones already stored and only the rest is embedded again.
    const resumeFrom = row.ingested_chunks ?? 0;
    if (resumeFrom > 0) this.deps.log.info({ file_id: job.file_id, vector_store_id: job.vector_store_id, resume_from: resumeFrom }, 'ingest resumes after its checkpoint');
    const chunkOpts = { maxTokens, overlapTokens };
    const chunks = skipBefore(this.deps.chunker ? this.deps.chunker.chunk(segments, chunkOpts) : chunkText(segments, chunkOpts), resumeFrom);
    const batchSize = this.deps.batchSize ?? 64;
    const batches = model
      ? embeddedBatches(chunks, (texts, signal) => embedTexts(this.deps.inference, model, texts, { signal }), {
          batchSize,
          signal: ctx.signal,
          dimension: store.embedding_dimension ?? undefined,
        })
      : plainBatches(chunks, batchSize);
    let dimensionRecorded = store.embedding_dimension !== null;
    for await (const batch of batches) {
      if (!batch.length) continue;
      const records: ChunkRecord[] = batch.map((c) => ({
        id: chunkId(job.vector_store_id, job.file_id, c.index),
        projectId: job.project_id,
        vectorStoreId: job.vector_store_id,
        fileId: job.file_id,
        filename: row.filename,
        chunkIndex: c.index,
        text: c.text,
        tokens: c.tokens,
        embedding: c.embedding,
        attributes: row.attributes,
      }));
      if (!dimensionRecorded && records[0]!.embedding) {
        await stores.recordDimension(job.vector_store_id, records[0]!.embedding.length);
        dimensionRecorded = true;
      }
      await index.upsert(records);
      await ctx.heartbeat();
      // Committed first, checkpointed after (the checkpoint never runs ahead of the index). The same
      // statement checks the attachment is still wanted: a delete that raced this batch is seen here
      // and cleaned up.
      if (!(await this.deps.files.checkpoint(job.vector_store_id, job.file_id, job.attach_id, batch[batch.length - 1]!.index + 1))) throw new Superseded();
    }
    const usage = await index.fileUsage(job.vector_store_id, job.file_id);
    if (!(await this.deps.files.finish(job.vector_store_id, job.file_id, job.attach_id, { status: 'completed', usage_bytes: usage.bytes }))) throw new Superseded();
  }

  /** Removes what this job wrote unless a newer attachment of the same file now owns those chunk ids. */
  private async cleanUpIfGone(job: IngestJob): Promise<void> {
    const current = await this.deps.files.get(job.project_id, job.vector_store_id, job.file_id);
    if (current && current.attach_id !== job.attach_id) return;
    await this.deps.index.deleteFile(job.vector_store_id, job.file_id);
  }

  private async fail(job: IngestJob, code: IngestErrorCode, message: string): Promise<void> {
    // Whatever was written before the failure is not searchable content of a failed file.
    await this.deps.index.deleteFile(job.vector_store_id, job.file_id);
    await this.deps.files.finish(job.vector_store_id, job.file_id, job.attach_id, { status: 'failed', last_error: { code, message: message.slice(0, 1000) } });
  }
}

type Chunk = TextChunk & { embedding?: Float32Array };

/** Chunks with their vectors, embedded in batches (several calls in flight, retried on 429/5xx). */
async function* embeddedBatches(chunks: AsyncIterable<TextChunk>, embed: Parameters<typeof embedChunks>[1], opts: Parameters<typeof embedChunks>[2]): AsyncIterable<Chunk[]> {
  for await (const batch of embedChunks(chunks, embed, opts)) yield batch.map((b) => ({ ...b.chunk, embedding: b.embedding }));
}

/** The chunks from index `from` on (a resumed job's remaining chunks). */
async function* skipBefore(chunks: AsyncIterable<TextChunk>, from: number): AsyncIterable<TextChunk> {
  for await (const chunk of chunks) if (chunk.index >= from) yield chunk;
}

/** Without an embedding model the chunks are stored for keyword search only, in the same batches. */
async function* plainBatches(chunks: AsyncIterable<TextChunk>, size: number): AsyncIterable<Chunk[]> {
  let batch: Chunk[] = [];
  for await (const chunk of chunks) {
    batch.push(chunk);
    if (batch.length >= size) {
      yield batch;
      batch = [];
    }
  }
  if (batch.length) yield batch;
}

/** Deterministic: the same chunk of the same file in the same store always has this id. */
export function chunkId(storeId: string, fileId: string, index: number): string {
  return `${storeId}:${fileId}:${index}`;
}

function ingestErrorCode(err: unknown): IngestErrorCode | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'unsupported_file' || code === 'invalid_file' ? code : undefined;
}

/** A file the Files API no longer has (deleted, or never this project's) cannot be ingested. */
function notFoundAsInvalid(fileId: string) {
  return (err: unknown): never => {
    if (err instanceof ApiError && err.status === 404) throw Object.assign(new Error(`The file '${fileId}' no longer exists.`), { code: 'invalid_file' });
    throw err;
  };
}
