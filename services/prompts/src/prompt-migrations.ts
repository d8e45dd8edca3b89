import { withSeqColumn, type PortableMigration } from '@rgw/shared';

/**
 * `prompts` holds one row per prompt (which version is the default, which the latest: the row that
 * concurrent updates race on); `prompt_versions` one row per version, unique per (prompt_id, version).
 */
export const PROMPT_MIGRATIONS: Record<string, PortableMigration> = {
  '001_prompts': (dialect) => ({
    async up(db) {
      await withSeqColumn(db.schema.createTable('prompts'), dialect)
        .addColumn('prompt_id', 'text', (c) => c.notNull().unique())
        .addColumn('default_version', 'integer', (c) => c.notNull())
        .addColumn('latest_version', 'integer', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .execute();
      await withSeqColumn(db.schema.createTable('prompt_versions'), dialect)
        .addColumn('prompt_id', 'text', (c) => c.notNull().references('prompts.prompt_id').onDelete('cascade'))
        .addColumn('version', 'integer', (c) => c.notNull())
        .addColumn('prompt', 'text', (c) => c.notNull())
        .addColumn('variables', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('prompt_versions_prompt_id_version_key', ['prompt_id', 'version'])
        .execute();
    },
  }),
};
