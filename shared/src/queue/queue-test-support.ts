import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { available, freshPostgres, TEST_AMQP_URL } from '../../../test/support/backing-services.js';
import { openDatabase, type Database } from '../db/database.js';
import { createLogger } from '../logging.js';
import { AmqpQueue } from './amqp-queue.js';
import { DatabaseQueue } from './database-queue.js';
import type { DeadLetter, TopicQueue } from './queue.js';

/** Test helpers of the queue contract suite (not shipped code: only test files import this). */

const log = createLogger('queue-test', 'silent');
/** Short enough for a suite that runs in seconds; long enough that a loaded machine still closes in time. */
const SHUTDOWN_GRACE_MS = 3000;

export interface Adapter {
  name: string;
  /** A new queue instance on the same backing store as every other instance of this adapter. */
  open: () => Promise<TopicQueue>;
  /** Makes a consumer stop dead mid-job, as a crashed process would (its handler never finishes). */
  kill: (q: TopicQueue) => Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];

/** Closes every queue and store the adapters opened, drops the test database and deletes the test's RabbitMQ queues. */
export async function cleanUp(): Promise<void> {
  for (const c of cleanups.reverse()) await c().catch(() => {});
}

export async function queueAdapters(): Promise<Adapter[]> {
  const adapters: Adapter[] = [];
  const sqliteDir = mkdtempSync(join(tmpdir(), 'q-'));
  // A dead database process simply stops heartbeating: leaving the instance alone is the kill.
  const abandon = async () => {};
  adapters.push({ name: 'database (sqlite)', open: () => openDatabaseQueue(openDatabase({ dataDir: sqliteDir })), kill: abandon });
  if (await available('postgres', 'queue contract')) {
    const pg = await freshPostgres();
    cleanups.push(pg.drop);
    adapters.push({ name: 'database (postgres)', open: () => openDatabaseQueue(openDatabase({ databaseUrl: pg.url, dataDir: sqliteDir })), kill: abandon });
  }
  if (await available('rabbitmq', 'queue contract')) {
    const prefix = `rgwunit_${randomBytes(4).toString('hex')}`;
    const opened: AmqpQueue[] = [];
    cleanups.push(() => deleteQueues(opened.flatMap((q) => q.declaredQueues())));
    adapters.push({
      name: 'amqp',
      open: async () => {
        const q = await AmqpQueue.connect(TEST_AMQP_URL, prefix, log, { shutdownGraceMs: SHUTDOWN_GRACE_MS });
        opened.push(q);
        cleanups.push(() => q.close());
        return q;
      },
      // Its connection drops as with a crashed process; the broker takes back the unacked messages.
      kill: async (q) => (q as unknown as { connection: { close(): Promise<void> } }).connection.close(),
    });
  }
  return adapters;
}

async function openDatabaseQueue(db: Database): Promise<TopicQueue> {
  cleanups.push(() => db.close());
  const q = await DatabaseQueue.open(db, log, { pollMs: 100, shutdownGraceMs: SHUTDOWN_GRACE_MS });
  // Registered after the database, so closed before it.
  cleanups.push(() => q.close());
  return q;
}

async function deleteQueues(names: string[]): Promise<void> {
  const connection = await amqp.connect(TEST_AMQP_URL);
  try {
    for (const name of new Set(names)) {
      const ch = await connection.createChannel();
      await ch.deleteQueue(name).catch(() => {});
      await ch.close().catch(() => {});
    }
  } finally {
    await connection.close();
  }
}

let topics = 0;
/** A topic name of its own per test, as every adapter instance shares one store. */
export const freshTopic = (name: string) => `${name}-${++topics}`;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls until `done()` holds or `ms` passed; returns whether it held. */
export async function waitFor(done: () => boolean, ms = 5000): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!done() && Date.now() < deadline) await sleep(20);
  return done();
}

export function collector() {
  const seen: unknown[] = [];
  return {
    seen,
    handler: async (p: unknown) => void seen.push(p),
    until: async (n: number, ms = 5000) => {
      await waitFor(() => seen.length >= n, ms);
      return seen;
    },
  };
}

/** The dead letters of a topic once there are some (dead-lettering happens just after the last run). */
export async function deadLettersOf(q: TopicQueue, topic: string, ms = 3000): Promise<DeadLetter[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const dead = await q.deadLetters(topic);
    if (dead.length > 0 || Date.now() > deadline) return dead;
    await sleep(50);
  }
}
