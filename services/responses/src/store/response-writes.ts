import type { Database } from '@rgw/shared';
import type { ResponseObject, ResponseStatus } from '../wire/response-types.js';
import { insertRows, insertSql } from './response-rows.js';

// The two writes on the path of every stored response — the row at its start and the write that
// finishes it — per engine: one named prepared statement on Postgres (a text per shape, so each
// connection parses and plans it once), prepared statements in a shared commit on SQLite, a Kysely
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
  if (database.prepared) {
    // One statement (data-modifying CTEs commit all or nothing) rather than BEGIN, an insert per table
    // and COMMIT; items and events go as arrays, so the text is the same for every response.
    const { row, items, events } = rows;
    const columns = Object.keys(row);
    const values = [
      ...columns.map((c) => row[c]),
      ...itemArrays(items),
      events.map((e) => e.sequence_number),
      events.map((e) => e.body),
    ];
    await database.prepared(postgresInsert(columns), values, { relaxed: provisional });
    return;
  }
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

/** Items as four column arrays (item_id, kind, position, body), for `unnest`. */
function itemArrays(items: readonly Row[]): unknown[][] {
  return [items.map((i) => i.item_id), items.map((i) => i.kind), items.map((i) => i.position), items.map((i) => i.body)];
}

const insertTexts = new Map<string, string>();

/** The insert of a response row with its items and events; one text per set of response columns. */
function postgresInsert(columns: readonly string[]): string {
  const key = columns.join(', ');
  let text = insertTexts.get(key);
  if (!text) {
    const n = columns.length;
    const at = (name: string) => `$${columns.indexOf(name) + 1}::text`;
    text = `
      with stored_response as (
        insert into responses (${key}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})
      ), stored_items as (
        insert into response_items (project_id, response_id, item_id, kind, position, body)
        select ${at('project_id')}, ${at('id')}, * from unnest($${n + 1}::text[], $${n + 2}::text[], $${n + 3}::int[], $${n + 4}::text[])
      )
      insert into response_events (project_id, response_id, sequence_number, body)
      select ${at('project_id')}, ${at('id')}, * from unnest($${n + 5}::int[], $${n + 6}::text[])`;
    insertTexts.set(key, text);
  }
  return text;
}

const POSTGRES_FINISH = `
  with updated as (
    update responses set status = $1, body = $2, lease_until = null
    where id = $3 and status = any($4::text[]) returning id
  ), stored_items as (
    insert into response_items (project_id, response_id, item_id, kind, position, body)
    select $5::text, updated.id, v.item_id, v.kind, v.position, v.body
    from updated, unnest($6::text[], $7::text[], $8::int[], $9::text[]) as v(item_id, kind, position, body)
  ), stored_outbox as (
    insert into response_outbox (project_id, principal, response_id, conversation_id, items, attempts, next_attempt_at)
    select $5::text, $10::text, updated.id, $11::text, $12::text, 0, 0
    from updated where $11::text is not null
  )
  select count(*) as n from updated`;

/** The finishing write; false (nothing written) when the stored status is not in `ifStatus`. */
export async function writeFinish(database: Database, w: FinishRows): Promise<boolean> {
  const { response, body, items, outbox } = w;
  const statuses = [...w.ifStatus];
  if (database.prepared) {
    const params = [response.status, body, response.id, statuses, w.project, ...itemArrays(items), outbox?.principal ?? null, outbox?.conversation_id ?? null, outbox?.items ?? null];
    const rows = await database.prepared<{ n: number | string }>(POSTGRES_FINISH, params);
    return Number(rows[0]?.n) > 0;
  }
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
