import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { available, freshPostgres } from '../../../test/support/backing-services.js';
import { openDatabase } from './database.js';

const postgres = await available('postgres', 'relaxed commits');

describe('openDatabase', () => {
  it('has no relaxed handle on SQLite (its commits do not wait for the disk anyway: synchronous NORMAL in WAL)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'db-'));
    const database = openDatabase({ dataDir: dir });
    expect(database.relaxed).toBeUndefined();
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  // Registered only where Postgres answers (no skipped placeholder).
  if (postgres) it('on Postgres, gives a relaxed handle whose commits do not wait for the WAL flush, seen at once by the others', async () => {
    const pg = await freshPostgres('rgw_db');
    const database = openDatabase({ databaseUrl: pg.url, dataDir: '/unused' });
    try {
      const setting = async (db: typeof database.db) => (await sql<{ synchronous_commit: string }>`show synchronous_commit`.execute(db)).rows[0]!.synchronous_commit;
      expect(await setting(database.relaxed!)).toBe('off');
      expect(await setting(database.db)).toBe('on');
      await sql`create table t (v int)`.execute(database.db);
      await sql`insert into t values (1)`.execute(database.relaxed!);
      expect((await sql<{ v: number }>`select v from t`.execute(database.db)).rows).toEqual([{ v: 1 }]);
    } finally {
      await database.close();
      await database.close(); // closing twice is harmless (both pools)
      await pg.drop();
    }
  });
});
