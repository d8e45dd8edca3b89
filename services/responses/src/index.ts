export { createResponsesService } from './responses-service.js';
