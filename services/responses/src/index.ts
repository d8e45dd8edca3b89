export { createResponsesService } from './responses-service.js';
export { responsesRouteDocs } from './http/responses-routes.js';
