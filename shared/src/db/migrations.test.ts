import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { available, freshPostgres } from '../../../test/support/backing-services.js';
import { openDatabase, withSeqColumn, type Database } from './database.js';
import { migrate, type PortableMigration } from './migrations.js';

const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const engines: [string, () => Database][] = [['sqlite', () => openDatabase({ dataDir: mkdtempSync(join(tmpdir(), 'mig-')) })]];
if (await available('postgres', 'migrations')) {
  const pg = await freshPostgres();
  cleanups.push(pg.drop);
  engines.push(['postgres', () => openDatabase({ databaseUrl: pg.url, dataDir: '/unused' })]);
}

const migrations: Record<string, PortableMigration> = {
  '001_items': (dialect) => ({
    up: async (db) => {
      await withSeqColumn(db.schema.createTable('things'), dialect).addColumn('name', 'text', (c) => c.notNull()).execute();
    },
  }),
  '002_flag': () => ({
    up: async (db) => {
      await db.schema.alterTable('things').addColumn('flag', 'integer', (c) => c.notNull().defaultTo(0)).execute();
    },
  }),
};

describe.each(engines)('migrations on %s', (_name, open) => {
  it('apply once in order, are idempotent, and keep scopes apart; seq keeps insertion order', async () => {
    const db = open();
    cleanups.push(() => db.close());
    expect(await migrate(db, 'unit', migrations)).toEqual(['001_items', '002_flag']);
    expect(await migrate(db, 'unit', migrations)).toEqual([]);
    // Another scope with the same migration names is tracked separately.
    expect(await migrate(db, 'other', { '001_items': () => ({ up: async () => {} }) })).toEqual(['001_items']);
    await db.db.insertInto('things').values([{ name: 'a' }, { name: 'b' }, { name: 'c' }]).execute();
    const rows = await db.db.selectFrom('things').select(['seq', 'name', 'flag']).orderBy('seq').execute();
    expect(rows.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(typeof rows[0]!.seq).toBe('number');
    expect(rows[0]!.flag).toBe(0);
  });
});

