import { migrate, type Database } from '@rgw/shared';
import { sql, type Kysely, type QueryCreator, type Transaction } from 'kysely';
import type { ResponseItem, ResponseObject, ResponseStatus, ResponseStreamEvent } from '../wire/response-types.js';
import { RESPONSE_MIGRATIONS } from './response-migrations.js';

/** What a background run needs besides the Response object and its input items. */
export interface StoredRequest {
  /** The validated request body without `input` (its items are stored as rows). */
  body: Record<string, unknown>;
  include: string[];
  /** The create request's x-request-id, so a background run's calls to other services can be traced to it. */
  requestId?: string;
}

export interface ResponseRecord {
  response: ResponseObject;
  request: StoredRequest;
  deleted: boolean;
}

export interface PageQuery {
  after?: string;
  before?: string;
  limit: number;
  order: 'asc' | 'desc';
}

type Db = Kysely<any> | Transaction<any>;

/** Bound parameters per statement we stay under: older SQLite builds allow 999. */
const PARAMS_PER_STATEMENT = 900;
/** Postgres's limit (the wire protocol counts them in 16 bits). */
const POSTGRES_PARAMS_PER_STATEMENT = 65_535;

/** Responses, their items and their background event streams, in SQLite or Postgres. */
export class ResponseStore {
  constructor(private readonly database: Database) {}

  private get db(): Kysely<any> {
    return this.database.db;
  }

  async migrate(): Promise<void> {
    await migrate(this.database, 'responses', RESPONSE_MIGRATIONS);
  }

  /**
   * Stores a response with its own input items, whatever output it already has and its first stream
   * events (a background response's `response.created`), atomically. On Postgres that is one
   * statement (data-modifying CTEs commit all or nothing) rather than BEGIN, an insert per table and
   * COMMIT: every round trip to the server is on the path of the reply.
   */
  async insert(response: ResponseObject, request: StoredRequest, input: readonly ResponseItem[], events: readonly ResponseStreamEvent[] = []): Promise<void> {
    const row = {
      id: response.id,
      created_at: response.created_at,
      model: response.model,
      status: response.status,
      background: response.background ? 1 : 0,
      previous_response_id: response.previous_response_id,
      deleted: 0,
      body: JSON.stringify({ ...response, output: [] }),
      request: JSON.stringify(request),
    };
    const items = [...itemRows(response.id, 'input', input, 0), ...itemRows(response.id, 'output', response.output, 0)];
    const eventRows = events.map((event) => eventRow(response.id, event));
    const params = 9 + items.length * 5 + eventRows.length * 3;
    if (this.database.dialect === 'postgres' && params <= POSTGRES_PARAMS_PER_STATEMENT) {
      const inserts = (
        [
          ['responses', [row]],
          ['response_items', items],
          ['response_events', eventRows],
        ] as const
      ).filter(([, rows]) => rows.length > 0);
      const [table, rows] = inserts.pop()!;
      let creator: QueryCreator<any> = this.db;
      for (const [cte, cteRows] of inserts) creator = creator.with(`stored_${cte}`, (db) => db.insertInto(cte).values([...cteRows]));
      await creator.insertInto(table).values([...rows]).execute();
      return;
    }
    await this.db.transaction().execute(async (tx) => {
      await tx.insertInto('responses').values(row).execute();
      await insertRows(tx, 'response_items', items);
      await insertRows(tx, 'response_events', eventRows);
    });
  }

