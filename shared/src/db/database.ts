import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect, sql, type CreateTableBuilder } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import { watchPool } from '../metrics/db-metrics.js';

// int8 (bigint, bigserial, count(*)) comes back from pg as a string by default; ours fit a double.
pg.types.setTypeParser(20, (v) => Number(v));

export type DialectName = 'sqlite' | 'postgres';

/** A Kysely handle plus what the adapters need to know about the engine under it. */
export interface Database {
  db: Kysely<any>;
  dialect: DialectName;
  ping(): Promise<void>;
  close(): Promise<void>;
  /**
   * SQLite only: runs `fn` synchronously, all or nothing, on prepared statements (the same text is
   * compiled once); the writes of one event-loop turn share one commit (see groupCommit). For the few
   * writes on every request's path: no query building, no round of promises per statement.
   */
  sqliteWrite?<T>(fn: (statement: Statements) => T): Promise<T>;
  /**
   * Postgres only: a handle whose commits do not wait for the WAL to reach the disk
   * (`synchronous_commit = off`), for writes that are provisional by nature: visible to every
   * session at once and kept if this process dies, lost only if the database server itself crashes
   * before its WAL writer flushes them (within 200 ms by default). A later normal commit flushes the
   * WAL up to itself, so what it acknowledges includes them. On a loaded disk a commit's flush is
   * most of a write's time (the `WALWrite`/`WALSync` waits of a profile).
   */
  relaxed?: Kysely<any>;
  /**
   * Postgres only: runs `text` as a named prepared statement (on `relaxed`'s connections when asked
   * and there are some). Each connection parses and plans a text once, then only binds values: for
   * the few statements on every request's path, which Postgres would otherwise parse and plan anew on
   * every call. `text` must come in a bounded number of shapes (each is kept per connection).
   */
  prepared?<R = Record<string, unknown>>(text: string, values: readonly unknown[], opts?: { relaxed?: boolean }): Promise<R[]>;
}

/** Postgres when DATABASE_URL is set, else one SQLite file in DATA_DIR shared by every in-process service. */
export function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, poolSize = 10): Database {
  if (config.databaseUrl) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: poolSize });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    watchPool(pool);
    const relaxedPool = new pg.Pool({ connectionString: config.databaseUrl, max: Math.max(2, Math.ceil(poolSize / 2)), options: '-c synchronous_commit=off' });
    relaxedPool.on('error', () => {});
    const relaxed = new Kysely<any>({ dialect: new PostgresDialect({ pool: relaxedPool }) });
    const database = wrap(new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
    const closeMain = database.close;
    let relaxedClosed = false;
    const names = statementNames();
    return {
      ...database,
      relaxed,
      async prepared<R>(text: string, values: readonly unknown[], opts: { relaxed?: boolean } = {}) {
        const { rows } = await (opts.relaxed ? relaxedPool : pool).query({ name: names(text), text, values: values as unknown[] });
        return rows as R[];
      },
      async close() {
        await closeMain();
        if (relaxedClosed) return;
        relaxedClosed = true;
        await relaxed.destroy();
      },
    };
  }
  mkdirSync(config.dataDir, { recursive: true });
  const file = new SqliteDatabase(join(config.dataDir, 'gateway.sqlite'));
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = NORMAL');
  file.pragma('busy_timeout = 5000');
  file.pragma('foreign_keys = ON');
  const statements = reusingStatements(file);
  const db = new Kysely<any>({ dialect: new SqliteDialect({ database: statements }) });
  return { ...wrap(db, 'sqlite'), sqliteWrite: groupCommit(file, db, statements.prepare) };
}

/** A prepared statement's name per text: a digest, so one text always has one name on every connection. */
function statementNames(max = 200): (text: string) => string {
  const names = new Map<string, string>();
  return (text) => {
    let name = names.get(text);
    if (!name) {
      name = `rgw_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`;
      if (names.size >= max) names.delete(names.keys().next().value!);
      names.set(text, name);
    }
    return name;
  };
}

type Statements = (text: string) => SqliteDatabase.Statement;
interface PendingWrite {
  fn: (statement: Statements) => unknown;
  resolve(value: unknown): void;
  reject(err: unknown): void;
}

/**
 * sqliteWrite: the writes asked for in one turn of the event loop share one transaction, each in a
 * savepoint of its own (one that throws is undone alone, and its caller gets the error). A commit
 * writes every page it touched to the WAL: concurrent responses touching the same table and index
 * pages pay for them once instead of once each. Each caller's promise settles after the commit.
 */
function groupCommit(file: SqliteDatabase.Database, db: Kysely<any>, statements: Statements) {
  let pending: PendingWrite[] = [];
  const commit = (batch: PendingWrite[]) => {
    const results: { ok: boolean; value: unknown }[] = [];
    file.transaction(() => {
      for (const w of batch) {
        try {
          results.push({ ok: true, value: file.transaction(() => w.fn(statements))() });
        } catch (err) {
          results.push({ ok: false, value: err });
        }
      }
    })();
    return results;
  };
  const flush = async () => {
    const batch = pending;
    pending = [];
    try {
      // Kysely's single connection is held meanwhile, so the batch never lands inside a Kysely transaction.
      const results = await db.connection().execute(async () => commit(batch));
      results.forEach((r, i) => (r.ok ? batch[i]!.resolve(r.value) : batch[i]!.reject(r.value)));
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  };
  return <T>(fn: (statement: Statements) => T): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (pending.length === 0) setImmediate(() => void flush());
      pending.push({ fn, resolve: resolve as (v: unknown) => void, reject });
    });
}

/**
 * Kysely's SQLite driver calls prepare() for every query, and better-sqlite3 compiles the SQL anew
 * each time: an eighth of a stored response's CPU in a profile. Queries come in few shapes, so the
 * compiled statement of each SQL text is kept (bounded, oldest out first). Safe because the driver
 * runs one query at a time on its single connection (a mutex), and SQLite recompiles a kept
 * statement by itself after a schema change.
 */
function reusingStatements(file: SqliteDatabase.Database, max = 500) {
  const statements = new Map<string, SqliteDatabase.Statement>();
  return {
    close: () => file.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (!statement) {
        statement = file.prepare(text);
        if (statements.size >= max) statements.delete(statements.keys().next().value!);
        statements.set(text, statement);
      }
      return statement;
    },
  };
}

function wrap(db: Kysely<any>, dialect: DialectName): Database {
  let closed = false;
  return {
    db,
    dialect,
    async ping() {
      await sql`select 1`.execute(db);
    },
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}

/** Adds an auto-incrementing integer primary key `seq`, the portable way to keep insertion order. */
export function withSeqColumn<T extends CreateTableBuilder<any, any>>(table: T, dialect: DialectName): T {
  return (dialect === 'postgres'
    ? table.addColumn('seq', 'bigserial', (c) => c.primaryKey())
    : table.addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())) as T;
}
