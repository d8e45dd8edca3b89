import { randomBytes } from 'node:crypto';
import {
  ApiError,
  InvalidRequestError,
  NotFoundError,
  newId,
  nowSeconds,
  projectOf,
  toListPage,
  type FileObject,
  type ClientCallOptions,
  type Logger,
  type Metadata,
  type Queue,
  type RequestContext,
} from '@rgw/shared';
import type { Attributes, VectorIndex } from './index/vector-index.js';
import { resolveChunking, type ChunkingStrategyParam } from './ingest/index.js';
import { INGEST_TOPIC, type IngestJob } from './ingest-topics.js';
import type { PageQuery } from './sql-paging.js';
import type { BatchRecord, FileRecord, VectorStoreFileStore } from './vector-store-file-store.js';
import type { FileStatus, StoreRecord, VectorStoreStore } from './vector-store-store.js';
import { isExpired, toBatchObject, toFileObject, toStoreObject, type VectorStoreObject } from './vector-store-views.js';

/** What the manager needs of the Files API: a file's metadata, read as the caller. */
export interface FileLookup {
  retrieve(id: string, opts: ClientCallOptions): Promise<FileObject>;
}

export interface ManagerDeps {
  stores: VectorStoreStore;
  files: VectorStoreFileStore;
  index: VectorIndex;
  queue: Pick<Queue, 'publish'>;
  fileApi: FileLookup;
  /** The platform's EMBEDDING_MODEL, used by stores created without `embedding_model`. */
  defaultEmbeddingModel?: string;
  /** Checks a model exists (the catalog); throws its 404 when not. */
  checkModel(model: string): Promise<void>;
  log: Logger;
  now?: () => number;
}

export interface AttachSpec {
  file_id: string;
  attributes?: Attributes | null;
  chunking_strategy?: ChunkingStrategyParam | null;
}

const CONTENT_PAGE = 100;
const LOOKUP_CONCURRENCY = 16;

/**
 * The Vector Stores API over its stores (stores, files, batches): validation against the project's
 * objects, the 404s, and publishing an ingest job per attached file. Every call acts within the
 * caller's project; another project's store is a 404.
 */
export class VectorStoreManager {
  private readonly now: () => number;

  constructor(private readonly deps: ManagerDeps) {
    this.now = deps.now ?? nowSeconds;
  }

  async create(
    ctx: RequestContext,
    body: { name?: string | null; description?: string | null; file_ids?: string[] | null; chunking_strategy?: ChunkingStrategyParam | null; expires_after?: { days: number } | null; metadata?: Metadata | null; embedding_model?: string | null; embedding_dimension?: number | null },
  ): Promise<VectorStoreObject> {
    const model = body.embedding_model ?? this.deps.defaultEmbeddingModel ?? null;
    if (body.embedding_model) {
      await this.deps.checkModel(body.embedding_model).catch((err: unknown) => {
        if (err instanceof ApiError && err.status === 404) throw new InvalidRequestError(err.message, 'embedding_model', 'model_not_found');
        throw err;
      });
    }
    const now = this.now();
    const store: StoreRecord = {
      id: newId('vectorStore'),
      name: body.name ?? '',
      description: body.description ?? null,
      metadata: body.metadata ?? {},
      created_at: now,
      last_active_at: now,
      expires_after_days: body.expires_after?.days ?? null,
      embedding_model: model,
      embedding_dimension: body.embedding_dimension ?? null,
    };
    // Files are looked up before the store exists, so a bad file id leaves nothing behind.
    const specs = (body.file_ids ?? []).map((file_id) => ({ file_id, chunking_strategy: body.chunking_strategy }));
    const records = await this.lookupFiles(ctx, store.id, specs);
    await this.deps.stores.create(projectOf(ctx), store);
    await this.attachRecords(ctx, records);
    return this.view(ctx, store.id);
  }

  async get(ctx: RequestContext, id: string): Promise<VectorStoreObject> {
    return this.view(ctx, id);
  }

  async list(ctx: RequestContext, page: PageQuery) {
    const rows = await this.deps.stores.list(projectOf(ctx), page);
    if (!rows) throw badCursor(page);
    const totals = await this.deps.stores.totals(rows.map((r) => r.id));
    const now = this.now();
    return toListPage(rows.map((r) => toStoreObject(r, totals.get(r.id)!, now)), page.limit);
  }

  async update(ctx: RequestContext, id: string, body: { name?: string | null; expires_after?: { days: number } | null; metadata?: Metadata | null }): Promise<VectorStoreObject> {
    const set: Parameters<VectorStoreStore['update']>[2] = {};
    if (body.name != null) set.name = body.name;
    if (body.metadata != null) set.metadata = body.metadata;
    // `expires_after: null` removes the policy; a new policy counts from now.
    if (body.expires_after !== undefined) {
      set.expires_after_days = body.expires_after?.days ?? null;
      if (body.expires_after) set.last_active_at = this.now();
    }
    if (!(await this.deps.stores.update(projectOf(ctx), id, set))) throw storeNotFound(id);
    return this.view(ctx, id);
  }

