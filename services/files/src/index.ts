export * from './files-service.js';
