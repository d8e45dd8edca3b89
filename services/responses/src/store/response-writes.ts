import type { Database } from '@rgw/shared';
import type { ResponseObject, ResponseStatus } from '../wire/response-types.js';
import { postgresWrites } from './postgres-writes.js';
import { insertRows, insertSql } from './response-rows.js';

// The two writes on the path of every stored response — the row at its start and the write that
// finishes it — per engine: on Postgres named prepared statements, gathered across concurrent
// requests (postgres-writes.ts), prepared statements in a shared commit on SQLite, a Kysely
// transaction elsewhere. The SQL is written out here rather than built by Kysely per request (its
// query building was a visible share of a response's CPU in a profile).

type Row = Record<string, unknown>;

/** The rows of a new response: its own row, its items, its first stream events. */
export interface InsertRows {
  row: Row;
  items: readonly Row[];
  events: readonly Row[];
}

/** What finishes a response: its new status and body, output items not stored yet, the outbox record it owes. */
export interface FinishRows {
  response: ResponseObject;
  body: string;
  items: readonly Row[];
  outbox: Row | undefined;
  ifStatus: readonly ResponseStatus[];
  project: string;
}

/**
 * Stores a new response's rows atomically. `provisional`: the row of a foreground response that is
 * only starting, on Postgres committed without waiting for the WAL flush (Database.relaxed): the
 * finishing write's normal commit makes it durable with itself.
 */
export async function writeInsert(database: Database, rows: InsertRows, provisional: boolean): Promise<void> {
  const postgres = postgresWrites(database);
  if (postgres) return postgres.insert(rows, provisional);
  const tables = ([
    ['responses', [rows.row]],
    ['response_items', rows.items],
    ['response_events', rows.events],
  ] as const).filter(([, r]) => r.length > 0);
  if (database.sqliteWrite) {
    await database.sqliteWrite((statement) => {
      for (const [table, tableRows] of tables) {
        const insert = statement(insertSql(table, tableRows[0]!));
        for (const r of tableRows) insert.run(r);
      }
    });
    return;
  }
  await database.db.transaction().execute(async (tx) => {
    for (const [table, tableRows] of tables) await insertRows(tx, table, tableRows);
  });
}

/** The finishing write; false (nothing written) when the stored status is not in `ifStatus`. */
export async function writeFinish(database: Database, w: FinishRows): Promise<boolean> {
  const postgres = postgresWrites(database);
  if (postgres) return postgres.finish(w);
  const { response, body, items, outbox } = w;
  const statuses = [...w.ifStatus];
  if (database.sqliteWrite) {
    const update = `update responses set status = ?, body = ?, lease_until = null where id = ? and status in (${statuses.map(() => '?').join(', ')})`;
    return database.sqliteWrite((statement) => {
      if (statement(update).run(response.status, body, response.id, ...statuses).changes === 0) return false;
      if (items.length > 0) {
        const insert = statement(insertSql('response_items', items[0]!));
        for (const item of items) insert.run(item);
      }
      if (outbox) statement(insertSql('response_outbox', outbox)).run(outbox);
      return true;
    });
  }
  return database.db.transaction().execute(async (tx) => {
    const res = await tx.updateTable('responses').set({ status: response.status, body, lease_until: null }).where('id', '=', response.id).where('status', 'in', statuses).executeTakeFirst();
    if (Number(res.numUpdatedRows) === 0) return false;
    await insertRows(tx, 'response_items', items);
    if (outbox) await tx.insertInto('response_outbox').values(outbox).execute();
    return true;
  });
}
