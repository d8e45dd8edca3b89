import { migrate, routerFor, type Platform, type ServiceInstance } from '@rgw/shared';
import { ConversationManager } from './conversation-manager.js';
import { CONVERSATION_MIGRATIONS } from './conversation-migrations.js';
import { conversationRoutes } from './conversation-routes.js';
import { ConversationStore } from './conversation-store.js';

/** The conversations service: routes under /v1/conversations, state in the platform database. */
export async function createConversationsService(platform: Platform): Promise<ServiceInstance> {
  await migrate(platform.database, 'conversations', CONVERSATION_MIGRATIONS);
  const manager = new ConversationManager(new ConversationStore(platform.database));
  const descriptors = conversationRoutes(manager);
  return { name: 'conversations', routes: routerFor(descriptors, platform.config), descriptors };
}
