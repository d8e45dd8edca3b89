import type { Kysely } from 'kysely';
import type { Database, Metadata } from '@rgw/shared';
import { pageBySeq, type PageQuery } from './sql-paging.js';

export interface StoreRecord {
  id: string;
  name: string;
  description: string | null;
  metadata: Metadata;
  created_at: number;
  last_active_at: number;
  expires_after_days: number | null;
  embedding_model: string | null;
  embedding_dimension: number | null;
}

export type FileStatus = 'in_progress' | 'completed' | 'failed' | 'cancelled';

export interface FileCounts {
  in_progress: number;
  completed: number;
  failed: number;
  cancelled: number;
  total: number;
}

export interface StoreTotals {
  counts: FileCounts;
  usage_bytes: number;
}

const COLUMNS = ['id', 'name', 'description', 'metadata', 'created_at', 'last_active_at', 'expires_after_days', 'embedding_model', 'embedding_dimension'] as const;

/**
 * Vector stores in SQL (SQLite or Postgres). Every method acts within one project: another project's
 * store is as unknown as one that never existed. Counts and usage come from the file rows.
 */
export class VectorStoreStore {
  readonly db: Kysely<any>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async create(project: string, record: StoreRecord): Promise<void> {
    await this.db
      .insertInto('vector_stores')
      .values({ project_id: project, ...record, metadata: JSON.stringify(record.metadata) })
      .execute();
  }

  async get(project: string, id: string): Promise<StoreRecord | undefined> {
    const row = await this.db.selectFrom('vector_stores').select(COLUMNS).where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  async update(project: string, id: string, set: Partial<Pick<StoreRecord, 'name' | 'metadata' | 'expires_after_days' | 'last_active_at' | 'embedding_dimension'>>): Promise<boolean> {
    const values: Record<string, unknown> = { ...set };
    if (set.metadata) values.metadata = JSON.stringify(set.metadata);
    if (Object.keys(values).length === 0) return !!(await this.get(project, id));
    const result = await this.db.updateTable('vector_stores').set(values).where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Records the dimension the first embeddings had, if none is recorded yet. */
  async recordDimension(id: string, dimension: number): Promise<void> {
    await this.db.updateTable('vector_stores').set({ embedding_dimension: dimension }).where('id', '=', id).where('embedding_dimension', 'is', null).execute();
  }

  /** Deletes the store with its file and batch rows (the caller removes its chunks after). */
  async delete(project: string, id: string): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const result = await trx.deleteFrom('vector_stores').where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
      if (Number(result.numDeletedRows) === 0) return false;
      await trx.deleteFrom('vector_store_files').where('vector_store_id', '=', id).execute();
      await trx.deleteFrom('vector_store_file_batches').where('vector_store_id', '=', id).execute();
      return true;
    });
  }

  /** null when a cursor is not one of this project's stores. */
  async list(project: string, page: PageQuery): Promise<StoreRecord[] | null> {
    const cursors: { after?: number; before?: number } = {};
    for (const key of ['after', 'before'] as const) {
      if (!page[key]) continue;
      const row = await this.db.selectFrom('vector_stores').select('seq').where('project_id', '=', project).where('id', '=', page[key]!).executeTakeFirst();
      if (!row) return null;
      cursors[key] = Number(row.seq);
    }
    const rows = await pageBySeq(this.db.selectFrom('vector_stores').select([...COLUMNS, 'seq']).where('project_id', '=', project), 'seq', page, cursors);
    return rows.map(toRecord);
  }

  /** File counts and usage of each store, from its file rows. */
  async totals(storeIds: string[]): Promise<Map<string, StoreTotals>> {
    const out = new Map<string, StoreTotals>(storeIds.map((id) => [id, emptyTotals()]));
    if (storeIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('vector_store_files')
      .select((eb) => ['vector_store_id', 'status', eb.fn.countAll().as('n'), eb.fn.sum('usage_bytes').as('bytes')])
      .where('vector_store_id', 'in', storeIds)
      .groupBy(['vector_store_id', 'status'])
      .execute();
    for (const row of rows) {
      const totals = out.get(row.vector_store_id as string)!;
      addCount(totals.counts, row.status as FileStatus, Number(row.n));
      totals.usage_bytes += Number(row.bytes ?? 0);
    }
    return out;
  }
}

export function emptyTotals(): StoreTotals {
  return { counts: { in_progress: 0, completed: 0, failed: 0, cancelled: 0, total: 0 }, usage_bytes: 0 };
}

export function addCount(counts: FileCounts, status: FileStatus, n: number): void {
  if (status in counts) counts[status] += n;
  counts.total += n;
}

function toRecord(row: Record<string, unknown>): StoreRecord {
  return {
    id: row.id as string,
    name: row.name as string,
    description: (row.description as string | null) ?? null,
    metadata: JSON.parse(row.metadata as string) as Metadata,
    created_at: Number(row.created_at),
    last_active_at: Number(row.last_active_at),
    expires_after_days: row.expires_after_days == null ? null : Number(row.expires_after_days),
    embedding_model: (row.embedding_model as string | null) ?? null,
    embedding_dimension: row.embedding_dimension == null ? null : Number(row.embedding_dimension),
  };
}
