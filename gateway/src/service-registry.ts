import type { ServiceFactory, ServiceName, ServiceSpec } from '@rgw/shared';

// Each service's code loads when the gateway runs it (mounted or in-process), so a distributed
// gateway, which proxies them all, loads none of it.

/**
 * The factory of each service of the manifest, for running it in the gateway's process (mounted api
 * services, in-process workers). Keyed by the manifest's names, so a service missing here (or one
 * the manifest does not know) is a type error; `checkFactories` repeats the check at start.
 */
export const SERVICE_FACTORIES: Record<ServiceName, ServiceFactory> = {
  responses: async (platform, options) => (await import('@rgw/responses')).createResponsesService(platform, options),
  conversations: async (platform) => (await import('@rgw/conversations')).createConversationsService(platform),
  prompts: async (platform) => (await import('@rgw/prompts')).createPromptsService(platform),
  files: async (platform, options) => (await import('@rgw/files')).createFilesService(platform, options),
  'vector-stores': async (platform, options) => (await import('@rgw/vector-stores')).createVectorStoresService(platform, options),
  'ingest-worker': async (platform, options) => (await import('@rgw/vector-stores')).createIngestWorker(platform, options),
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
