import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { available, freshPostgres, TEST_AMQP_URL } from '../../../test/support/backing-services.js';
import { openDatabase, type Database } from '../db/database.js';
import { createLogger } from '../logging.js';
import amqp from 'amqplib';
import { AmqpQueue } from './amqp-queue.js';
import { DatabaseQueue } from './database-queue.js';
import type { Queue } from './queue.js';

const log = createLogger('queue-test', 'silent');
const cleanups: (() => Promise<void>)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

type Opener = () => Promise<Queue>;
const adapters: [string, Opener][] = [];
const sqliteDir = mkdtempSync(join(tmpdir(), 'q-'));
adapters.push(['database (sqlite)', async () => DatabaseQueue.open(track(openDatabase({ dataDir: sqliteDir })), log)]);
if (await available('postgres', 'queue contract')) {
  const pg = await freshPostgres();
  cleanups.push(pg.drop);
  adapters.push(['database (postgres)', async () => DatabaseQueue.open(track(openDatabase({ databaseUrl: pg.url, dataDir: sqliteDir })), log)]);
}
if (await available('rabbitmq', 'queue contract')) {
  const prefix = `rgwunit_${randomBytes(4).toString('hex')}`;
  adapters.push(['amqp', () => AmqpQueue.connect(TEST_AMQP_URL, prefix, log)]);
}

function track(db: Database): Database {
  cleanups.push(() => db.close());
  return db;
}

function collector() {
  const seen: unknown[] = [];
  let wake: (() => void) | undefined;
  return {
    seen,
    handler: async (p: unknown) => {
      seen.push(p);
      wake?.();
    },
    until: async (n: number, ms = 5000) => {
      const deadline = Date.now() + ms;
      while (seen.length < n && Date.now() < deadline) await new Promise<void>((r) => ((wake = r), setTimeout(r, 50)));
      return seen;
    },
  };
}

describe.each(adapters)('Queue contract: %s', (_name, open) => {
  it('delivers each published job once, in order for a single consumer', async () => {
    const q = await open();
    const c = collector();
    await q.consume('t1', c.handler, { concurrency: 1 });
    for (let i = 0; i < 5; i++) await q.publish('t1', { i });
    expect(await c.until(5)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    await q.close();
  });

  it('retries a job whose handler throws, then gives up after the attempt limit', async () => {
    const q = await open();
    let calls = 0;
    const c = collector();
    await q.consume('t2', async (p) => {
      calls++;
      if ((p as { ok: boolean }).ok) return c.handler(p);
      throw new Error('boom');
    }, { concurrency: 1 });
    await q.publish('t2', { ok: false });
    await q.publish('t2', { ok: true });
    await c.until(1);
    const deadline = Date.now() + 8000;
    while (calls < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(4); // three attempts of the failing job, one of the good one
    await new Promise((r) => setTimeout(r, 300));
    expect(calls).toBe(4);
    await q.close();
  });

  it('keeps jobs published while nobody consumes (durability across a restart)', async () => {
    const first = await open();
    await first.publish('t3', { kept: true });
    await first.close();
    const second = await open();
    const c = collector();
    await second.consume('t3', c.handler);
    expect(await c.until(1)).toEqual([{ kept: true }]);
    await second.close();
  });
});


describe.runIf(adapters.some(([name]) => name === 'amqp'))('AmqpQueue specifics', () => {
  const open = adapters.find(([name]) => name === 'amqp')![1] as () => Promise<AmqpQueue>;

  it('drops a message that is not JSON instead of crashing or redelivering it forever', async () => {
    const q = await open();
    const c = collector();
    await q.consume('poison', c.handler, { concurrency: 1 });
    const raw = await amqp.connect(TEST_AMQP_URL);
    const ch = await raw.createChannel();
    ch.sendToQueue((q as unknown as { queueName(t: string): string }).queueName('poison'), Buffer.from('not json'));
    await ch.close();
    await raw.close();
    await q.publish('poison', { fine: true });
    expect(await c.until(1)).toEqual([{ fine: true }]);
    await q.close();
  });

  it('reconnects after losing its connection and keeps consuming', async () => {
    const q = await open();
    const c = collector();
    await q.consume('reconnect', c.handler, { concurrency: 1 });
    await (q as unknown as { connection: { close(): Promise<void> } }).connection.close();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        await q.ping();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    await q.publish('reconnect', { after: 'reconnect' });
    expect(await c.until(1)).toEqual([{ after: 'reconnect' }]);
    await q.close();
  });
});
