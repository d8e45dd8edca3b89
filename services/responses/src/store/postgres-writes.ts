import type { Database } from '@rgw/shared';
import type { FinishRows, InsertRows } from './response-writes.js';

// The two writes on the path of every stored response, on Postgres. Alone, each is one named
// prepared statement (data-modifying CTEs commit all or nothing; items and events go as arrays, so
// the text is the same for every response and each connection parses and plans it once). Under load,
// the writes asked for in one turn of the event loop go as one statement, their rows as one JSON
// array each (json_populate_recordset types them by the table's own row type): one round trip, one
// commit and one WAL flush for the lot instead of one each.

type Row = Record<string, unknown>;

/** Writes in one statement at most: bounds what one failure sends back to run alone. */
const MAX_BATCH = 64;
/**
 * Text in one statement at most (the rows' bodies, before JSON escaping). Requests and outputs can be
 * megabytes each: without it, a lot of large writes at once could pass Postgres's 1 GB value limit and
 * fail together. A write larger than this goes alone, as the single-row statement.
 */
const MAX_BATCH_CHARS = 8 * 1024 * 1024;

/**
 * Calls gathered in one turn of the event loop and run as one batch. A batch that fails on its data
 * (SQLSTATE class 22 or 23: nothing of the statement was written) is run again one call at a time,
 * so only the call at fault fails; any other failure (the server gone) fails them all, as it would
 * have failed each.
 */
class Gathering<T, R> {
  private pending: { input: T; resolve: (value: R) => void; reject: (err: unknown) => void }[] = [];
  private pendingChars = 0;

  constructor(
    private readonly runOne: (input: T) => Promise<R>,
    private readonly runBatch: (inputs: T[]) => Promise<R[]>,
    private readonly charsOf: (input: T) => number,
  ) {}

  add(input: T): Promise<R> {
    const chars = this.charsOf(input);
    return new Promise<R>((resolve, reject) => {
      if (this.pending.length > 0 && this.pendingChars + chars > MAX_BATCH_CHARS) this.flush();
      if (this.pending.length === 0) setImmediate(() => this.flush());
      this.pending.push({ input, resolve, reject });
      this.pendingChars += chars;
      if (this.pending.length >= MAX_BATCH || this.pendingChars >= MAX_BATCH_CHARS) this.flush();
    });
  }

  private flush(): void {
    const batch = this.pending;
    this.pending = [];
    this.pendingChars = 0;
    if (batch.length === 0) return;
    if (batch.length === 1) {
      const [only] = batch;
      this.runOne(only!.input).then(only!.resolve, only!.reject);
      return;
    }
    this.runBatch(batch.map((w) => w.input)).then(
      (results) => batch.forEach((w, i) => w.resolve(results[i]!)),
      (err: { code?: unknown }) => {
        if (typeof err?.code === 'string' && /^2[23]/.test(err.code)) for (const w of batch) this.runOne(w.input).then(w.resolve, w.reject);
        else for (const w of batch) w.reject(err);
      },
    );
  }
}

/** The text a write's rows carry, near enough: their bodies. */
const charsOfRows = (rows: readonly Row[]) => rows.reduce((n, r) => n + (typeof r.body === 'string' ? r.body.length : 0), 0);
const charsOfInsert = ({ row, items, events }: InsertRows) => String(row.body ?? '').length + String(row.request ?? '').length + charsOfRows(items) + charsOfRows(events);
const charsOfFinish = ({ body, items, outbox }: FinishRows) => body.length + charsOfRows(items) + String(outbox?.items ?? '').length;

/** Items as four column arrays (item_id, kind, position, body), for `unnest`. */
function itemArrays(items: readonly Row[]): unknown[][] {
  return [items.map((i) => i.item_id), items.map((i) => i.kind), items.map((i) => i.position), items.map((i) => i.body)];
}

const ITEM_COLUMNS = 'project_id, response_id, item_id, kind, position, body';
const EVENT_COLUMNS = 'project_id, response_id, sequence_number, body';
const OUTBOX_COLUMNS = 'project_id, principal, response_id, conversation_id, items, attempts, next_attempt_at';

/** The insert of one response row with its items and events; one text per set of response columns. */
function insertOneText(columns: readonly string[]): string {
  const n = columns.length;
  const at = (name: string) => `$${columns.indexOf(name) + 1}::text`;
  return `
    with stored_response as (
      insert into responses (${columns.join(', ')}) values (${columns.map((_, i) => `$${i + 1}`).join(', ')})
    ), stored_items as (
      insert into response_items (${ITEM_COLUMNS})
      select ${at('project_id')}, ${at('id')}, * from unnest($${n + 1}::text[], $${n + 2}::text[], $${n + 3}::int[], $${n + 4}::text[])
    )
    insert into response_events (${EVENT_COLUMNS})
    select ${at('project_id')}, ${at('id')}, * from unnest($${n + 5}::int[], $${n + 6}::text[])`;
}

/** The insert of several responses' rows: responses, items and events as one JSON array each. */
function insertManyText(columns: readonly string[]): string {
  const key = columns.join(', ');
  return `
    with stored_responses as (
      insert into responses (${key}) select ${key} from json_populate_recordset(null::responses, $1::json)
    ), stored_items as (
      insert into response_items (${ITEM_COLUMNS}) select ${ITEM_COLUMNS} from json_populate_recordset(null::response_items, $2::json)
    )
    insert into response_events (${EVENT_COLUMNS}) select ${EVENT_COLUMNS} from json_populate_recordset(null::response_events, $3::json)`;
}

