import { FilesClient, instrumentIngest, migrate, type Platform, type ServiceInstance } from '@rgw/shared';
import { ChunkThreads } from './ingest/index.js';
import { IngestProcessor, type FileSource } from './ingest-processor.js';
import { FILE_DELETED_TOPIC, INGEST_MAX_ATTEMPTS, INGEST_TOPIC, defineIngestTopics, type FileDeletedEvent, type IngestJob } from './ingest-topics.js';
import { acquireVectorIndex } from './vector-index-factory.js';
import { VECTOR_STORE_MIGRATIONS } from './vector-store-migrations.js';
import { VectorStoreFileStore } from './vector-store-file-store.js';
import { VectorStoreStore } from './vector-store-store.js';

export interface IngestWorkerOptions {
  /** Replaces the Files API client (tests). */
  fileSource?: FileSource;
  /** Jobs of this process running at once (default INGEST_CONCURRENCY or 2). */
  concurrency?: number;
}

/**
 * The ingest worker (role `worker`): consumes ingest jobs and `file.deleted` events. In-process in
 * the embedded mode (database queue), its own process (`src/worker-main.ts`, RabbitMQ) when
 * distributed, scaled on its own. It shares the vector-stores tables and index with the API.
 */
export async function createIngestWorker(platform: Platform, opts: IngestWorkerOptions = {}): Promise<ServiceInstance> {
  const log = platform.logger.child({ component: 'ingest-worker' });
  await migrate(platform.database, 'vector-stores', VECTOR_STORE_MIGRATIONS);
  defineIngestTopics(platform.queue);
  let lease: Awaited<ReturnType<typeof acquireVectorIndex>> | undefined;
  // Tokenizing on its own thread(s), beside the main thread's JSON, upserts and queue (INGEST_CHUNK_THREADS).
  // They start with the first file, not with the process: a thread holds the o200k tables (about
  // 60 MB, half a second of CPU to load), which a gateway that never ingests should not pay for.
  const chunker = new ChunkThreads(undefined, (err) => log.warn({ err: err.message }, 'no chunker thread: files are chunked on the main thread'));
  return {
    name: 'ingest-worker',
    start: async () => {
      lease = await acquireVectorIndex(platform);
      const processor = new IngestProcessor(instrumentIngest({
        stores: new VectorStoreStore(platform.database),
        files: new VectorStoreFileStore(platform.database),
        index: lease.index,
        fileSource: opts.fileSource ?? new FilesClient({ baseUrl: platform.gatewayUrl, internalToken: () => platform.config.internalToken }),
        inference: platform.inference,
        log,
        chunker,
      }));
      const concurrency = opts.concurrency ?? (Number(process.env.INGEST_CONCURRENCY) || 2);
      await platform.queue.consume<IngestJob>(INGEST_TOPIC, (job, ctx) =>
          // Fields read one by one: the job context is a class whose `signal` is a getter (a spread would drop it).
          processor.run(job, { attempt: ctx.attempt, signal: ctx.signal, heartbeat: () => ctx.heartbeat(), maxAttempts: INGEST_MAX_ATTEMPTS }), { concurrency });
      await platform.queue.consume<FileDeletedEvent>(FILE_DELETED_TOPIC, (event) => processor.onFileDeleted(event));
      log.info({ index: lease.index.kind, concurrency }, 'ingest worker consuming');
    },
    close: async () => {
      await chunker.close();
      await lease?.release();
    },
  };
}
