import type { Platform, ServiceInstance } from '@rgw/shared';

// TODO(issue 11 vector-stores helper): consumes ingest jobs and file.deleted events.
export async function createIngestWorker(_platform: Platform): Promise<ServiceInstance> {
  return { name: 'ingest-worker' };
}
