import { migrate, routerFor, type Platform, type ServiceInstance } from '@rgw/shared';
import { PromptManager } from './prompt-manager.js';
import { PROMPT_MIGRATIONS } from './prompt-migrations.js';
import { promptRoutes } from './prompt-routes.js';
import { PromptStore } from './prompt-store.js';

/** The prompts service: routes under /v1/prompts (Llama Stack-compatible), state in the platform database. */
export async function createPromptsService(platform: Platform): Promise<ServiceInstance> {
  await migrate(platform.database, 'prompts', PROMPT_MIGRATIONS);
  const manager = new PromptManager(new PromptStore(platform.database));
  const descriptors = promptRoutes(manager);
  return { name: 'prompts', routes: routerFor(descriptors, platform.config), descriptors };
}
