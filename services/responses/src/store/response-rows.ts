import type { Kysely, Transaction, ExpressionBuilder } from 'kysely';
import type { ResponseStreamEvent } from '../wire/response-types.js';
import type { PageQuery } from './response-records.js';

export type Db = Kysely<any> | Transaction<any>;

/** Bound parameters per statement we stay under: older SQLite builds allow 999. */
export const PARAMS_PER_STATEMENT = 900;
/** Rows from before leases were kept: a run whose heartbeat is older than this is dead. */
export const LEGACY_HEARTBEAT_MS = 10_000;

export async function insertItems(db: Db, project: string, responseId: string, kind: 'input' | 'output', items: readonly { id: string }[], firstPosition: number): Promise<void> {
  await insertRows(db, 'response_items', itemRows(project, responseId, kind, items, firstPosition));
}

export function itemRows(project: string, responseId: string, kind: 'input' | 'output', items: readonly { id: string }[], firstPosition: number) {
  return items.map((item, i) => ({ project_id: project, response_id: responseId, item_id: item.id, kind, position: firstPosition + i, body: JSON.stringify(item) }));
}

export function eventRow(project: string, responseId: string, event: ResponseStreamEvent) {
  return { project_id: project, response_id: responseId, sequence_number: event.sequence_number, body: JSON.stringify(event) };
}

/** `insert into <table> (<columns>) values (@<column>, ...)` for a row object's keys: bound by name from the row itself. */
export function insertSql(table: string, row: Record<string, unknown>): string {
  const columns = Object.keys(row);
  return `insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`;
}

/** Multi-row inserts, chunked: SQLite caps the number of bound parameters per statement. */
export async function insertRows(db: Db, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const perStatement = Math.floor(PARAMS_PER_STATEMENT / Object.keys(rows[0]!).length);
  for (let i = 0; i < rows.length; i += perStatement) await db.insertInto(table).values(rows.slice(i, i + perStatement)).execute();
}

/** The cursors of a page with the comparison each puts on the ordering column: items after `after`, before `before`. */
export function cursorBounds(page: PageQuery): [string, '<' | '>'][] {
  const out: [string, '<' | '>'][] = [];
  if (page.after) out.push([page.after, page.order === 'desc' ? '<' : '>']);
  if (page.before) out.push([page.before, page.order === 'desc' ? '>' : '<']);
  return out;
}

/** An `in_progress` row's lease ran out (rows from before leases: their heartbeat is stale). */
export function leaseExpired(now: number) {
  return (eb: ExpressionBuilder<any, 'responses'>) =>
    eb.or([eb('lease_until', '<', now), eb.and([eb('lease_until', 'is', null), eb(eb.fn.coalesce('heartbeat_at', eb.lit(0)), '<', now - LEGACY_HEARTBEAT_MS)])]);
}

export async function hasSuccessors(db: Db, id: string): Promise<boolean> {
  const child = await db.selectFrom('responses').select('id').where('previous_response_id', '=', id).limit(1).executeTakeFirst();
  return Boolean(child);
}

export async function hardDelete(db: Db, id: string): Promise<void> {
  await db.deleteFrom('response_items').where('response_id', '=', id).execute();
  await db.deleteFrom('response_events').where('response_id', '=', id).execute();
  await db.deleteFrom('responses').where('id', '=', id).execute();
}
