import { migrate, projectOf, type Database, type Principal } from '@rgw/shared';
import { sql, type ExpressionBuilder, type Kysely, type QueryCreator, type Transaction } from 'kysely';
import type { ResponseItem, ResponseObject, ResponseStatus, ResponseStreamEvent } from '../wire/response-types.js';
import { RESPONSE_MIGRATIONS } from './response-migrations.js';

/** What a background run needs besides the Response object and its input items. */
export interface StoredRequest {
  /** The validated request body without `input` (its items are stored as rows). */
  body: Record<string, unknown>;
  include: string[];
  /** The create request's x-request-id, so a background run's calls to other services can be traced to it. */
  requestId?: string;
  /**
   * Whom the response was created for: its row's project, and the principal a background run signs its
   * calls to the other services with (absent: the open default project, as for rows from before keys).
   */
  principal?: Principal;
}

export interface ResponseRecord {
  response: ResponseObject;
  request: StoredRequest;
  deleted: boolean;
  /** The project the response belongs to. */
  project: string;
}

/**
 * Which project's rows a read may see: a project id (every read on behalf of a client), or
 * ANY_PROJECT for the process-internal work that acts for the row's own project (a background run,
 * the reaper), which reaches a response by the id of its own job.
 */
export const ANY_PROJECT = Symbol('any project');
export type ProjectScope = string | typeof ANY_PROJECT;

/** Who runs a response and until when (ms since the epoch) that holds unless renewed. */
export interface Lease {
  owner: string;
  until: number;
}

/** A conversation append owed by a finished response (see OutboxStore). */
export interface OutboxRecord {
  conversationId: string;
  items: readonly unknown[];
  /** Whom the append is delivered as (the response's principal; absent: the open default project). */
  principal?: Principal;
}

