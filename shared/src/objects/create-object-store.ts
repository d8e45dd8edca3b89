import type { ObjectStore, ObjectStoreConfig } from './object-store.js';
import { DiskObjectStore } from './disk-object-store.js';

/** The adapter the configuration names: S3 (S3_ENDPOINT / S3_BUCKET) or local disk under DATA_DIR. */
export async function createObjectStore(config: ObjectStoreConfig): Promise<ObjectStore> {
  if (config.kind !== 's3') return new DiskObjectStore(config.dir);
  // The AWS SDK (a megabyte of code) loads only where S3 is configured, not with every process.
  const { S3ObjectStore } = await import('./s3-object-store.js');
  return new S3ObjectStore(config);
}
