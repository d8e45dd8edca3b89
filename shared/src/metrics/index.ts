export * from './registry.js';
export * from './http-metrics.js';
export * from './model-metrics.js';
export * from './queue-metrics.js';
export * from './ingest-metrics.js';
export * from './db-metrics.js';
export * from './queue-depth.js';
