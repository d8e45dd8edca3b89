export * from './vector-stores-service.js';
export * from './ingest-worker.js';
export { vectorStoreRouteDocs } from './vector-store-routes.js';
