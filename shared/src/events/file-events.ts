import { z } from 'zod';
import type { TopicQueue } from '../queue/queue.js';

/**
 * Published by the files service once a file is gone (deleted through the API, or expired and swept):
 * its bytes and row are deleted, so whatever referenced it (vector stores) drops it too.
 */
export const FILE_DELETED_TOPIC = 'file.deleted';

export const fileDeletedEventSchema = z.object({
  file_id: z.string().min(1),
  project_id: z.string().min(1),
  /** Unix seconds. */
  deleted_at: z.number().int(),
});

export type FileDeletedEvent = z.infer<typeof fileDeletedEventSchema>;

/** Registers the file topics on a queue (publisher and consumers alike call it before use). */
export function defineFileEventTopics(queue: Pick<TopicQueue, 'defineTopic'>): void {
  // Publisher and consumer may share one queue (embedded): both register the same options.
  queue.defineTopic(FILE_DELETED_TOPIC, { schema: fileDeletedEventSchema, maxAttempts: 5, concurrency: 4 });
}
