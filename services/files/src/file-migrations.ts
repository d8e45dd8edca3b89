import { withSeqColumn, type PortableMigration } from '@rgw/shared';

/**
 * `files`: one row per file, `status` 'uploading' while its bytes stream in (so a crash leaves a row the
 * sweeper can find, with the key of the object to remove) and 'processed' once it is a file.
 * `uploads` / `upload_parts`: the Uploads API, a pending upload being the store's open multipart upload.
 * Every row carries its project; lists walk one project's rows by `seq`.
 */
export const FILE_MIGRATIONS: Record<string, PortableMigration> = {
  '001_files': (dialect) => ({
    async up(db) {
      await withSeqColumn(db.schema.createTable('files'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('object_key', 'text', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint')
        .execute();
      await db.schema.createIndex('files_project_seq_idx').on('files').columns(['project_id', 'seq']).execute();
      await db.schema.createIndex('files_expires_idx').on('files').columns(['expires_at']).execute();
      await withSeqColumn(db.schema.createTable('uploads'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('purpose', 'text', (c) => c.notNull())
        .addColumn('mime_type', 'text', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_at', 'bigint', (c) => c.notNull())
        .addColumn('file_expires_after', 'bigint')
        .addColumn('file_id', 'text', (c) => c.notNull())
        .addColumn('object_key', 'text', (c) => c.notNull())
        .addColumn('multipart_id', 'text', (c) => c.notNull())
        .addColumn('next_part', 'integer', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('uploads_status_expires_idx').on('uploads').columns(['status', 'expires_at']).execute();
      await withSeqColumn(db.schema.createTable('upload_parts'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('upload_id', 'text', (c) => c.notNull())
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('part_number', 'integer', (c) => c.notNull())
        .addColumn('bytes', 'bigint', (c) => c.notNull())
        .addColumn('etag', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('upload_parts_upload_idx').on('upload_parts').columns(['upload_id']).execute();
    },
  }),
};
