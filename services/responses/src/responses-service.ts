import { Router } from 'express';
import type { Platform, ServiceInstance } from '@rgw/shared';

/** The responses service: routes under /v1/responses. */
export async function createResponsesService(_platform: Platform): Promise<ServiceInstance> {
  const routes = Router();
  return { name: 'responses', routes };
}
