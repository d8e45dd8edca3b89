import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DatabaseQueue, createLogger, migrate, openDatabase, type Database, type Platform, type ServiceInstance } from '@rgw/shared';
import { waitFor } from '../../../test/support/wait.js';
import { FakeFiles, wordVector } from './index-testing/fixture.js';
import { createIngestWorker } from './ingest-worker.js';
import { FILE_DELETED_TOPIC, INGEST_TOPIC, defineIngestTopics, type IngestJob } from './ingest-topics.js';
import { VectorStoreFileStore, type FileRecord } from './vector-store-file-store.js';
import { VECTOR_STORE_MIGRATIONS } from './vector-store-migrations.js';
import { VectorStoreStore } from './vector-store-store.js';

// The worker as deployed: on the durable database queue, with the topic's retries and dead letters.

let dir: string;
let database: Database;
let queue: DatabaseQueue;
let worker: ServiceInstance;
const fakeFiles = new FakeFiles();
const STORE = 'vs_worker';

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rgw-vs-worker-'));
  database = openDatabase({ dataDir: dir, databaseUrl: undefined });
  const log = createLogger('test', process.env.TEST_LOG ?? 'silent');
  queue = await DatabaseQueue.open(database, log, { pollMs: 20, shutdownGraceMs: 1000 });
  const inference = { embeddings: async (body: { input?: unknown }) => ({ data: (body.input as string[]).map((t, index) => ({ index, embedding: wordVector(t) })) }) };
  const platform = { config: { dataDir: dir }, logger: log, database, queue, inference, gatewayUrl: () => 'http://127.0.0.1:1' } as unknown as Platform;
  await migrate(database, 'vector-stores', VECTOR_STORE_MIGRATIONS);
  worker = await createIngestWorker(platform, { fileSource: fakeFiles, concurrency: 2 });
  // Retries in milliseconds, not seconds.
  defineIngestTopics(queue, { backoffMs: 10, leaseMs: 5000 });
  await new VectorStoreStore(database).create('proj_a', { id: STORE, name: '', description: null, metadata: {}, created_at: 0, last_active_at: 0, expires_after_days: null, embedding_model: 'bow', embedding_dimension: null });
  await worker.start!();
});

afterAll(async () => {
  await queue.close();
  await worker.close?.();
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

const files = () => new VectorStoreFileStore(database);

async function attach(fileId: string): Promise<IngestJob> {
  const record: FileRecord = { vector_store_id: STORE, file_id: fileId, attach_id: `att-${fileId}`, filename: `${fileId}.txt`, status: 'in_progress', last_error: null, usage_bytes: 0, chunking_strategy: { type: 'static', static: { max_chunk_size_tokens: 800, chunk_overlap_tokens: 400 } }, attributes: {}, batch_id: null, created_at: 0 };
  await files().attach('proj_a', [record]);
  const job = { vector_store_id: STORE, file_id: fileId, attach_id: record.attach_id, project_id: 'proj_a', principal: { projectId: 'proj_a' } };
  await queue.publish(INGEST_TOPIC, job);
  return job;
}

const statusOf = async (fileId: string) => (await files().get('proj_a', STORE, fileId))?.status;

describe('ingest worker on the database queue', () => {
  it('ingests a published job to completed', async () => {
    fakeFiles.add('proj_a', 'file-ok', 'ok.txt', 'hello worker world');
    await attach('file-ok');
    await waitFor(() => statusOf('file-ok'), (s) => s === 'completed');
    expect((await files().get('proj_a', STORE, 'file-ok'))!.usage_bytes).toBe('hello worker world'.length);
  });

  it('a poison file ends failed after the retries, its job in the dead letters', async () => {
    fakeFiles.add('proj_a', 'file-poison', 'poison.txt', 'x', new Error('disk on fire'));
    await attach('file-poison');
    await waitFor(() => statusOf('file-poison'), (s) => s === 'failed');
    expect((await files().get('proj_a', STORE, 'file-poison'))!.last_error).toMatchObject({ code: 'server_error', message: expect.stringContaining('disk on fire') });
    const dead = await waitFor(() => queue.deadLetters(INGEST_TOPIC), (d) => d.length > 0);
    expect(dead[0]).toMatchObject({ attempts: 3, payload: { file_id: 'file-poison' } });
  });

  it('an unsupported file fails at once, without a retry or a dead letter', async () => {
    fakeFiles.add('proj_a', 'file-pic', 'pic.png', 'PNG');
    const calls = fakeFiles.contentCalls;
    await attach('file-pic');
    await waitFor(() => statusOf('file-pic'), (s) => s === 'failed');
    expect((await files().get('proj_a', STORE, 'file-pic'))!.last_error?.code).toBe('unsupported_file');
    expect(fakeFiles.contentCalls - calls).toBe(1);
    expect((await queue.deadLetters(INGEST_TOPIC)).map((d) => (d.payload as IngestJob).file_id)).not.toContain('file-pic');
  });

  it('consumes file.deleted: the file leaves its stores', async () => {
    await queue.publish(FILE_DELETED_TOPIC, { file_id: 'file-ok', project_id: 'proj_a', deleted_at: 1 });
    await waitFor(() => statusOf('file-ok'), (s) => s === undefined);
  });
});
