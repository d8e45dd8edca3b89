import { DEFAULT_PROJECT_ID, withSeqColumn, type PortableMigration } from '@rgw/shared';
import { sql } from 'kysely';

/**
 * Tables of the responses service. A response row holds its own Response object (without output)
 * and a link to its predecessor; its own input and output items are rows of `response_items`, so a
 * chain of N turns stores each item once (context is rebuilt by walking the links), not N times.
 * `response_events` keeps the event stream of background responses for resumable streaming.
 */
export const RESPONSE_MIGRATIONS: Record<string, PortableMigration> = {
  '001_responses': (dialect) => ({
    up: async (db) => {
      await withSeqColumn(db.schema.createTable('responses'), dialect)
        .addColumn('id', 'text', (c) => c.notNull().unique())
        .addColumn('created_at', 'bigint', (c) => c.notNull())
        .addColumn('model', 'text', (c) => c.notNull())
        .addColumn('status', 'text', (c) => c.notNull())
        .addColumn('background', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('previous_response_id', 'text')
        // 1 = deleted by the client but kept, hidden, because later responses still build on it.
        .addColumn('deleted', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('body', 'text', (c) => c.notNull())
        .addColumn('request', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('responses_previous').on('responses').column('previous_response_id').execute();
      await db.schema.createIndex('responses_listing').on('responses').columns(['deleted', 'seq']).execute();

      await withSeqColumn(db.schema.createTable('response_items'), dialect)
        .addColumn('response_id', 'text', (c) => c.notNull())
        .addColumn('item_id', 'text', (c) => c.notNull())
        .addColumn('kind', 'text', (c) => c.notNull())
        .addColumn('position', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('response_items_by_response').on('response_items').columns(['response_id', 'kind', 'position']).execute();
      await db.schema.createIndex('response_items_by_item').on('response_items').column('item_id').execute();

      await withSeqColumn(db.schema.createTable('response_events'), dialect)
        .addColumn('response_id', 'text', (c) => c.notNull())
        .addColumn('sequence_number', 'integer', (c) => c.notNull())
        .addColumn('body', 'text', (c) => c.notNull())
        .execute();
      await db.schema.createIndex('response_events_by_response').on('response_events').columns(['response_id', 'sequence_number']).unique().execute();
    },
  }),
  // When the process running a background response last said it is alive (ms since the epoch), so a
  // redelivered queue job elsewhere can tell a live run from one that died with its process.
  '002_responses_heartbeat': () => ({
    up: async (db) => {
      await db.schema.alterTable('responses').addColumn('heartbeat_at', 'bigint').execute();
    },
  }),
  // Run ownership that a dead process cannot keep: the random id of the process running the response
  // and until when (ms) its lease holds; it renews the leases of all its runs with one statement.
  // A row `in_progress` past its lease belongs to nobody and is ended by whoever notices.
  '003_responses_lease': () => ({
    up: async (db) => {
      await db.schema.alterTable('responses').addColumn('owner', 'text').execute();
      await db.schema.alterTable('responses').addColumn('lease_until', 'bigint').execute();
      await db.schema.createIndex('responses_lease').on('responses').columns(['status', 'lease_until']).execute();
    },
  }),
  // Conversation appends owed by finished responses, written with the write that finishes the
  // response and deleted once the Conversations service has them (in `seq` order per conversation).
  '004_response_outbox': (dialect) => ({
    up: async (db) => {
      await withSeqColumn(db.schema.createTable('response_outbox'), dialect)
        .addColumn('response_id', 'text', (c) => c.notNull())
        .addColumn('conversation_id', 'text', (c) => c.notNull())
        .addColumn('items', 'text', (c) => c.notNull())
        .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
        .addColumn('next_attempt_at', 'bigint', (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema.createIndex('response_outbox_by_conversation').on('response_outbox').columns(['conversation_id', 'seq']).execute();
      await db.schema.createIndex('response_outbox_by_response').on('response_outbox').column('response_id').execute();
    },
  }),
  // Per-project isolation: every row belongs to the project of the response it is part of (rows from
  // before keys existed belong to the open default). An outbox row also keeps the principal its
  // append is delivered as. Lists and item references look within one project.
  '005_responses_project': () => ({
    up: async (db) => {
      for (const table of ['responses', 'response_items', 'response_events', 'response_outbox']) {
        await db.schema.alterTable(table).addColumn('project_id', 'text', (c) => c.notNull().defaultTo(DEFAULT_PROJECT_ID)).execute();
      }
      await db.schema.alterTable('response_outbox').addColumn('principal', 'text').execute();
      await db.schema.createIndex('responses_project_listing').on('responses').columns(['project_id', 'deleted', 'seq']).execute();
      await db.schema.createIndex('response_items_by_project_item').on('response_items').columns(['project_id', 'item_id']).execute();
    },
  }),
  // Lighter writes: every stored response writes each index of its rows (issue 13). Every listing and
  // item lookup names a project, so the project-less indexes are never used; and most responses
  // start no chain, so the link index keeps only the responses that have a predecessor.
  '006_responses_lighter_indexes': () => ({
    up: async (db) => {
      await db.schema.dropIndex('responses_listing').ifExists().execute();
      await db.schema.dropIndex('response_items_by_item').ifExists().execute();
      await db.schema.dropIndex('responses_previous').ifExists().execute();
      await db.schema.createIndex('responses_previous').on('responses').column('previous_response_id').where(sql.ref('previous_response_id'), 'is not', null).execute();
    },
  }),
};
