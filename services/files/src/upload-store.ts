import type { Kysely } from 'kysely';
import type { Database } from '@rgw/shared';
import type { FileRecord } from './file-store.js';

/** 'completing' is ours: one completion at a time holds the upload; clients see it as 'pending'. */
export type UploadStatus = 'pending' | 'completing' | 'completed' | 'cancelled';

export interface UploadRecord {
  id: string;
  project_id: string;
  status: UploadStatus;
  filename: string;
  purpose: string;
  mime_type: string;
  bytes: number;
  created_at: number;
  expires_at: number;
  /** The resulting file's `expires_after.seconds`, if asked for. */
  file_expires_after: number | null;
  /** Minted at creation: the file the upload becomes, and its object key. */
  file_id: string;
  object_key: string;
  /** The object store's multipart upload. */
  multipart_id: string;
}

export interface PartRecord {
  id: string;
  upload_id: string;
  project_id: string;
  part_number: number;
  bytes: number;
  etag: string;
  created_at: number;
}

/** Uploads and their parts in SQL; reads are within one project. */
export class UploadStore {
  private readonly db: Kysely<any>;

  constructor(database: Database) {
    this.db = database.db;
  }

  async insert(record: UploadRecord): Promise<void> {
    await this.db.insertInto('uploads').values({ ...record, next_part: 0 }).execute();
  }

  async get(project: string, id: string): Promise<UploadRecord | undefined> {
    const row = await this.db.selectFrom('uploads').selectAll().where('project_id', '=', project).where('id', '=', id).executeTakeFirst();
    return row ? toUpload(row) : undefined;
  }

  /** The next part number of a pending, unexpired upload (atomic: parts may arrive in parallel); undefined otherwise. */
  async claimPartNumber(id: string, now: number): Promise<number | undefined> {
    const row = await this.db
      .updateTable('uploads')
      .set((eb) => ({ next_part: eb('next_part', '+', 1) }))
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('expires_at', '>', now)
      .returning('next_part')
      .executeTakeFirst();
    return row ? Number(row.next_part) : undefined;
  }

  /** Records a stored part, only while the upload is still pending (the no-op update holds its row). */
  async insertPart(part: PartRecord): Promise<boolean> {
    return this.db.transaction().execute(async (trx) => {
      const held = await trx.updateTable('uploads').set((eb) => ({ next_part: eb.ref('next_part') })).where('id', '=', part.upload_id).where('status', '=', 'pending').executeTakeFirst();
      if (Number(held.numUpdatedRows) === 0) return false;
      await trx.insertInto('upload_parts').values(part).execute();
      return true;
    });
  }

  async parts(uploadId: string): Promise<PartRecord[]> {
    const rows = await this.db.selectFrom('upload_parts').selectAll().where('upload_id', '=', uploadId).execute();
    return rows.map(toPart);
  }

  /** Moves the upload from `from` to `to`; false when it was not in `from` (or, with `now`, had expired). */
  async transition(id: string, from: UploadStatus, to: UploadStatus, now?: number): Promise<boolean> {
    let q = this.db.updateTable('uploads').set({ status: to }).where('id', '=', id).where('status', '=', from);
    if (now !== undefined) q = q.where('expires_at', '>', now);
    return Number((await q.executeTakeFirst()).numUpdatedRows) > 0;
  }

  /** The completion's commit: the file row appears, the upload is completed, its parts forgotten. */
  async complete(id: string, file: FileRecord): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.insertInto('files').values(file).execute();
      await trx.updateTable('uploads').set({ status: 'completed' }).where('id', '=', id).execute();
      await trx.deleteFrom('upload_parts').where('upload_id', '=', id).execute();
    });
  }

  async deleteParts(uploadId: string): Promise<void> {
    await this.db.deleteFrom('upload_parts').where('upload_id', '=', uploadId).execute();
  }

  async remove(id: string): Promise<void> {
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('upload_parts').where('upload_id', '=', id).execute();
      await trx.deleteFrom('uploads').where('id', '=', id).execute();
    });
  }

  /** Pending uploads past their expiry, and completions stuck since before `staleBefore` (a crash). */
  async sweepable(now: number, staleBefore: number, limit: number): Promise<UploadRecord[]> {
    const rows = await this.db
      .selectFrom('uploads')
      .selectAll()
      .where((eb) =>
        eb.or([
          eb.and([eb('status', '=', 'pending'), eb('expires_at', '<=', now)]),
          eb.and([eb('status', '=', 'completing'), eb('created_at', '<', staleBefore)]),
        ]),
      )
      .orderBy('seq', 'asc')
      .limit(limit)
      .execute();
    return rows.map(toUpload);
  }
}

function toUpload(row: Record<string, unknown>): UploadRecord {
  return {
    id: row.id as string,
    project_id: row.project_id as string,
    status: row.status as UploadStatus,
    filename: row.filename as string,
    purpose: row.purpose as string,
    mime_type: row.mime_type as string,
    bytes: Number(row.bytes),
    created_at: Number(row.created_at),
    expires_at: Number(row.expires_at),
    file_expires_after: row.file_expires_after === null || row.file_expires_after === undefined ? null : Number(row.file_expires_after),
    file_id: row.file_id as string,
    object_key: row.object_key as string,
    multipart_id: row.multipart_id as string,
  };
}

function toPart(row: Record<string, unknown>): PartRecord {
  return {
    id: row.id as string,
    upload_id: row.upload_id as string,
    project_id: row.project_id as string,
    part_number: Number(row.part_number),
    bytes: Number(row.bytes),
    etag: row.etag as string,
    created_at: Number(row.created_at),
  };
}
