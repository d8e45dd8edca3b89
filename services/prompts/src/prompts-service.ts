import { Router } from 'express';
import type { Platform, ServiceInstance } from '@rgw/shared';

/** The prompts service: routes under /v1/prompts. */
export async function createPromptsService(_platform: Platform): Promise<ServiceInstance> {
  const routes = Router();
  return { name: 'prompts', routes };
}
