import { FilesClient, migrate, routerFor, type Platform, type ServiceInstance } from '@rgw/shared';
import { defineIngestTopics } from './ingest-topics.js';
import { SearchManager } from './search-manager.js';
import { acquireVectorIndex } from './vector-index-factory.js';
import { VectorIoManager } from './vector-io-manager.js';
import { vectorIoRoutes } from './vector-io-routes.js';
import { VectorStoreFileStore } from './vector-store-file-store.js';
import { VectorStoreManager, type FileLookup } from './vector-store-manager.js';
import { VECTOR_STORE_MIGRATIONS } from './vector-store-migrations.js';
import { vectorStoreRoutes } from './vector-store-routes.js';
import { VectorStoreStore } from './vector-store-store.js';

export interface VectorStoresServiceOptions {
  /** Replaces the Files API client (tests). */
  fileApi?: FileLookup;
}

/** The vector-stores service: /v1/vector_stores (OpenAI) and /v1/vector-io (Llama Stack); ingestion is the worker's. */
export async function createVectorStoresService(platform: Platform, opts: VectorStoresServiceOptions = {}): Promise<ServiceInstance> {
  await migrate(platform.database, 'vector-stores', VECTOR_STORE_MIGRATIONS);
  defineIngestTopics(platform.queue);
  const lease = await acquireVectorIndex(platform);
  const stores = new VectorStoreStore(platform.database);
  const checkModel = async (model: string) => {
    await platform.catalog.resolve(model);
  };
  const manager = new VectorStoreManager({
    stores,
    files: new VectorStoreFileStore(platform.database),
    index: lease.index,
    queue: platform.queue,
    fileApi: opts.fileApi ?? new FilesClient({ baseUrl: platform.gatewayUrl, internalToken: () => platform.config.internalToken }),
    defaultEmbeddingModel: platform.config.embeddingModel,
    checkModel,
    log: platform.logger.child({ component: 'vector-stores' }),
  });
  const search = new SearchManager({ manager, stores, index: lease.index, inference: platform.inference });
  const vectorIo = new VectorIoManager({ manager, stores, index: lease.index, inference: platform.inference });
  const descriptors = [...vectorStoreRoutes(manager, search), ...vectorIoRoutes(vectorIo)];
  return {
    name: 'vector-stores',
    routes: routerFor(descriptors, platform.config),
    descriptors,
    close: () => lease.release(),
  };
}
