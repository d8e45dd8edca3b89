import { runService } from '@rgw/shared';
import { createConversationsService } from './conversations-service.js';

await runService('conversations', createConversationsService);
