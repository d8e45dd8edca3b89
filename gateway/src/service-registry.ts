import type { ServiceFactory, ServiceName, ServiceSpec } from '@rgw/shared';
import { createConversationsService } from '@rgw/conversations';
import { createFilesService } from '@rgw/files';
import { createPromptsService } from '@rgw/prompts';
import { createResponsesService } from '@rgw/responses';
import { createIngestWorker, createVectorStoresService } from '@rgw/vector-stores';

/**
 * The factory of each service of the manifest, for running it in the gateway's process (mounted api
 * services, in-process workers). Keyed by the manifest's names, so a service missing here (or one
 * the manifest does not know) is a type error; `checkFactories` repeats the check at start.
 */
export const SERVICE_FACTORIES: Record<ServiceName, ServiceFactory> = {
  responses: createResponsesService,
  conversations: createConversationsService,
  prompts: createPromptsService,
  files: createFilesService,
  'vector-stores': createVectorStoresService,
  'ingest-worker': createIngestWorker,
};

/** Throws when the factories and the manifest do not name the same services. */
export function checkFactories(manifest: readonly ServiceSpec[], factories: Readonly<Record<string, ServiceFactory>>): void {
  const listed = new Set(manifest.map((s) => s.name));
  const missing = [...listed].filter((name) => typeof factories[name] !== 'function');
  const unknown = Object.keys(factories).filter((name) => !listed.has(name));
  if (missing.length || unknown.length) {
    throw new Error(
      'the gateway service registry does not match the service manifest:' +
        (missing.length ? ` no factory for ${missing.join(', ')};` : '') +
        (unknown.length ? ` factories for services the manifest does not list: ${unknown.join(', ')};` : '') +
        ' add the service to both shared/src/service-manifest.ts and gateway/src/service-registry.ts',
    );
  }
}
