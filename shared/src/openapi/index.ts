export * from './documentation-only.js';
export * from './error-envelope.js';
export * from './json-schema.js';
export * from './openapi-document.js';
export * from './stream-events.js';
export * from './spec-comparison.js';
export * from './openai-deviations.js';