  /**
   * Writes the Response object's current state (not its output, see addOutputItem). With `ifStatus`,
   * only when the stored status is one of those: how a finishing run and a cancel settle a race.
   */
  async update(response: ResponseObject, ifStatus?: readonly ResponseStatus[], opts: { heartbeat?: boolean } = {}): Promise<boolean> {
    const values: Record<string, unknown> = { status: response.status, body: JSON.stringify({ ...response, output: [] }) };
    if (opts.heartbeat) values.heartbeat_at = Date.now();
    let q = this.db.updateTable('responses').set(values).where('id', '=', response.id);
    if (ifStatus) q = q.where('status', 'in', [...ifStatus]);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async addOutputItem(responseId: string, position: number, item: ResponseItem): Promise<void> {
    await insertItems(this.db, responseId, 'output', [item], position);
  }

  async get(id: string, opts: { includeDeleted?: boolean } = {}): Promise<ResponseRecord | undefined> {
    const row = await this.db.selectFrom('responses').select(['body', 'request', 'deleted']).where('id', '=', id).executeTakeFirst();
    if (!row || (row.deleted && !opts.includeDeleted)) return undefined;
    const response = JSON.parse(row.body as string) as ResponseObject;
    response.output = await this.items(id, 'output');
    return { response, request: JSON.parse(row.request as string) as StoredRequest, deleted: Boolean(row.deleted) };
  }

  /**
   * A running background response says it is alive. False when the row is no longer an
   * `in_progress` response the client can see (cancelled, finished, deleted): the run should stop.
   */
  async heartbeat(id: string): Promise<boolean> {
    const res = await this.db.updateTable('responses').set({ heartbeat_at: Date.now() }).where('id', '=', id).where('status', '=', 'in_progress').where('deleted', '=', 0).executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  /** When the run of an `in_progress` response last said it is alive (ms), null if never. */
  async heartbeatAt(id: string): Promise<number | null> {
    const row = await this.db.selectFrom('responses').select('heartbeat_at').where('id', '=', id).executeTakeFirst();
    return row?.heartbeat_at === null || row?.heartbeat_at === undefined ? null : Number(row.heartbeat_at);
  }

  async status(id: string): Promise<ResponseStatus | undefined> {
    const row = await this.db.selectFrom('responses').select('status').where('id', '=', id).executeTakeFirst();
    return row?.status as ResponseStatus | undefined;
  }

  async exists(id: string): Promise<boolean> {
    const row = await this.db.selectFrom('responses').select('id').where('id', '=', id).where('deleted', '=', 0).executeTakeFirst();
    return Boolean(row);
  }

  async items(responseId: string, kind: 'input' | 'output'): Promise<ResponseItem[]> {
    const rows = await this.db.selectFrom('response_items').select('body').where('response_id', '=', responseId).where('kind', '=', kind).orderBy('position').execute();
    return rows.map((r) => JSON.parse(r.body as string) as ResponseItem);
  }

  /**
   * The input and output items of a response and all its predecessors, oldest first: the stored
   * context a `previous_response_id` continues. One recursive query walks the chain.
   */
  async chainItems(responseId: string): Promise<ResponseItem[]> {
    const { rows } = await sql<{ body: string }>`
      with recursive chain(id, prev, depth) as (
        select id, previous_response_id, 0 from responses where id = ${responseId}
        union all
        select r.id, r.previous_response_id, c.depth + 1 from responses r join chain c on r.id = c.prev
      )
      select i.body from response_items i join chain c on i.response_id = c.id
      order by c.depth desc, i.kind asc, i.position asc`.execute(this.db);
    return rows.map((r) => JSON.parse(r.body) as ResponseItem);
  }

  /** Stored items by id (for `item_reference`), from responses the client has not deleted. */
  async findItems(ids: readonly string[]): Promise<Map<string, ResponseItem>> {
    const out = new Map<string, ResponseItem>();
    const unique = [...new Set(ids)];
    // Chunked: SQLite caps the number of bound parameters per statement.
    for (let i = 0; i < unique.length; i += PARAMS_PER_STATEMENT) {
      const rows = await this.db
        .selectFrom('response_items as i')
        .innerJoin('responses as r', 'r.id', 'i.response_id')
        .select(['i.item_id', 'i.body'])
        .where('i.item_id', 'in', unique.slice(i, i + PARAMS_PER_STATEMENT))
        .where('r.deleted', '=', 0)
        .execute();
      for (const r of rows) out.set(r.item_id as string, JSON.parse(r.body as string) as ResponseItem);
    }
    return out;
  }

  /** A page of responses (without deleted ones), `limit + 1` rows to tell `has_more`; undefined when a cursor names no response. */
  async list(page: PageQuery & { model?: string }): Promise<ResponseObject[] | undefined> {
    let q = this.db.selectFrom('responses').select(['id', 'body']).where('deleted', '=', 0);
    if (page.model) q = q.where('model', '=', page.model);
    for (const [cursor, op] of cursorBounds(page)) {
      const row = await this.db.selectFrom('responses').select('seq').where('id', '=', cursor).where('deleted', '=', 0).executeTakeFirst();
      if (!row) return undefined;
      q = q.where('seq', op, row.seq);
    }
    const rows = await q.orderBy('seq', page.order).limit(page.limit + 1).execute();
    const responses = rows.map((r) => JSON.parse(r.body as string) as ResponseObject);
    const ids = responses.map((r) => r.id);
    if (ids.length > 0) {
      const items = await this.db.selectFrom('response_items').select(['response_id', 'body']).where('response_id', 'in', ids).where('kind', '=', 'output').orderBy('position').execute();
      const byId = new Map(responses.map((r) => [r.id, r]));
      for (const it of items) byId.get(it.response_id as string)?.output.push(JSON.parse(it.body as string));
    }
    return responses;
  }

  /** A page of a response's own input items; undefined when a cursor names no item of it. */
  async listInputItems(responseId: string, page: PageQuery): Promise<ResponseItem[] | undefined> {
    let q = this.db.selectFrom('response_items').select('body').where('response_id', '=', responseId).where('kind', '=', 'input');
    for (const [cursor, op] of cursorBounds(page)) {
      const row = await this.db.selectFrom('response_items').select('position').where('response_id', '=', responseId).where('kind', '=', 'input').where('item_id', '=', cursor).executeTakeFirst();
      if (!row) return undefined;
      q = q.where('position', op, row.position);
    }
    const rows = await q.orderBy('position', page.order).limit(page.limit + 1).execute();
    return rows.map((r) => JSON.parse(r.body as string) as ResponseItem);
  }

  async appendEvent(responseId: string, event: ResponseStreamEvent): Promise<void> {
    await insertEvent(this.db, responseId, event);
  }

  async eventsAfter(responseId: string, after: number, limit = 500): Promise<ResponseStreamEvent[]> {
    const rows = await this.db
      .selectFrom('response_events')
      .select('body')
      .where('response_id', '=', responseId)
      .where('sequence_number', '>', after)
      .orderBy('sequence_number')
      .limit(limit)
      .execute();
    return rows.map((r) => JSON.parse(r.body as string) as ResponseStreamEvent);
  }

  /**
   * What a run wrote after its response was deleted: all of it once the row is gone, the events
   * (never the items, which successors read) of a hidden tombstone. Nothing for a live response.
   */
  async purgeIfDeleted(id: string): Promise<void> {
    await this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('responses').select('deleted').where('id', '=', id).executeTakeFirst();
      if (row && !row.deleted) return;
      if (!row) await tx.deleteFrom('response_items').where('response_id', '=', id).execute();
      await tx.deleteFrom('response_events').where('response_id', '=', id).execute();
    });
  }

