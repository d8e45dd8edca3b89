import { Migrator, type Migration } from 'kysely';
import type { Database, DialectName } from './database.js';

/** A migration that may differ by engine in the few places where SQL does (auto-increment keys). */
export type PortableMigration = (dialect: DialectName) => Migration;

/**
 * Runs a scope's migrations (one scope per service) in name order. Each scope keeps its own
 * bookkeeping tables, so services sharing one database migrate independently.
 */
export async function migrate(database: Database, scope: string, migrations: Record<string, PortableMigration>): Promise<string[]> {
  const resolved: Record<string, Migration> = {};
  for (const [name, m] of Object.entries(migrations)) resolved[name] = m(database.dialect);
  const migrator = new Migrator({
    db: database.db,
    provider: { getMigrations: async () => resolved },
    migrationTableName: `${scope}_migrations`,
    migrationLockTableName: `${scope}_migrations_lock`,
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) throw new Error(`migrations of '${scope}' failed: ${(error as Error).message ?? String(error)}`);
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}
