import type { Kysely } from 'kysely';
import type { Database } from '@rgw/shared';
import type { Attributes } from './index/vector-index.js';
import type { StaticChunkingStrategy as ResolvedChunking } from './ingest/index.js';
import { pageBySeq, type PageQuery } from './sql-paging.js';
import { addCount, emptyTotals, type FileStatus, type StoreTotals } from './vector-store-store.js';

export type IngestErrorCode = 'server_error' | 'unsupported_file' | 'invalid_file';

export interface FileRecord {
  vector_store_id: string;
  file_id: string;
  /** New on every (re-)attach: a job carries it, so a stale job never writes a newer attachment. */
  attach_id: string;
  filename: string;
  status: FileStatus;
  last_error: { code: IngestErrorCode; message: string } | null;
  usage_bytes: number;
  chunking_strategy: ResolvedChunking;
  attributes: Attributes;
  batch_id: string | null;
  created_at: number;
  /**
   * The worker's checkpoint: chunks 0..n−1 of this attachment are committed to the index. A
   * redelivered job resumes after them instead of embedding them again; 0 on every (re-)attach.
   */
  ingested_chunks?: number;
}

export interface BatchRecord {
  id: string;
  vector_store_id: string;
  cancelled: boolean;
  created_at: number;
}

const FILE_COLUMNS = ['vector_store_id', 'file_id', 'attach_id', 'filename', 'status', 'last_error', 'usage_bytes', 'chunking_strategy', 'attributes', 'batch_id', 'created_at', 'ingested_chunks'] as const;

/**
 * The files of vector stores and their batches in SQL. Methods taking `project` act within it; the
 * worker's methods take the row's `attach_id` instead (it acts for the project that attached).
 */
export class VectorStoreFileStore {
  private readonly db: Kysely<any>;

  constructor(database: Database) {
    this.db = database.db;
  }

