import { DEFAULT_PROJECT_ID, withSeqColumn, type PortableMigration } from '@rgw/shared';

/** Tables of the conversations service; `seq` gives both tables a portable insertion order for cursors. */
export const CONVERSATION_MIGRATIONS: Record<string, PortableMigration> = {
  '001_conversations': (dialect) => ({
    async up(db) {
      await withSeqColumn(db.schema.createTable('conversations'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('metadata', 'text', (c) => c.notNull())
        .execute();
      await withSeqColumn(db.schema.createTable('conversation_items'), dialect)
        .addColumn('conversation_id', 'text', (c) => c.notNull().references('conversations.id').onDelete('cascade'))
        .addColumn('id', 'text', (c) => c.notNull())
        .addColumn('type', 'text', (c) => c.notNull())
        .addColumn('data', 'text', (c) => c.notNull())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addUniqueConstraint('conversation_items_conversation_id_id_key', ['conversation_id', 'id'])
        .execute();
      // Listing walks one conversation by seq; item references look items up by id alone.
      await db.schema.createIndex('conversation_items_conversation_seq_idx').on('conversation_items').columns(['conversation_id', 'seq']).execute();
      await db.schema.createIndex('conversation_items_id_idx').on('conversation_items').column('id').execute();
    },
  }),
  // Per-project isolation: every row belongs to the project that created it (rows from before keys
  // existed belong to the open default). Lists walk one project's rows by seq.
  '002_conversations_project': () => ({
    async up(db) {
      for (const table of ['conversations', 'conversation_items']) {
        await db.schema.alterTable(table).addColumn('project_id', 'text', (c) => c.notNull().defaultTo(DEFAULT_PROJECT_ID)).execute();
      }
      await db.schema.createIndex('conversations_project_seq_idx').on('conversations').columns(['project_id', 'seq']).execute();
      await db.schema.createIndex('conversation_items_project_id_idx').on('conversation_items').columns(['project_id', 'id']).execute();
    },
  }),
};