  async delete(ctx: RequestContext, id: string) {
    // Rows first: a job that writes chunks after this finds its row gone and removes them itself.
    if (!(await this.deps.stores.delete(projectOf(ctx), id))) throw storeNotFound(id);
    await this.deps.index.deleteStore(id);
    return { id, object: 'vector_store.deleted' as const, deleted: true as const };
  }

  async attach(ctx: RequestContext, storeId: string, spec: AttachSpec) {
    await this.usableStore(ctx, storeId);
    const [record] = await this.lookupFiles(ctx, storeId, [spec]);
    await this.attachRecords(ctx, [record!]);
    return toFileObject(record!);
  }

  async getFile(ctx: RequestContext, storeId: string, fileId: string) {
    return toFileObject(await this.fileOf(ctx, storeId, fileId));
  }

  async listFiles(ctx: RequestContext, storeId: string, page: PageQuery & { filter?: FileStatus }, batchId?: string) {
    await this.storeOf(ctx, storeId);
    const rows = await this.deps.files.list(projectOf(ctx), storeId, page, { status: page.filter, batchId });
    if (!rows) throw badCursor(page);
    return toListPage(rows.map(toFileObject), page.limit);
  }

  async updateFile(ctx: RequestContext, storeId: string, fileId: string, attributes: Attributes | null) {
    await this.storeOf(ctx, storeId);
    if (!(await this.deps.files.updateAttributes(projectOf(ctx), storeId, fileId, attributes ?? {}))) throw fileNotFound(storeId, fileId);
    await this.deps.index.setFileAttributes(storeId, fileId, attributes ?? {});
    return this.getFile(ctx, storeId, fileId);
  }

  async deleteFile(ctx: RequestContext, storeId: string, fileId: string) {
    await this.storeOf(ctx, storeId);
    if (!(await this.deps.files.delete(projectOf(ctx), storeId, fileId))) throw fileNotFound(storeId, fileId);
    await this.deps.index.deleteFile(storeId, fileId);
    return { id: fileId, object: 'vector_store.file.deleted' as const, deleted: true as const };
  }

  /** The file's parsed text, one entry per chunk, 100 chunks a page (`next_page` continues). */
  async fileContent(ctx: RequestContext, storeId: string, fileId: string, page?: string) {
    await this.fileOf(ctx, storeId, fileId);
    const { chunks, hasMore } = await this.deps.index.fileChunks(storeId, fileId, { afterIndex: page === undefined ? undefined : Number(page), limit: CONTENT_PAGE });
    return {
      object: 'vector_store.file_content.page' as const,
      data: chunks.map((c) => ({ type: 'text' as const, text: c.text })),
      has_more: hasMore,
      next_page: hasMore && chunks.length ? String(chunks.at(-1)!.chunkIndex) : null,
    };
  }

  async createBatch(ctx: RequestContext, storeId: string, body: { file_ids?: string[]; files?: AttachSpec[]; attributes?: Attributes | null; chunking_strategy?: ChunkingStrategyParam | null }) {
    await this.usableStore(ctx, storeId);
    const specs: AttachSpec[] = body.files ?? (body.file_ids ?? []).map((file_id) => ({ file_id, attributes: body.attributes, chunking_strategy: body.chunking_strategy }));
    // One attachment per file: a file named twice is attached once, as its last entry says.
    const unique = [...new Map(specs.map((s) => [s.file_id, s])).values()];
    const batch: BatchRecord = { id: newId('vectorStoreFileBatch'), vector_store_id: storeId, cancelled: false, created_at: this.now() };
    const records = (await this.lookupFiles(ctx, storeId, unique)).map((r) => ({ ...r, batch_id: batch.id }));
    await this.attachRecords(ctx, records, batch);
    return this.batchView(ctx, storeId, batch.id);
  }

  async getBatch(ctx: RequestContext, storeId: string, batchId: string) {
    return this.batchView(ctx, storeId, batchId);
  }

  /** Files of the batch not yet done become `cancelled`; a running job stops at its next check. */
  async cancelBatch(ctx: RequestContext, storeId: string, batchId: string) {
    await this.batchOf(ctx, storeId, batchId);
    await this.deps.files.cancelBatch(projectOf(ctx), batchId);
    return this.batchView(ctx, storeId, batchId);
  }

  async listBatchFiles(ctx: RequestContext, storeId: string, batchId: string, page: PageQuery & { filter?: FileStatus }) {
    await this.batchOf(ctx, storeId, batchId);
    return this.listFiles(ctx, storeId, page, batchId);
  }

  /** The store, refused when expired (it can no longer be searched nor receive files). */
  async usableStore(ctx: RequestContext, storeId: string): Promise<StoreRecord> {
    const store = await this.storeOf(ctx, storeId);
    if (isExpired(store, this.now())) throw storeExpired(storeId);
    return store;
  }

  async storeOf(ctx: RequestContext, id: string): Promise<StoreRecord> {
    const store = await this.deps.stores.get(projectOf(ctx), id);
    if (!store) throw storeNotFound(id);
    return store;
  }

