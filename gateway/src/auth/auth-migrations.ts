import { withSeqColumn, type PortableMigration } from '@rgw/shared';

/**
 * The gateway's own tables: managed projects, their API keys (hash only) and usage aggregated per
 * project, key, model and UTC day (`key_id` '' for calls without a key, e.g. the open default).
 */
export const AUTH_MIGRATIONS: Record<string, PortableMigration> = {
  '001_auth': (dialect) => ({
    async up(db) {
      await withSeqColumn(db.schema.createTable('auth_projects'), dialect)
        .addColumn('project_id', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('rpm', 'integer')
        .addColumn('tpm', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await withSeqColumn(db.schema.createTable('auth_keys'), dialect)
        .addColumn('key_id', 'text', (c) => c.notNull().unique())
        .addColumn('project_id', 'text', (c) => c.notNull().references('auth_projects.project_id').onDelete('cascade'))
        .addColumn('key_hash', 'text', (c) => c.notNull().unique())
        .addColumn('name', 'text', (c) => c.notNull())
        .addColumn('redacted_value', 'text', (c) => c.notNull())
        .addColumn('models', 'text')
        .addColumn('rpm', 'integer')
        .addColumn('tpm', 'integer')
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('revoked_at', 'bigint')
        .execute();
      await db.schema
        .createTable('auth_usage')
        .addColumn('project_id', 'text', (c) => c.notNull())
        .addColumn('key_id', 'text', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('day', 'text', (c) => c.notNull())
        .addColumn('requests', 'bigint', (c) => c.notNull())
        .addColumn('input_tokens', 'bigint', (c) => c.notNull())
        .addColumn('output_tokens', 'bigint', (c) => c.notNull())
        .addPrimaryKeyConstraint('auth_usage_pkey', ['project_id', 'key_id', 'model', 'day'])
        .execute();
    },
  }),
};
