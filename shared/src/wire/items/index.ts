export * from './item-parts.js';
export * from './item-schema.js';
export * from './item-normalize.js';
export * from './item-include.js';
