import { DEFAULT_PROJECT_ID, withSeqColumn, type PortableMigration } from '@rgw/shared';

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
  // Per-project isolation: every prompt belongs to the project that created it (rows from before keys
  // existed belong to the open default); the list walks one project's prompts by seq.
  '002_prompts_project': () => ({
    async up(db) {
      for (const table of ['prompts', 'prompt_versions']) {
        await db.schema.alterTable(table).addColumn('project_id', 'text', (c) => c.notNull().defaultTo(DEFAULT_PROJECT_ID)).execute();
      }
      await db.schema.createIndex('prompts_project_seq_idx').on('prompts').columns(['project_id', 'seq']).execute();
    },
  }),
};