  /**
   * Deletes a response. One that later responses still build on stays as a hidden tombstone (its
   * items keep their context intact) and goes once its last successor is gone. False when unknown.
   */
  async delete(id: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx.selectFrom('responses').select(['previous_response_id']).where('id', '=', id).where('deleted', '=', 0).executeTakeFirst();
      if (!row) return false;
      if (await hasSuccessors(tx, id)) {
        await tx.updateTable('responses').set({ deleted: 1 }).where('id', '=', id).execute();
        await tx.deleteFrom('response_events').where('response_id', '=', id).execute();
        return true;
      }
      await hardDelete(tx, id);
      // Tombstones kept only for this response's sake can go now.
      let parent = row.previous_response_id as string | null;
      while (parent) {
        const p = await tx.selectFrom('responses').select(['previous_response_id', 'deleted']).where('id', '=', parent).executeTakeFirst();
        if (!p || !p.deleted || (await hasSuccessors(tx, parent))) break;
        await hardDelete(tx, parent);
        parent = p.previous_response_id as string | null;
      }
      return true;
    });
  }
}

async function insertItems(db: Db, responseId: string, kind: 'input' | 'output', items: readonly { id: string }[], firstPosition: number): Promise<void> {
  await insertRows(db, 'response_items', itemRows(responseId, kind, items, firstPosition));
}

function itemRows(responseId: string, kind: 'input' | 'output', items: readonly { id: string }[], firstPosition: number) {
  return items.map((item, i) => ({ response_id: responseId, item_id: item.id, kind, position: firstPosition + i, body: JSON.stringify(item) }));
}

function eventRow(responseId: string, event: ResponseStreamEvent) {
  return { response_id: responseId, sequence_number: event.sequence_number, body: JSON.stringify(event) };
}

/** Multi-row inserts, chunked: SQLite caps the number of bound parameters per statement. */
async function insertRows(db: Db, table: string, rows: readonly Record<string, unknown>[]): Promise<void> {
  if (rows.length === 0) return;
  const perStatement = Math.floor(PARAMS_PER_STATEMENT / Object.keys(rows[0]!).length);
  for (let i = 0; i < rows.length; i += perStatement) await db.insertInto(table).values(rows.slice(i, i + perStatement)).execute();
}

/** The cursors of a page with the comparison each puts on the ordering column: items after `after`, before `before`. */
function cursorBounds(page: PageQuery): [string, '<' | '>'][] {
  const out: [string, '<' | '>'][] = [];
  if (page.after) out.push([page.after, page.order === 'desc' ? '<' : '>']);
  if (page.before) out.push([page.before, page.order === 'desc' ? '>' : '<']);
  return out;
}

async function insertEvent(db: Db, responseId: string, event: ResponseStreamEvent): Promise<void> {
  await db.insertInto('response_events').values(eventRow(responseId, event)).execute();
}

async function hasSuccessors(db: Db, id: string): Promise<boolean> {
  const child = await db.selectFrom('responses').select('id').where('previous_response_id', '=', id).limit(1).executeTakeFirst();
  return Boolean(child);
}

async function hardDelete(db: Db, id: string): Promise<void> {
  await db.deleteFrom('response_items').where('response_id', '=', id).execute();
  await db.deleteFrom('response_events').where('response_id', '=', id).execute();
  await db.deleteFrom('responses').where('id', '=', id).execute();
}
