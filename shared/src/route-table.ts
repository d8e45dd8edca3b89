/**
 * Which path prefix belongs to which service. Read by the gateway in both run modes: embedded mounts
 * the service's app under the prefix, distributed proxies the prefix to the service's URL.
 */
export const SERVICE_NAMES = ['responses', 'conversations', 'prompts'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

export interface ServiceRoute {
  prefix: string;
  service: ServiceName;
}

export const SERVICE_ROUTES: readonly ServiceRoute[] = [
  { prefix: '/v1/responses', service: 'responses' },
  { prefix: '/v1/conversations', service: 'conversations' },
  { prefix: '/v1/prompts', service: 'prompts' },
];

/** Default port of each service when it runs as its own process. */
export const SERVICE_DEFAULT_PORTS: Record<ServiceName, number> = {
  responses: 8322,
  conversations: 8323,
  prompts: 8324,
};

/** The service that owns a request path (without its query string), or undefined when the gateway serves it itself. */
export function serviceForPath(path: string): ServiceName | undefined {
  for (const route of SERVICE_ROUTES) {
    if (path === route.prefix || path.startsWith(route.prefix + '/')) {
      return route.service;
    }
  }
  return undefined;
}
