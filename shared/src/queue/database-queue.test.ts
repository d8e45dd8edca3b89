import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrations.js';
import { createLogger } from '../logging.js';
import { QUEUE_MIGRATIONS } from './database-queue-store.js';
import { DatabaseQueue } from './database-queue.js';
import { waitFor } from './queue-test-support.js';

const log = createLogger('queue-test', 'silent');
let database: Database | undefined;
afterEach(async () => database?.close());

describe('DatabaseQueue upgrade of an existing database', () => {
  it('turns jobs that had given up into dead letters and takes over jobs left running by the old version', async () => {
    database = openDatabase({ dataDir: mkdtempSync(join(tmpdir(), 'q-upgrade-')) });
    // The database as the version before leases left it: only 001, and every job state it knew.
    await migrate(database, 'queue', { '001_jobs': QUEUE_MIGRATIONS['001_jobs']! });
    const row = (topic: string, state: string, attempts: number) => ({ topic, payload: JSON.stringify({ state }), state, attempts, available_at: Date.now() });
    await database.db.insertInto('queue_jobs').values([row('old', 'failed', 3), row('old', 'running', 0), row('old', 'ready', 1)]).execute();

    const q = await DatabaseQueue.open(database, log, { pollMs: 50 });
    const dead = await q.deadLetters('old');
    expect(dead).toEqual([expect.objectContaining({ topic: 'old', payload: { state: 'failed' }, attempts: 3 })]);
    const seen: { payload: unknown; attempt: number }[] = [];
    await q.consume('old', async (payload, job) => void seen.push({ payload, attempt: job.attempt }), { concurrency: 1 });
    expect(await waitFor(() => seen.length === 2)).toBe(true);
    expect(seen).toEqual([
      { payload: { state: 'running' }, attempt: 1 },
      { payload: { state: 'ready' }, attempt: 2 },
    ]);
    await q.close();
  });
});
