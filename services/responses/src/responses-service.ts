import { ConversationsClient, PromptsClient, VectorStoresClient, routerFor, type Platform, type ServiceInstance } from '@rgw/shared';
import { BackgroundRunner } from './background/background-runner.js';
import { RunNotifier } from './background/run-notifier.js';
import { ConversationSource } from './context/conversation-source.js';
import { ConversationOutbox } from './durability/conversation-outbox.js';
import { LeaseKeeper, leaseSettings, type LeaseSettings } from './durability/lease-keeper.js';
import { RunReaper } from './durability/run-reaper.js';
import { OutboxStore } from './store/outbox-store.js';
import { PromptSource } from './context/prompt-source.js';
import { responsesRoutes } from './http/responses-routes.js';
import { ResponsesManager } from './responses-manager.js';
import { ResponseStore } from './store/response-store.js';
import { FilesApiReader, pdfText } from './input-files/files-reader.js';
import { InputFileResolver } from './input-files/input-file-resolver.js';
import { FileSearchTool } from './tools/file-search/file-search-tool.js';
import { ToolRegistry, type ServerTool } from './tools/tool-registry.js';
import { UsageReporter } from './usage/usage-reporter.js';

export interface ResponsesServiceOptions {
  /** Server-side tools the model may call; by default file_search (over the Vector Stores API). */
  serverTools?: ServerTool[];
  /** Tool-loop iterations per response before it ends `incomplete` (default 10). */
  maxIterations?: number;
  /** Lease and sweep timings (default: from RESPONSE_LEASE_MS / RESPONSE_SWEEP_MS). */
  leases?: LeaseSettings;
}

/** The responses service: routes under /v1/responses, and the background worker. */
export async function createResponsesService(platform: Platform, opts: ResponsesServiceOptions = {}): Promise<ServiceInstance> {
  const log = platform.logger.child({ component: 'responses' });
  const store = new ResponseStore(platform.database);
  await store.migrate();
  // The Conversations, Prompts, Vector Stores and Files services are reached over public HTTP, through the gateway, as any client would.
  const transport = { baseUrl: platform.gatewayUrl, internalToken: () => platform.config.internalToken };
  const registry = new ToolRegistry(opts.serverTools ?? [new FileSearchTool(new VectorStoresClient(transport))]);
  const engine = { inference: platform.inference, log, maxIterations: opts.maxIterations };
  const conversationsApi = new ConversationsClient(transport);
  // Durability: leases on running responses, the reaper of dead runs, the conversation append outbox.
  const notifier = new RunNotifier();
  const keeper = new LeaseKeeper(store, log, opts.leases ?? leaseSettings());
  const reaper = new RunReaper(store, notifier, keeper, log);
  const outbox = new ConversationOutbox(new OutboxStore(platform.database), conversationsApi, log);
  const conversations = new ConversationSource(conversationsApi, outbox);
  const prompts = new PromptSource(new PromptsClient(transport));
  const inputFiles = new InputFileResolver({ files: new FilesApiReader(transport), extractPdf: pdfText });
  const prepare = { store, catalog: platform.catalog, registry, conversations, prompts, inputFiles };
  // Every finished response's usage goes to the gateway over the queue (fire-and-forget).
  const usage = new UsageReporter(platform.queue, log);
  const runner = new BackgroundRunner({ store, queue: platform.queue, notifier, engine, prepare, log, keeper, reaper, outbox, usage });
  const foreground = { store, keeper, outbox, log };
  const manager = new ResponsesManager({ store, runner, engine, prepare, inference: platform.inference, foreground, usage, log });
  const descriptors = responsesRoutes(manager);
  return {
    name: 'responses',
    routes: routerFor(descriptors, platform.config),
    descriptors,
    start: async () => {
      keeper.start();
      reaper.start();
      outbox.start();
      await runner.start();
    },
    close: async () => {
      reaper.stop();
      outbox.stop();
      await runner.close();
      // Usage still gathering goes out now, not with a timer of a closing process.
      usage.flush();
      // Leases keep being renewed until the runs stopped above have written their ends.
      setTimeout(() => keeper.stop(), 5_000).unref();
    },
  };
}
