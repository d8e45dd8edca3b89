import type { ObjectStore, ObjectStoreConfig } from './object-store.js';

// TODO(issue 10 object-store helper): the S3 adapter.
export class S3ObjectStore implements ObjectStore {
  readonly kind = 's3' as const;
  constructor(readonly config: Extract<ObjectStoreConfig, { kind: 's3' }>) {}
  private todo(): never {
    throw new Error('S3 object store: not implemented yet');
  }
  async ensureReady() { this.todo(); }
  async ping() { this.todo(); }
  async put(): Promise<{ bytes: number }> { this.todo(); }
  async get(): Promise<never> { this.todo(); }
  async head(): Promise<undefined> { this.todo(); }
  async delete() { this.todo(); }
  async *list(): AsyncIterable<string> { this.todo(); }
  async createMultipart(): Promise<{ uploadId: string }> { this.todo(); }
  async putPart(): Promise<never> { this.todo(); }
  async completeMultipart(): Promise<never> { this.todo(); }
  async abortMultipart() { this.todo(); }
  async close() {}
}