/** What finishes a response in one write (see `finish`). */
export interface FinishWrite {
  /** The response's project (its output item rows carry it). */
  project: string;
  /** Only when the stored status is one of these (a cancel or a takeover may have ended it meanwhile). */
  ifStatus: readonly ResponseStatus[];
  /** Output items not stored yet, at their positions from `from`. */
  output?: { from: number; items: readonly { id: string }[] };
  outbox?: OutboxRecord;
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
/** Rows from before leases were kept: a run whose heartbeat is older than this is dead. */
const LEGACY_HEARTBEAT_MS = 10_000;
/** Postgres's limit (the wire protocol counts them in 16 bits). */
const POSTGRES_PARAMS_PER_STATEMENT = 65_535;

/**
 * Responses, their items and their background event streams, in SQLite or Postgres. Every row carries
 * the project of its response; the reads a client's request makes take that project (another
 * project's response, item or cursor is as unknown as one that never existed).
 */
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
   * COMMIT: every round trip to the server is on the path of the reply. The project is the request's
   * principal's.
   */
  async insert(response: ResponseObject, request: StoredRequest, input: readonly ResponseItem[], events: readonly ResponseStreamEvent[] = [], lease?: Lease): Promise<void> {
    const project = projectOf(request);
    const row = {
      project_id: project,
      owner: lease?.owner ?? null,
      lease_until: lease?.until ?? null,
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
    const items = [...itemRows(project, response.id, 'input', input, 0), ...itemRows(project, response.id, 'output', response.output, 0)];
    const eventRows = events.map((event) => eventRow(project, response.id, event));
    const params = 12 + items.length * 6 + eventRows.length * 4;
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
    if (this.database.sqliteWrite) {
      // SQLite: the same rows through prepared statements, in one synchronous transaction.
      await this.database.sqliteWrite((statement) => {
        statement(insertSql('responses', row)).run(row);
        for (const [table, rows] of [['response_items', items], ['response_events', eventRows]] as const) {
          if (rows.length > 0) {
            const insert = statement(insertSql(table, rows[0]!));
            for (const r of rows) insert.run(r);
          }
        }
      });
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
  async update(response: ResponseObject, ifStatus?: readonly ResponseStatus[], opts: { lease?: Lease } = {}): Promise<boolean> {
    const values: Record<string, unknown> = { status: response.status, body: JSON.stringify({ ...response, output: [] }) };
    if (opts.lease) Object.assign(values, { owner: opts.lease.owner, lease_until: opts.lease.until });
    let q = this.db.updateTable('responses').set(values).where('id', '=', response.id);
    if (ifStatus) q = q.where('status', 'in', [...ifStatus]);
    const res = await q.executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async addOutputItem(project: string, responseId: string, position: number, item: ResponseItem): Promise<void> {
    await insertItems(this.db, project, responseId, 'output', [item], position);
  }

  /** Output items from `position` on (a running foreground response's completed items, saved in case its process dies). */
  async addOutputItems(project: string, responseId: string, position: number, items: readonly { id: string }[]): Promise<void> {
    await insertItems(this.db, project, responseId, 'output', items, position);
  }

  /**
   * Finishes a response in one write: its Response object, the output items not stored yet, and the
   * conversation append it owes (the outbox record), so "finished" and "append owed" are never apart.
   * False (nothing written) when the stored status is not in `ifStatus`. On Postgres it is a single
   * statement, as `insert` is: the success path of every stored response pays for it.
   */
  async finish(response: ResponseObject, write: FinishWrite): Promise<boolean> {
    const body = JSON.stringify({ ...response, output: [] });
    const items = write.output ? itemRows(write.project, response.id, 'output', write.output.items, write.output.from) : [];
    const outbox = write.outbox && {
      project_id: write.project,
      principal: write.outbox.principal ? JSON.stringify(write.outbox.principal) : null,
      response_id: response.id,
      conversation_id: write.outbox.conversationId,
      items: JSON.stringify(write.outbox.items),
      attempts: 0,
      next_attempt_at: 0,
    };
    if (this.database.dialect === 'postgres') {
      const { rows } = await sql<{ n: string }>`
        with updated as (
          update responses set status = ${response.status}, body = ${body}, lease_until = null
          where id = ${response.id} and status in (${sql.join([...write.ifStatus])}) returning id
        ), stored_items as (
          insert into response_items (project_id, response_id, item_id, kind, position, body)
          select ${write.project}::text, updated.id, v.item_id, v.kind, v.position, v.body from updated, jsonb_to_recordset(${JSON.stringify(items)}::jsonb)
            as v(item_id text, kind text, position int, body text)
        ), stored_outbox as (
          insert into response_outbox (project_id, principal, response_id, conversation_id, items, attempts, next_attempt_at)
          select ${write.project}::text, ${outbox?.principal ?? null}::text, updated.id, ${outbox?.conversation_id ?? null}::text, ${outbox?.items ?? null}::text, 0, 0
          from updated where ${outbox ? 1 : 0} = 1
        )
        select count(*) as n from updated`.execute(this.db);
      return Number(rows[0]?.n) > 0;
    }
    if (this.database.sqliteWrite) {
      const statuses = [...write.ifStatus];
      const update = `update responses set status = ?, body = ?, lease_until = null where id = ? and status in (${statuses.map(() => '?').join(', ')})`;
      return this.database.sqliteWrite((statement) => {
        if (statement(update).run(response.status, body, response.id, ...statuses).changes === 0) return false;
        if (items.length > 0) {
          const insert = statement(insertSql('response_items', items[0]!));
          for (const item of items) insert.run(item);
        }
        if (outbox) statement(insertSql('response_outbox', outbox)).run(outbox);
        return true;
      });
    }
    return this.db.transaction().execute(async (tx) => {
      const res = await tx
        .updateTable('responses')
        .set({ status: response.status, body, lease_until: null })
        .where('id', '=', response.id)
        .where('status', 'in', [...write.ifStatus])
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) === 0) return false;
      await insertRows(tx, 'response_items', items);
      if (outbox) await tx.insertInto('response_outbox').values(outbox).execute();
      return true;
    });
  }

  /**
   * Renews the leases of this process's running responses in one statement and answers those still
   * running and visible: a run missing from the answer was cancelled or deleted and should stop.
   */
  async renewLeases(owner: string, ids: readonly string[], until: number): Promise<Set<string>> {
    const alive = new Set<string>();
    for (let i = 0; i < ids.length; i += PARAMS_PER_STATEMENT) {
      const rows = await this.db
        .updateTable('responses')
        .set({ lease_until: until })
        .where('owner', '=', owner)
        .where('id', 'in', ids.slice(i, i + PARAMS_PER_STATEMENT))
        .where('status', '=', 'in_progress')
        .where('deleted', '=', 0)
        .returning('id')
        .execute();
      for (const r of rows) alive.add(r.id as string);
    }
    return alive;
  }

  /** Who runs a response and until when (null when the row has no lease, e.g. from before leases). */
  async lease(id: string): Promise<{ status: ResponseStatus; lease: Lease | null } | undefined> {
    const row = await this.db.selectFrom('responses').select(['status', 'owner', 'lease_until', 'heartbeat_at']).where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const until = row.lease_until ?? (row.heartbeat_at === null || row.heartbeat_at === undefined ? null : Number(row.heartbeat_at) + LEGACY_HEARTBEAT_MS);
    return { status: row.status as ResponseStatus, lease: until === null ? null : { owner: (row.owner as string | null) ?? '', until: Number(until) } };
  }

  /** Responses `in_progress` whose lease ran out before `now`: their process died (or stalled). */
  async expiredRuns(now: number, limit = 100): Promise<string[]> {
    const rows = await this.db
      .selectFrom('responses')
      .select('id')
      .where('status', '=', 'in_progress')
      .where(leaseExpired(now))
      .limit(limit)
      .execute();
    return rows.map((r) => r.id as string);
  }

  /** Takes the run of a response whose lease expired before `now`; false when it is alive, finished or taken by someone else. */
  async takeOver(id: string, lease: Lease, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('responses')
      .set({ owner: lease.owner, lease_until: lease.until })
      .where('id', '=', id)
      .where('status', '=', 'in_progress')
      .where(leaseExpired(now))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  async get(scope: ProjectScope, id: string, opts: { includeDeleted?: boolean } = {}): Promise<ResponseRecord | undefined> {
    const row = await this.responses(scope).select(['body', 'request', 'deleted', 'project_id']).where('id', '=', id).executeTakeFirst();
    if (!row || (row.deleted && !opts.includeDeleted)) return undefined;
    const response = JSON.parse(row.body as string) as ResponseObject;
    response.output = await this.items(id, 'output');
    return { response, request: JSON.parse(row.request as string) as StoredRequest, deleted: Boolean(row.deleted), project: row.project_id as string };
  }

  async status(id: string): Promise<ResponseStatus | undefined> {
    const row = await this.db.selectFrom('responses').select('status').where('id', '=', id).executeTakeFirst();
    return row?.status as ResponseStatus | undefined;
  }

  async exists(project: string, id: string): Promise<boolean> {
    const row = await this.responses(project).select('id').where('id', '=', id).where('deleted', '=', 0).executeTakeFirst();
    return Boolean(row);
  }

  async items(responseId: string, kind: 'input' | 'output'): Promise<ResponseItem[]> {
    const rows = await this.db.selectFrom('response_items').select('body').where('response_id', '=', responseId).where('kind', '=', kind).orderBy('position').execute();
    return rows.map((r) => JSON.parse(r.body as string) as ResponseItem);
  }

  /**
   * The input and output items of a response and all its predecessors, oldest first: the stored
   * context a `previous_response_id` continues. One recursive query walks the chain, from a response
   * of the project (its predecessors are the same project's: a link is only ever made within one).
   */
  async chainItems(project: string, responseId: string): Promise<ResponseItem[]> {
    const { rows } = await sql<{ body: string }>`
      with recursive chain(id, prev, depth) as (
        select id, previous_response_id, 0 from responses where id = ${responseId} and project_id = ${project}
        union all
        select r.id, r.previous_response_id, c.depth + 1 from responses r join chain c on r.id = c.prev
      )
      select i.body from response_items i join chain c on i.response_id = c.id
      order by c.depth desc, i.kind asc, i.position asc`.execute(this.db);
    return rows.map((r) => JSON.parse(r.body) as ResponseItem);
  }

  /** Stored items by id (for `item_reference`), from the project's responses the client has not deleted. */
  async findItems(project: string, ids: readonly string[]): Promise<Map<string, ResponseItem>> {
    const out = new Map<string, ResponseItem>();
    const unique = [...new Set(ids)];
    // Chunked: SQLite caps the number of bound parameters per statement.
    for (let i = 0; i < unique.length; i += PARAMS_PER_STATEMENT) {
      const rows = await this.db
        .selectFrom('response_items as i')
        .innerJoin('responses as r', 'r.id', 'i.response_id')
        .select(['i.item_id', 'i.body'])
        .where('i.project_id', '=', project)
        .where('i.item_id', 'in', unique.slice(i, i + PARAMS_PER_STATEMENT))
        .where('r.project_id', '=', project)
        .where('r.deleted', '=', 0)
        .execute();
      for (const r of rows) out.set(r.item_id as string, JSON.parse(r.body as string) as ResponseItem);
    }
    return out;
  }

  /** A page of responses (without deleted ones), `limit + 1` rows to tell `has_more`; undefined when a cursor names no response. */
  async list(project: string, page: PageQuery & { model?: string }): Promise<ResponseObject[] | undefined> {
    let q = this.responses(project).select(['id', 'body']).where('deleted', '=', 0);
    if (page.model) q = q.where('model', '=', page.model);
    for (const [cursor, op] of cursorBounds(page)) {
      const row = await this.responses(project).select('seq').where('id', '=', cursor).where('deleted', '=', 0).executeTakeFirst();
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
  async listInputItems(project: string, responseId: string, page: PageQuery): Promise<ResponseItem[] | undefined> {
    const items = () => this.db.selectFrom('response_items').where('project_id', '=', project);
    let q = items().select('body').where('response_id', '=', responseId).where('kind', '=', 'input');
    for (const [cursor, op] of cursorBounds(page)) {
      const row = await items().select('position').where('response_id', '=', responseId).where('kind', '=', 'input').where('item_id', '=', cursor).executeTakeFirst();
      if (!row) return undefined;
      q = q.where('position', op, row.position);
    }
    const rows = await q.orderBy('position', page.order).limit(page.limit + 1).execute();
    return rows.map((r) => JSON.parse(r.body as string) as ResponseItem);
  }

  async appendEvent(project: string, responseId: string, event: ResponseStreamEvent): Promise<void> {
    await this.db.insertInto('response_events').values(eventRow(project, responseId, event)).execute();
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
   * items keep their context intact) and goes once its last successor is gone. False when unknown (or
   * another project's).
   */
  async delete(project: string, id: string): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const row = await tx
        .selectFrom('responses')
        .select(['previous_response_id'])
        .where('project_id', '=', project)
        .where('id', '=', id)
        .where('deleted', '=', 0)
        .executeTakeFirst();
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

  /** The responses rows a read in `scope` may see. */
  private responses(scope: ProjectScope) {
    const q = this.db.selectFrom('responses');
    return scope === ANY_PROJECT ? q : q.where('project_id', '=', scope);
  }
}

async function insertItems(db: Db, project: string, responseId: string, kind: 'input' | 'output', items: readonly { id: string }[], firstPosition: number): Promise<void> {
  await insertRows(db, 'response_items', itemRows(project, responseId, kind, items, firstPosition));
}

function itemRows(project: string, responseId: string, kind: 'input' | 'output', items: readonly { id: string }[], firstPosition: number) {
  return items.map((item, i) => ({ project_id: project, response_id: responseId, item_id: item.id, kind, position: firstPosition + i, body: JSON.stringify(item) }));
}

function eventRow(project: string, responseId: string, event: ResponseStreamEvent) {
  return { project_id: project, response_id: responseId, sequence_number: event.sequence_number, body: JSON.stringify(event) };
}

/** `insert into <table> (<columns>) values (@<column>, ...)` for a row object's keys: bound by name from the row itself. */
function insertSql(table: string, row: Record<string, unknown>): string {
  const columns = Object.keys(row);
  return `insert into ${table} (${columns.join(', ')}) values (${columns.map((c) => `@${c}`).join(', ')})`;
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

/** An `in_progress` row's lease ran out (rows from before leases: their heartbeat is stale). */
function leaseExpired(now: number) {
  return (eb: ExpressionBuilder<any, 'responses'>) =>
    eb.or([eb('lease_until', '<', now), eb.and([eb('lease_until', 'is', null), eb(eb.fn.coalesce('heartbeat_at', eb.lit(0)), '<', now - LEGACY_HEARTBEAT_MS)])]);
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
