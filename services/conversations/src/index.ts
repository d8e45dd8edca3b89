export { createConversationsService } from './conversations-service.js';
export { conversationRouteDocs } from './conversation-routes.js';