  /** Attaches files (in one transaction), replacing an earlier attachment of the same file: it starts over. */
  async attach(project: string, records: FileRecord[], batch?: BatchRecord): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      if (batch) await trx.insertInto('vector_store_file_batches').values({ project_id: project, ...batch, cancelled: batch.cancelled ? 1 : 0 }).execute();
      for (const r of records) {
        // A re-attach starts over: its checkpoint goes back to 0 with the new attach_id.
        const values: Record<string, unknown> = { project_id: project, ...toRow(r), ingested_chunks: 0 };
        const { vector_store_id: _v, file_id: _f, project_id: _p, ...update } = values;
        await trx
          .insertInto('vector_store_files')
          .values(values)
          .onConflict((oc) => oc.columns(['vector_store_id', 'file_id']).doUpdateSet(update))
          .execute();
      }
    });
  }

  async get(project: string, storeId: string, fileId: string): Promise<FileRecord | undefined> {
    const row = await this.files(project, storeId).select(FILE_COLUMNS).where('file_id', '=', fileId).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** The attachment a job was published for, if it is still there. */
  async getAttachment(storeId: string, fileId: string, attachId: string): Promise<FileRecord | undefined> {
    const row = await this.db
      .selectFrom('vector_store_files')
      .select(FILE_COLUMNS)
      .where('vector_store_id', '=', storeId)
      .where('file_id', '=', fileId)
      .where('attach_id', '=', attachId)
      .executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** null when a cursor is not a file of this listing. */
  async list(project: string, storeId: string, page: PageQuery, opts: { status?: FileStatus; batchId?: string }): Promise<FileRecord[] | null> {
    const base = () => {
      let q = this.files(project, storeId);
      if (opts.batchId) q = q.where('batch_id', '=', opts.batchId);
      return q;
    };
    const cursors: { after?: number; before?: number } = {};
    for (const key of ['after', 'before'] as const) {
      if (!page[key]) continue;
      const row = await base().select('seq').where('file_id', '=', page[key]!).executeTakeFirst();
      if (!row) return null;
      cursors[key] = Number(row.seq);
    }
    let q = base().select([...FILE_COLUMNS, 'seq']);
    if (opts.status) q = q.where('status', '=', opts.status);
    return (await pageBySeq(q, 'seq', page, cursors)).map(toRecord);
  }

  async updateAttributes(project: string, storeId: string, fileId: string, attributes: Attributes): Promise<boolean> {
    const result = await this.db
      .updateTable('vector_store_files')
      .set({ attributes: JSON.stringify(attributes) })
      .where('project_id', '=', project)
      .where('vector_store_id', '=', storeId)
      .where('file_id', '=', fileId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async delete(project: string, storeId: string, fileId: string): Promise<boolean> {
    const result = await this.db.deleteFrom('vector_store_files').where('project_id', '=', project).where('vector_store_id', '=', storeId).where('file_id', '=', fileId).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Removes a file from every store of its project; answers the stores it was in. */
  async deleteEverywhere(project: string, fileId: string): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx.selectFrom('vector_store_files').select('vector_store_id').where('project_id', '=', project).where('file_id', '=', fileId).execute();
      await trx.deleteFrom('vector_store_files').where('project_id', '=', project).where('file_id', '=', fileId).execute();
      return rows.map((r) => r.vector_store_id as string);
    });
  }

  /**
   * Records that chunks 0..committed−1 of the attachment are in the index, called after each batch
   * is committed (so it never runs ahead of the index). false when the attachment was deleted,
   * re-attached or cancelled meanwhile: the same statement is the worker's "still wanted?" check.
   */
  async checkpoint(storeId: string, fileId: string, attachId: string, committed: number): Promise<boolean> {
    return this.updateInProgress(storeId, fileId, attachId, { ingested_chunks: committed });
  }

  /** Ends an attachment still in progress; false when it was deleted, re-attached or cancelled meanwhile. */
  async finish(storeId: string, fileId: string, attachId: string, end: { status: 'completed' | 'failed'; usage_bytes?: number; last_error?: FileRecord['last_error'] }): Promise<boolean> {
    return this.updateInProgress(storeId, fileId, attachId, { status: end.status, usage_bytes: end.usage_bytes ?? 0, last_error: end.last_error ? JSON.stringify(end.last_error) : null });
  }

  /** Updates one attachment only while that very attachment is still in progress; false otherwise. */
  private async updateInProgress(storeId: string, fileId: string, attachId: string, values: { ingested_chunks?: number; status?: string; usage_bytes?: number; last_error?: string | null }): Promise<boolean> {
    const result = await this.db
      .updateTable('vector_store_files')
      .set(values)
      .where('vector_store_id', '=', storeId)
      .where('file_id', '=', fileId)
      .where('attach_id', '=', attachId)
      .where('status', '=', 'in_progress')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async getBatch(project: string, storeId: string, batchId: string): Promise<BatchRecord | undefined> {
    const row = await this.db
      .selectFrom('vector_store_file_batches')
      .select(['id', 'vector_store_id', 'cancelled', 'created_at'])
      .where('project_id', '=', project)
      .where('vector_store_id', '=', storeId)
      .where('id', '=', batchId)
      .executeTakeFirst();
    return row ? { id: row.id as string, vector_store_id: row.vector_store_id as string, cancelled: Number(row.cancelled) === 1, created_at: Number(row.created_at) } : undefined;
  }

  /** Marks the batch cancelled and its files not yet done `cancelled`; answers the files it cancelled. */
  async cancelBatch(project: string, batchId: string): Promise<string[]> {
    return this.db.transaction().execute(async (trx) => {
      await trx.updateTable('vector_store_file_batches').set({ cancelled: 1 }).where('project_id', '=', project).where('id', '=', batchId).execute();
      const rows = await trx.selectFrom('vector_store_files').select('file_id').where('batch_id', '=', batchId).where('status', '=', 'in_progress').execute();
      await trx.updateTable('vector_store_files').set({ status: 'cancelled' }).where('batch_id', '=', batchId).where('status', '=', 'in_progress').execute();
      return rows.map((r) => r.file_id as string);
    });
  }

  async batchTotals(storeId: string, batchId: string): Promise<StoreTotals> {
    const rows = await this.db
      .selectFrom('vector_store_files')
      .select((eb) => ['status', eb.fn.countAll().as('n')])
      .where('vector_store_id', '=', storeId)
      .where('batch_id', '=', batchId)
      .groupBy('status')
      .execute();
    const totals = emptyTotals();
    for (const row of rows) addCount(totals.counts, row.status as FileStatus, Number(row.n));
    return totals;
  }

  private files(project: string, storeId: string) {
    return this.db.selectFrom('vector_store_files').where('project_id', '=', project).where('vector_store_id', '=', storeId);
  }
}

function toRow(r: FileRecord): Record<string, unknown> {
  return {
    ...r,
    last_error: r.last_error ? JSON.stringify(r.last_error) : null,
    chunking_strategy: JSON.stringify(r.chunking_strategy),
    attributes: JSON.stringify(r.attributes),
  };
}

function toRecord(row: Record<string, unknown>): FileRecord {
  return {
    vector_store_id: row.vector_store_id as string,
    file_id: row.file_id as string,
    attach_id: row.attach_id as string,
    filename: row.filename as string,
    status: row.status as FileStatus,
    last_error: row.last_error ? (JSON.parse(row.last_error as string) as FileRecord['last_error']) : null,
    usage_bytes: Number(row.usage_bytes),
    chunking_strategy: JSON.parse(row.chunking_strategy as string) as ResolvedChunking,
    attributes: JSON.parse(row.attributes as string) as Attributes,
    batch_id: (row.batch_id as string | null) ?? null,
    created_at: Number(row.created_at),
    ingested_chunks: Number(row.ingested_chunks ?? 0),
  };
}
