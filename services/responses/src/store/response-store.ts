import { migrate, projectOf, type Database } from '@rgw/shared';
import { sql, type Kysely } from 'kysely';
import type { ResponseItem, ResponseObject, ResponseStatus, ResponseStreamEvent } from '../wire/response-types.js';
import { RESPONSE_MIGRATIONS } from './response-migrations.js';
import { writeFinish, writeInsert } from './response-writes.js';
import { ANY_PROJECT, type FinishWrite, type Lease, type PageQuery, type ProjectScope, type ResponseRecord, type StoredRequest } from './response-records.js';
import {
  LEGACY_HEARTBEAT_MS,
  PARAMS_PER_STATEMENT,
  cursorBounds,
  eventRow,
  hardDelete,
  hasSuccessors,
  insertItems,
  itemRows,
  leaseExpired,
} from './response-rows.js';

// The records' types live in response-records.ts; most code imports them from here, with the store.
export * from './response-records.js';

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
   * principal's. `provisional`: the `in_progress` row of a foreground response that is starting (see
   * response-writes.ts): its commit does not wait for the disk; the finishing write's does.
   */
  async insert(response: ResponseObject, request: StoredRequest, input: readonly ResponseItem[], events: readonly ResponseStreamEvent[] = [], lease?: Lease, opts: { provisional?: boolean } = {}): Promise<void> {
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
    await writeInsert(this.database, { row, items, events: eventRows }, opts.provisional === true);
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
    return writeFinish(this.database, { response, body, items, outbox, ifStatus: write.ifStatus, project: write.project });
  }

  /**
   * Renews the leases of this process's running responses in one statement and answers those still
   * running and visible: a run missing from the answer was cancelled or deleted and should stop.
   */
  async renewLeases(owner: string, ids: readonly string[], until: number): Promise<Set<string>> {
    const alive = new Set<string>();
    // A renewal lost in a database crash only makes a lease look older; committed without waiting for
    // the disk, it also holds the row locks that a finishing response waits for a shorter time.
    const db = this.database.relaxed ?? this.db;
    for (let i = 0; i < ids.length; i += PARAMS_PER_STATEMENT) {
      const rows = await db
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

