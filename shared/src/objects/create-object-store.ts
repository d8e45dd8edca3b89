import type { ObjectStore, ObjectStoreConfig } from './object-store.js';
import { DiskObjectStore } from './disk-object-store.js';
import { S3ObjectStore } from './s3-object-store.js';

/** The adapter the configuration names: S3 (S3_ENDPOINT / S3_BUCKET) or local disk under DATA_DIR. */
export function createObjectStore(config: ObjectStoreConfig): ObjectStore {
  return config.kind === 's3' ? new S3ObjectStore(config) : new DiskObjectStore(config.dir);
}
