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
}

/** Postgres when DATABASE_URL is set, else one SQLite file in DATA_DIR shared by every in-process service. */
export function openDatabase(config: Pick<Config, 'databaseUrl' | 'dataDir'>, poolSize = 10): Database {
  if (config.databaseUrl) {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: poolSize });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    pool.on('error', () => {});
    watchPool(pool);
    return wrap(new Kysely<any>({ dialect: new PostgresDialect({ pool }) }), 'postgres');
  }
  mkdirSync(config.dataDir, { recursive: true });
  const file = new SqliteDatabase(join(config.dataDir, 'gateway.sqlite'));
  file.pragma('journal_mode = WAL');
  file.pragma('synchronous = NORMAL');
  file.pragma('busy_timeout = 5000');
  file.pragma('foreign_keys = ON');
  return wrap(new Kysely<any>({ dialect: new SqliteDialect({ database: file }) }), 'sqlite');
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
