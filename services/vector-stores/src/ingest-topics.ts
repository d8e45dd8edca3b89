import { z } from 'zod';
import { defineFileEventTopics, type TopicQueue } from '@rgw/shared';

/** One attached file to extract, chunk, embed and index, on behalf of the project that attached it. */
export const INGEST_TOPIC = 'vector_store.file.ingest';

export const ingestJobSchema = z.object({
  vector_store_id: z.string(),
  file_id: z.string(),
  /** The attachment this job is for: a re-attach or delete makes the job stale. */
  attach_id: z.string(),
  project_id: z.string(),
  /** Who attached it, so the Files API is read as that caller (its project, its key). */
  principal: z.object({ projectId: z.string(), keyId: z.string().optional() }),
  request_id: z.string().optional(),
});
export type IngestJob = z.infer<typeof ingestJobSchema>;

/** Attempts before a file that keeps failing ends `failed` (server_error) and its job is dead-lettered. */
export const INGEST_MAX_ATTEMPTS = 3;

// The Files service publishes it (shared/src/events/file-events.ts); the worker consumes it.
export { FILE_DELETED_TOPIC, type FileDeletedEvent } from '@rgw/shared';

/** Registers both topics on a queue; the API (publisher) and the worker (consumer) both call it. */
export function defineIngestTopics(queue: Pick<TopicQueue, 'defineTopic'>, opts: { backoffMs?: number; leaseMs?: number } = {}): void {
  queue.defineTopic(INGEST_TOPIC, {
    schema: ingestJobSchema,
    maxAttempts: INGEST_MAX_ATTEMPTS,
    backoff: { initialMs: opts.backoffMs ?? 2000, maxMs: 60_000, factor: 3 },
    // Heartbeats keep long files claimed; a dead worker's job is picked up again after this (INGEST_LEASE_MS).
    leaseMs: opts.leaseMs ?? (Number(process.env.INGEST_LEASE_MS) || 60_000),
    concurrency: 2,
  });
  defineFileEventTopics(queue);
}
