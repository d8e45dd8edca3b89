import { withSeqColumn, type PortableMigration } from '@rgw/shared';

/**
 * `vector_stores`: one row per store (its embedding model and dimension recorded once known);
 * `vector_store_files`: one row per file attached to a store, unique per (store, file), carrying the
 * ingest state; `attach_id` changes on every (re-)attach so a stale job never touches a newer row;
 * `vector_store_file_batches`: one row per batch (its counts are those of its files). File counts and
 * usage of a store are computed from the file rows, so they can never drift.
 */
export const VECTOR_STORE_MIGRATIONS: Record<string, PortableMigration> = {
  '001_vector_stores': (dialect) => ({
    async up(db) {
      await withSeqColumn(db.schema.createTable('vector_stores'), dialect)
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('description', 'text')
        .addColumn('metadata', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('last_active_at', 'bigint', (c) => c.notNull())
        .addColumn('expires_after_days', 'integer')
        .addColumn('embedding_model', 'text')
        .addColumn('embedding_dimension', 'integer')
        .execute();
      await db.schema.createIndex('vector_stores_project_seq_idx').on('vector_stores').columns(['project_id', 'seq']).execute();

      await withSeqColumn(db.schema.createTable('vector_store_files'), dialect)
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('vector_store_id', 'text', (c) => c.notNull())
        .addColumn('file_id', 'text', (c) => c.notNull())
        .addColumn('attach_id', 'text', (c) => c.notNull())
        .addColumn('filename', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('last_error', 'text')
        .addColumn('usage_bytes', 'bigint', (c) => c.notNull().defaultTo(0))
        .addColumn('chunking_strategy', 'text', (c) => c.notNull())
        .addColumn('attributes', 'text', (c) => c.notNull())
        .addColumn('batch_id', 'text')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('vector_store_files_store_file_key', ['vector_store_id', 'file_id'])
        .execute();
      await db.schema.createIndex('vector_store_files_store_seq_idx').on('vector_store_files').columns(['vector_store_id', 'seq']).execute();
      await db.schema.createIndex('vector_store_files_batch_idx').on('vector_store_files').columns(['batch_id']).execute();
      await db.schema.createIndex('vector_store_files_project_file_idx').on('vector_store_files').columns(['project_id', 'file_id']).execute();

      await withSeqColumn(db.schema.createTable('vector_store_file_batches'), dialect)
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('vector_store_id', 'text', (c) => c.notNull())
        .addColumn('cancelled', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
    },
  }),
  // The ingest worker's checkpoint (chunks committed so far), so a redelivered job resumes mid-file.
  '002_ingest_checkpoint': () => ({
    async up(db) {
      await db.schema.alterTable('vector_store_files').addColumn('ingested_chunks', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  }),
};
