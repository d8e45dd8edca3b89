/**
 * THE list of services: everything that differs from one service to the next in how it is routed,
 * started, deployed and health-checked. The route table, the gateway (mount or proxy), the service
 * runner, the process launcher (tests, bench, `npm run start:distributed`) and the deployment checks
 * (docker-compose.yml, Helm) all read it, so adding a service is one entry here plus its package.
 */

/** `api`: serves routes under its prefixes. `worker`: no routes, only background work (queue consumers). */
export type ServiceRole = 'api' | 'worker';

/** The platform parts a process can depend on; /health fails only for the parts its services use. */
export type PlatformPart = 'database' | 'cache' | 'queue' | 'objects';
export const PLATFORM_PARTS: readonly PlatformPart[] = ['database', 'cache', 'queue', 'objects'];

export interface ServiceSpec {
  name: string;
  role: ServiceRole;
  /** Public path prefixes (`/v1/...`) it owns; empty for a worker. */
  routes: readonly string[];
  /** Port when it runs as its own process and PORT is unset (a worker listens too: /health and /livez). */
  defaultPort: number;
  /** Platform parts it needs (the model catalog and inference need the cache). */
  uses: readonly PlatformPart[];
  /** Its npm workspace folder, which holds the package and `src/main.ts`, its own-process entry point. */
  dir: string;
  /** Entry point inside `dir` when it is not `src/main.ts` (a worker sharing its api service's package). */
  entry?: string;
}

export const SERVICE_MANIFEST = [
  { name: 'responses', role: 'api', routes: ['/v1/responses'], defaultPort: 8322, uses: ['database', 'cache', 'queue'], dir: 'services/responses' },
  { name: 'conversations', role: 'api', routes: ['/v1/conversations'], defaultPort: 8323, uses: ['database'], dir: 'services/conversations' },
  { name: 'prompts', role: 'api', routes: ['/v1/prompts'], defaultPort: 8324, uses: ['database'], dir: 'services/prompts' },
  { name: 'files', role: 'api', routes: ['/v1/files', '/v1/uploads'], defaultPort: 8325, uses: ['database', 'queue', 'objects'], dir: 'services/files' },
  {
    name: 'vector-stores',
    role: 'api',
    routes: ['/v1/vector_stores', '/v1/vector-io'],
    defaultPort: 8326,
    uses: ['database', 'queue'],
    dir: 'services/vector-stores',
  },
  // The vector stores' own worker (same package and tables): extracts, chunks and embeds attached files.
  { name: 'ingest-worker', role: 'worker', routes: [], defaultPort: 8327, uses: ['database', 'queue'], dir: 'services/vector-stores', entry: 'src/worker-main.ts' },
] as const satisfies readonly ServiceSpec[];

export type ServiceName = (typeof SERVICE_MANIFEST)[number]['name'];
export const SERVICE_NAMES: readonly ServiceName[] = SERVICE_MANIFEST.map((s) => s.name);

/** What the gateway itself uses besides its mounted services: the model catalog caches provider lists. */
export const GATEWAY_USES: readonly PlatformPart[] = ['cache'];
export const GATEWAY_ENTRY = 'gateway/src/main.ts';
export const GATEWAY_DEFAULT_PORT = 8321;

export function serviceSpec(name: string, manifest: readonly ServiceSpec[] = SERVICE_MANIFEST): ServiceSpec {
  const spec = manifest.find((s) => s.name === name);
  if (!spec) throw new Error(`unknown service '${name}' (the manifest lists: ${manifest.map((s) => s.name).join(', ')})`);
  return spec;
}

/** Refuses a manifest that cannot work: a name, port or prefix twice, a worker with routes, an api service without. */
export function checkManifest(manifest: readonly ServiceSpec[]): void {
  const seen = new Map<string, string>();
  const claim = (key: string, owner: string) => {
    const other = seen.get(key);
    if (other) throw new Error(`service manifest: ${key} is claimed by both '${other}' and '${owner}'`);
    seen.set(key, owner);
  };
  claim(`port ${GATEWAY_DEFAULT_PORT}`, 'gateway');
  for (const spec of manifest) {
    if (!/^[a-z][a-z0-9-]*$/.test(spec.name)) throw new Error(`service manifest: '${spec.name}' is not a lower-case kebab name`);
    claim(`name ${spec.name}`, spec.name);
    claim(`port ${spec.defaultPort}`, spec.name);
    if (spec.role === 'worker' && spec.routes.length) throw new Error(`service manifest: worker '${spec.name}' cannot own routes`);
    if (spec.role === 'api' && !spec.routes.length) throw new Error(`service manifest: api service '${spec.name}' owns no route`);
    for (const prefix of spec.routes) {
      if (!prefix.startsWith('/v1/')) throw new Error(`service manifest: prefix '${prefix}' of '${spec.name}' must start with /v1/`);
      for (const [key, owner] of seen) {
        const other = key.startsWith('prefix ') ? key.slice(7) : undefined;
        if (other && (other === prefix || other.startsWith(prefix + '/') || prefix.startsWith(other + '/'))) {
          throw new Error(`service manifest: prefix '${prefix}' of '${spec.name}' overlaps '${other}' of '${owner}'`);
        }
      }
      claim(`prefix ${prefix}`, spec.name);
    }
  }
}

/** The entry point that runs a service as its own process. */
export function serviceEntry(spec: ServiceSpec): string {
  return `${spec.dir}/${spec.entry ?? 'src/main.ts'}`;
}

/** `<NAME>_SERVICE_URL`: set on the gateway, it proxies the api service there instead of mounting it. */
export function serviceUrlVariable(name: string): string {
  return `${name.toUpperCase().replace(/[^A-Z0-9]/g, '_')}_SERVICE_URL`;
}

/**
 * Where the gateway runs each service: an api service with a URL is `proxied`, one without is
 * `mounted`; a worker runs `in-process` unless workers are `external` (distributed: each worker is
 * its own process, and the gateway must not run a second copy).
 */
export type Placement = 'mounted' | 'proxied' | 'in-process' | 'external';

export interface PlacedService {
  spec: ServiceSpec;
  placement: Placement;
  /** The proxy target of a `proxied` service. */
  url?: string;
}

export function placeServices(
  manifest: readonly ServiceSpec[],
  settings: { serviceUrls: Readonly<Record<string, string | undefined>>; workers: 'in-process' | 'external' },
): PlacedService[] {
  const known = new Set(manifest.map((s) => s.name));
  for (const name of Object.keys(settings.serviceUrls)) {
    if (!known.has(name)) throw new Error(`a URL is configured for '${name}', which is not a service of the manifest`);
  }
  return manifest.map((spec) => {
    const url = settings.serviceUrls[spec.name];
    if (spec.role === 'worker') {
      if (url) throw new Error(`${serviceUrlVariable(spec.name)} is set, but '${spec.name}' is a worker (it has no routes to proxy); set WORKERS=external instead`);
      return { spec, placement: settings.workers === 'external' ? 'external' : 'in-process' };
    }
    return url ? { spec, placement: 'proxied', url } : { spec, placement: 'mounted' };
  });
}
