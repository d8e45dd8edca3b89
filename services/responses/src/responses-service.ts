import { ConversationsClient, PromptsClient, routerFor, type Platform, type ServiceInstance } from '@rgw/shared';
import { BackgroundRunner } from './background/background-runner.js';
import { RunNotifier } from './background/run-notifier.js';
import { ConversationSource } from './context/conversation-source.js';
import { PromptSource } from './context/prompt-source.js';
import { responsesRoutes } from './http/responses-routes.js';
import { ResponsesManager } from './responses-manager.js';
import { ResponseStore } from './store/response-store.js';
import { ToolRegistry, type ServerTool } from './tools/tool-registry.js';

export interface ResponsesServiceOptions {
  /** Server-side tools (file_search, ...) the model may call; none by default. */
  serverTools?: ServerTool[];
  /** Tool-loop iterations per response before it ends `incomplete` (default 10). */
  maxIterations?: number;
}

/** The responses service: routes under /v1/responses, and the background worker. */
export async function createResponsesService(platform: Platform, opts: ResponsesServiceOptions = {}): Promise<ServiceInstance> {
  const log = platform.logger.child({ component: 'responses' });
  const store = new ResponseStore(platform.database);
  await store.migrate();
  const registry = new ToolRegistry(opts.serverTools ?? []);
  const engine = { inference: platform.inference, log, maxIterations: opts.maxIterations };
  // The Conversations and Prompts services are reached over public HTTP, through the gateway, as any client would.
  const conversations = new ConversationSource(new ConversationsClient({ baseUrl: platform.gatewayUrl }), log);
  const prompts = new PromptSource(new PromptsClient({ baseUrl: platform.gatewayUrl }));
  const prepare = { store, catalog: platform.catalog, registry, conversations, prompts };
  const runner = new BackgroundRunner({ store, queue: platform.queue, notifier: new RunNotifier(), engine, prepare, log });
  const manager = new ResponsesManager({ store, runner, engine, prepare, inference: platform.inference, log });
  const descriptors = responsesRoutes(manager);
  return {
    name: 'responses',
    routes: routerFor(descriptors, platform.config),
    descriptors,
    start: () => runner.start(),
    close: () => runner.close(),
  };
}
