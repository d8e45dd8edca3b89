import { SERVICE_MANIFEST, SERVICE_NAMES, type ServiceName, type ServiceSpec } from './service-manifest.js';

/**
 * Which path prefix belongs to which service, derived from the manifest. Read by the gateway in both
 * run modes: embedded mounts the service's app under the prefix, distributed proxies the prefix.
 */
export { SERVICE_NAMES, type ServiceName };

export interface ServiceRoute {
  prefix: string;
  service: ServiceName;
}

export const SERVICE_ROUTES: readonly ServiceRoute[] = SERVICE_MANIFEST.flatMap((s) => s.routes.map((prefix) => ({ prefix, service: s.name })));

/** Default port of each service when it runs as its own process. */
export const SERVICE_DEFAULT_PORTS = Object.fromEntries(SERVICE_MANIFEST.map((s) => [s.name, s.defaultPort])) as Record<ServiceName, number>;

/** The routes of any manifest (a test's dummy one included). */
export function routesOf(manifest: readonly ServiceSpec[]): { prefix: string; service: string }[] {
  return manifest.flatMap((s) => s.routes.map((prefix) => ({ prefix, service: s.name })));
}

/** The service that owns a request path (without its query string), or undefined when the gateway serves it itself. */
export function serviceForPath(path: string, routes: readonly { prefix: string; service: string }[] = SERVICE_ROUTES): string | undefined {
  for (const route of routes) {
    if (path === route.prefix || path.startsWith(route.prefix + '/')) {
      return route.service;
    }
  }
  return undefined;
}
