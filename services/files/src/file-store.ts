import type { Kysely } from 'kysely';
import type { Database } from '@rgw/shared';

/** A file's row. `status` is 'uploading' while its bytes stream in, then 'processed'. */
export interface FileRecord {
  id: string;
  project_id: string;
  status: 'uploading' | 'processed';
  object_key: string;
  filename: string;
  purpose: string;
  bytes: number;
  created_at: number;
  expires_at: number | null;
}

export interface FileListQuery {
  purpose?: string;
  after?: string;
  limit: number;
  order: 'asc' | 'desc';
}

/**
 * Files in SQL (SQLite or Postgres, same queries). Every read is within one project and sees only
 * finished files that have not expired at `now` (unix seconds): another project's file, one still
 * uploading and an expired one are all as unknown as one that never existed.
 */
export class FileStore {
  readonly db: Kysely<any>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async insert(record: FileRecord, db: Kysely<any> = this.db): Promise<void> {
    await db.insertInto('files').values(record).execute();
  }

  /** Turns an uploading row into a file. */
  async finish(id: string, fields: Pick<FileRecord, 'purpose' | 'bytes' | 'expires_at'>): Promise<void> {
    await this.db.updateTable('files').set({ ...fields, status: 'processed' }).where('id', '=', id).execute();
  }

  async get(project: string, id: string, now: number): Promise<FileRecord | undefined> {
    const row = await this.visible(project, now).selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecord(row) : undefined;
  }

  /** `limit + 1` rows (the extra one proves `has_more`), or null when the `after` cursor is unknown. */
  async list(project: string, query: FileListQuery, now: number): Promise<FileRecord[] | null> {
    let q = this.visible(project, now).selectAll();
    if (query.purpose !== undefined) q = q.where('purpose', '=', query.purpose);
    if (query.after) {
      const cursor = await this.visible(project, now).select('seq').where('id', '=', query.after).executeTakeFirst();
      if (!cursor) return null;
      q = q.where('seq', query.order === 'asc' ? '>' : '<', cursor.seq);
    }
    const rows = await q.orderBy('seq', query.order).limit(query.limit + 1).execute();
    return rows.map(toRecord);
  }

  /** Deletes the row; false when it was already gone (a concurrent delete or the sweeper). */
  async remove(id: string): Promise<boolean> {
    const result = await this.db.deleteFrom('files').where('id', '=', id).executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Rows to sweep at `now`: finished files past their expiry, and uploads that never finished and
   * started before `staleBefore` (a process that died mid-upload).
   */
  async sweepable(now: number, staleBefore: number, limit: number): Promise<FileRecord[]> {
    const rows = await this.db
      .selectFrom('files')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'processed'), eb('expires_at', 'is not', null), eb('expires_at', '<=', now)]),
          eb.and([eb('status', '=', 'uploading'), eb('created_at', '<', staleBefore)]),
        ]),
      )
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toRecord);
  }

  private visible(project: string, now: number) {
    return this.db
      .selectFrom('files')
      .where('project_id', '=', project)
      .where('status', '=', 'processed')
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
  }
}

export function toRecord(row: Record<string, unknown>): FileRecord {
  return {
    id: row.id as string,
    project_id: row.project_id as string,
    status: row.status as FileRecord['status'],
    object_key: row.object_key as string,
    filename: row.filename as string,
    purpose: row.purpose as string,
    bytes: Number(row.bytes),
    created_at: Number(row.created_at),
    expires_at: row.expires_at === null || row.expires_at === undefined ? null : Number(row.expires_at),
  };
}

/** The OpenAI File object of a record. */
export function toFileObject(r: FileRecord) {
  return {
    id: r.id,
    object: 'file' as const,
    bytes: r.bytes,
    created_at: r.created_at,
    expires_at: r.expires_at,
    filename: r.filename,
    purpose: r.purpose,
    status: 'processed' as const,
    status_details: null,
  };
}