const FINISH_ONE = `
  with updated as (
    update responses set status = $1, body = $2, lease_until = null
    where id = $3 and status = any($4::text[]) returning id
  ), stored_items as (
    insert into response_items (${ITEM_COLUMNS})
    select $5::text, updated.id, v.item_id, v.kind, v.position, v.body
    from updated, unnest($6::text[], $7::text[], $8::int[], $9::text[]) as v(item_id, kind, position, body)
  ), stored_outbox as (
    insert into response_outbox (${OUTBOX_COLUMNS})
    select $5::text, $10::text, updated.id, $11::text, $12::text, 0, 0
    from updated where $11::text is not null
  )
  select count(*) as n from updated`;

/** Several finishing writes: each response's items and outbox record are written only if its update was. */
const FINISH_MANY = `
  with finishing as (
    select * from json_to_recordset($1::json) as f(id text, status text, body text, if_status text[])
  ), updated as (
    update responses r set status = f.status, body = f.body, lease_until = null
    from finishing f where r.id = f.id and r.status = any(f.if_status) returning r.id
  ), stored_items as (
    insert into response_items (${ITEM_COLUMNS})
    select v.project_id, v.response_id, v.item_id, v.kind, v.position, v.body
    from json_populate_recordset(null::response_items, $2::json) v join updated u on u.id = v.response_id
  ), stored_outbox as (
    insert into response_outbox (${OUTBOX_COLUMNS})
    select o.project_id, o.principal, o.response_id, o.conversation_id, o.items, 0, 0
    from json_populate_recordset(null::response_outbox, $3::json) o join updated u on u.id = o.response_id
  )
  select id from updated`;

/** The gatherings of one database: inserts per set of columns and commit mode, and finishes. */
class PostgresWrites {
  private readonly inserts = new Map<string, Gathering<InsertRows, void>>();
  private readonly finishes: Gathering<FinishRows, boolean>;

  constructor(private readonly database: Database & Required<Pick<Database, 'prepared'>>) {
    this.finishes = new Gathering((w) => this.finishOne(w), (ws) => this.finishMany(ws), charsOfFinish);
  }

  /** `relaxed`: committed without waiting for the WAL flush (see Database.relaxed). */
  insert(rows: InsertRows, relaxed: boolean): Promise<void> {
    const columns = Object.keys(rows.row);
    const key = `${relaxed}:${columns.join(',')}`;
    let gathering = this.inserts.get(key);
    if (!gathering) {
      const one = insertOneText(columns);
      const many = insertManyText(columns);
      gathering = new Gathering<InsertRows, void>(
        async ({ row, items, events }) => {
          const values = [...columns.map((c) => row[c]), ...itemArrays(items), events.map((e) => e.sequence_number), events.map((e) => e.body)];
          await this.database.prepared(one, values, { relaxed });
        },
        async (batch) => {
          const json = (rows: readonly Row[]) => JSON.stringify(rows);
          await this.database.prepared(many, [json(batch.map((b) => b.row)), json(batch.flatMap((b) => b.items)), json(batch.flatMap((b) => b.events))], { relaxed });
          return batch.map(() => undefined);
        },
        charsOfInsert,
      );
      this.inserts.set(key, gathering);
    }
    return gathering.add(rows);
  }

  /** False (nothing written) when the stored status is not in `ifStatus`. */
  finish(w: FinishRows): Promise<boolean> {
    return this.finishes.add(w);
  }

  private async finishOne(w: FinishRows): Promise<boolean> {
    const { response, body, items, outbox } = w;
    const params = [response.status, body, response.id, [...w.ifStatus], w.project, ...itemArrays(items), outbox?.principal ?? null, outbox?.conversation_id ?? null, outbox?.items ?? null];
    const rows = await this.database.prepared<{ n: number | string }>(FINISH_ONE, params);
    return Number(rows[0]?.n) > 0;
  }

  /**
   * One statement for the batch. Two finishes of one response (a run ending as it is cancelled) must
   * still settle one after the other, the second seeing the first's status: later ones run alone after.
   */
  private async finishMany(batch: FinishRows[]): Promise<boolean[]> {
    const ids = new Set<string>();
    const first = batch.filter((w) => !ids.has(w.response.id) && ids.add(w.response.id));
    const finishing = first.map((w) => ({ id: w.response.id, status: w.response.status, body: w.body, if_status: w.ifStatus }));
    const items = first.flatMap((w) => w.items);
    const outboxes = first.flatMap((w) => (w.outbox ? [w.outbox] : []));
    const rows = await this.database.prepared<{ id: string }>(FINISH_MANY, [JSON.stringify(finishing), JSON.stringify(items), JSON.stringify(outboxes)]);
    const updated = new Set(rows.map((r) => r.id));
    const results: boolean[] = [];
    for (const w of batch) results.push(first.includes(w) ? updated.has(w.response.id) : await this.finishOne(w));
    return results;
  }
}

const writers = new WeakMap<Database, PostgresWrites>();

/** The Postgres writes of a database that has named prepared statements (undefined for one that has not). */
export function postgresWrites(database: Database): PostgresWrites | undefined {
  if (!database.prepared) return undefined;
  let writes = writers.get(database);
  if (!writes) writers.set(database, (writes = new PostgresWrites(database as Database & Required<Pick<Database, 'prepared'>>)));
  return writes;
}
