import { Router } from 'express';
import type { Platform, ServiceInstance } from '@rgw/shared';

/** The conversations service: routes under /v1/conversations. */
export async function createConversationsService(_platform: Platform): Promise<ServiceInstance> {
  const routes = Router();
  return { name: 'conversations', routes };
}
