import type { Database } from '@rgw/shared';
import { CompiledQuery, type Kysely } from 'kysely';
import type { ResponseObject, ResponseStatus } from '../wire/response-types.js';
import { POSTGRES_PARAMS_PER_STATEMENT, insertRows, insertSql } from './response-rows.js';

// The two writes on the path of every stored response — the row at its start and the write that
// finishes it — per engine: one statement on Postgres, prepared statements in a shared commit on
// SQLite, a Kysely transaction elsewhere. The SQL is written out here rather than built by Kysely
// per request (its query building was a visible share of a response's CPU in a profile).

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
  const tables = ([
    ['responses', [rows.row]],
    ['response_items', rows.items],
    ['response_events', rows.events],
  ] as const).filter(([, r]) => r.length > 0);
  const params = tables.reduce((n, [, r]) => n + r.length * Object.keys(r[0]!).length, 0);
  if (database.dialect === 'postgres' && params <= POSTGRES_PARAMS_PER_STATEMENT) {
    // One statement (data-modifying CTEs commit all or nothing) rather than BEGIN, an insert per table and COMMIT.
    const db = (provisional && database.relaxed) || database.db;
    await db.executeQuery(postgresInsert(tables));
    return;
  }
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

/** `with stored_a as (insert into a ...), ... insert into z ...`: the last table is the statement, the others its CTEs. */
function postgresInsert(tables: readonly (readonly [string, readonly Row[]])[]): CompiledQuery {
  const params: unknown[] = [];
  const inserts = tables.map(([table, rows]) => {
    const columns = Object.keys(rows[0]!);
    const values = rows.map((row) => `(${columns.map((c) => (params.push(row[c]), `$${params.length}`)).join(', ')})`);
    return [table, `insert into ${table} (${columns.join(', ')}) values ${values.join(', ')}`] as const;
  });
  const last = inserts.pop()![1];
  const ctes = inserts.map(([table, text]) => `stored_${table} as (${text})`);
  return CompiledQuery.raw(ctes.length > 0 ? `with ${ctes.join(', ')} ${last}` : last, params);
}

/** The finishing write; false (nothing written) when the stored status is not in `ifStatus`. */
export async function writeFinish(database: Database, w: FinishRows): Promise<boolean> {
  const { response, body, items, outbox } = w;
  const statuses = [...w.ifStatus];
  if (database.dialect === 'postgres') {
    const text = `
      with updated as (
        update responses set status = $1, body = $2, lease_until = null
        where id = $3 and status in (${statuses.map((_, i) => `$${i + 9}`).join(', ')}) returning id
      ), stored_items as (
        insert into response_items (project_id, response_id, item_id, kind, position, body)
        select $4::text, updated.id, v.item_id, v.kind, v.position, v.body from updated, jsonb_to_recordset($5::jsonb)
          as v(item_id text, kind text, position int, body text)
      ), stored_outbox as (
        insert into response_outbox (project_id, principal, response_id, conversation_id, items, attempts, next_attempt_at)
        select $4::text, $6::text, updated.id, $7::text, $8::text, 0, 0
        from updated where $7::text is not null
      )
      select count(*) as n from updated`;
    const params = [response.status, body, response.id, w.project, JSON.stringify(items), outbox?.principal ?? null, outbox?.conversation_id ?? null, outbox?.items ?? null, ...statuses];
    const { rows } = await (database.db as Kysely<any>).executeQuery<{ n: number | string }>(CompiledQuery.raw(text, params));
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