  private async view(ctx: RequestContext, id: string): Promise<VectorStoreObject> {
    const store = await this.storeOf(ctx, id);
    const totals = await this.deps.stores.totals([id]);
    return toStoreObject(store, totals.get(id)!, this.now());
  }

  private async fileOf(ctx: RequestContext, storeId: string, fileId: string): Promise<FileRecord> {
    await this.storeOf(ctx, storeId);
    const file = await this.deps.files.get(projectOf(ctx), storeId, fileId);
    if (!file) throw fileNotFound(storeId, fileId);
    return file;
  }

  private async batchOf(ctx: RequestContext, storeId: string, batchId: string): Promise<BatchRecord> {
    await this.storeOf(ctx, storeId);
    const batch = await this.deps.files.getBatch(projectOf(ctx), storeId, batchId);
    if (!batch) throw new NotFoundError(`No file batch found with id '${batchId}' in vector store '${storeId}'.`, 'batch_id', 'not_found');
    return batch;
  }

  private async batchView(ctx: RequestContext, storeId: string, batchId: string) {
    const batch = await this.batchOf(ctx, storeId, batchId);
    return toBatchObject(batch, await this.deps.files.batchTotals(storeId, batchId));
  }

  /** Each file's metadata through the Files API, as the caller: an unknown (or another project's) file is a 404. */
  private async lookupFiles(ctx: RequestContext, storeId: string, specs: AttachSpec[]): Promise<FileRecord[]> {
    const out: FileRecord[] = new Array(specs.length);
    let next = 0;
    const call: ClientCallOptions = { principal: ctx.principal, requestId: ctx.requestId };
    const worker = async () => {
      while (next < specs.length) {
        const i = next++;
        const spec = specs[i]!;
        const file = await this.deps.fileApi.retrieve(spec.file_id, call).catch((err: unknown) => {
          if (err instanceof ApiError && (err.status === 404 || err.status === 400)) throw new NotFoundError(`No file found with id '${spec.file_id}'.`, 'file_id', 'not_found');
          throw err;
        });
        out[i] = {
          vector_store_id: storeId,
          file_id: spec.file_id,
          attach_id: randomBytes(12).toString('hex'),
          filename: file.filename,
          status: 'in_progress',
          last_error: null,
          usage_bytes: 0,
          chunking_strategy: resolveChunking(spec.chunking_strategy),
          attributes: spec.attributes ?? {},
          batch_id: null,
          created_at: this.now(),
        };
      }
    };
    await Promise.all(Array.from({ length: Math.min(LOOKUP_CONCURRENCY, specs.length) }, worker));
    return out;
  }

  /** Writes the rows, clears chunks of earlier attachments of the same files, then queues one job each. */
  private async attachRecords(ctx: RequestContext, records: FileRecord[], batch?: BatchRecord): Promise<void> {
    if (records.length === 0 && !batch) return;
    const project = projectOf(ctx);
    const storeId = batch?.vector_store_id ?? records[0]!.vector_store_id;
    const earlier = await Promise.all(records.map((r) => this.deps.files.get(project, r.vector_store_id, r.file_id)));
    await this.deps.files.attach(project, records, batch);
    for (const [i, r] of records.entries()) if (earlier[i]) await this.deps.index.deleteFile(r.vector_store_id, r.file_id);
    await this.deps.stores.update(project, storeId, { last_active_at: this.now() });
    for (const r of records) {
      const job: IngestJob = {
        vector_store_id: r.vector_store_id,
        file_id: r.file_id,
        attach_id: r.attach_id,
        project_id: project,
        principal: { projectId: project, ...(ctx.principal?.keyId ? { keyId: ctx.principal.keyId } : {}) },
        request_id: ctx.requestId,
      };
      try {
        await this.deps.queue.publish(INGEST_TOPIC, job);
      } catch (err) {
        // Never leave a row in progress that no job will ever finish.
        this.deps.log.error({ err: (err as Error).message, file_id: r.file_id }, 'could not queue an ingest job');
        await this.deps.files.finish(r.vector_store_id, r.file_id, r.attach_id, { status: 'failed', last_error: { code: 'server_error', message: 'The file could not be queued for processing.' } });
      }
    }
  }
}

export function storeNotFound(id: string): NotFoundError {
  return new NotFoundError(`No vector store found with id '${id}'.`, 'vector_store_id', 'not_found');
}

export function storeExpired(id: string): InvalidRequestError {
  return new InvalidRequestError(`Vector store '${id}' has expired and can no longer be used; create a new one.`, 'vector_store_id', 'vector_store_expired');
}

function fileNotFound(storeId: string, fileId: string): NotFoundError {
  return new NotFoundError(`No file found with id '${fileId}' in vector store '${storeId}'.`, 'file_id', 'not_found');
}

function badCursor(page: PageQuery): InvalidRequestError {
  const param = page.after ? 'after' : 'before';
  return new InvalidRequestError(`Invalid '${param}': no object with id '${page.after ?? page.before}' in this list.`, param, 'invalid_cursor');
}
