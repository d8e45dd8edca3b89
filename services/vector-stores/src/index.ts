export * from './vector-stores-service.js';
export * from './ingest-worker.js';
