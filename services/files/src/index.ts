export * from './files-service.js';
export { fileRouteDocs } from './file-routes.js';
