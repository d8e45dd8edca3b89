export { createConversationsService } from './conversations-service.js';
