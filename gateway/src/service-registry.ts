import type { ServiceFactory, ServiceName } from '@rgw/shared';
import { createConversationsService } from '@rgw/conversations';
import { createPromptsService } from '@rgw/prompts';
import { createResponsesService } from '@rgw/responses';

/** The factory of each service, for mounting in-process (embedded mode). */
export const SERVICE_FACTORIES: Record<ServiceName, ServiceFactory> = {
  responses: createResponsesService,
  conversations: createConversationsService,
  prompts: createPromptsService,
};
