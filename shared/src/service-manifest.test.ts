import { describe, expect, it } from 'vitest';
import { checkManifest, placeServices, SERVICE_MANIFEST, serviceEntry, serviceUrlVariable, type ServiceSpec } from './service-manifest.js';
import { routesOf, serviceForPath } from './route-table.js';

// A manifest with a worker, which the real one does not have yet: the machinery must handle it.
const DUMMY: ServiceSpec[] = [
  { name: 'echo', role: 'api', routes: ['/v1/echo'], defaultPort: 9101, uses: ['database'], dir: 'services/echo' },
  { name: 'ingest-worker', role: 'worker', routes: [], defaultPort: 9102, uses: ['database', 'queue'], dir: 'services/ingest-worker' },
];

describe('the service manifest', () => {
  it('is consistent: unique names, ports and prefixes, routes only on api services', () => {
    expect(() => checkManifest(SERVICE_MANIFEST)).not.toThrow();
    expect(() => checkManifest(DUMMY)).not.toThrow();
  });

  it.each([
    ['a name twice', [DUMMY[0]!, { ...DUMMY[0]!, defaultPort: 9200, routes: ['/v1/other'] }], /name echo/],
    ['a port twice', [DUMMY[0]!, { ...DUMMY[1]!, defaultPort: 9101 }], /port 9101/],
    ['the gateway port', [{ ...DUMMY[0]!, defaultPort: 8321 }], /port 8321.*gateway/],
    ['overlapping prefixes', [DUMMY[0]!, { ...DUMMY[0]!, name: 'echo2', defaultPort: 9200, routes: ['/v1/echo/sub'] }], /overlaps/],
    ['a worker with routes', [{ ...DUMMY[1]!, routes: ['/v1/ingest'] }], /worker 'ingest-worker' cannot own routes/],
    ['an api service without routes', [{ ...DUMMY[0]!, routes: [] }], /owns no route/],
  ] as const)('refuses %s', (_what, manifest, message) => {
    expect(() => checkManifest(manifest as readonly ServiceSpec[])).toThrow(message);
  });

  it('derives entry points, URL variables and routes', () => {
    expect(serviceEntry(DUMMY[1]!)).toBe('services/ingest-worker/src/main.ts');
    expect(serviceUrlVariable('ingest-worker')).toBe('INGEST_WORKER_SERVICE_URL');
    expect(serviceForPath('/v1/echo/1', routesOf(DUMMY))).toBe('echo');
    expect(serviceForPath('/v1/responses', routesOf(DUMMY))).toBeUndefined();
  });
});

describe('placeServices', () => {
  it('mounts api services without a URL, proxies those with one, runs workers in-process by default', () => {
    const placed = placeServices(DUMMY, { serviceUrls: {}, workers: 'in-process' });
    expect(placed.map((p) => [p.spec.name, p.placement])).toEqual([['echo', 'mounted'], ['ingest-worker', 'in-process']]);
  });

  it('leaves workers to their own processes with WORKERS=external', () => {
    const placed = placeServices(DUMMY, { serviceUrls: { echo: 'http://e:1' }, workers: 'external' });
    expect(placed.map((p) => [p.spec.name, p.placement, p.url])).toEqual([['echo', 'proxied', 'http://e:1'], ['ingest-worker', 'external', undefined]]);
  });

  it('refuses a URL for a worker (nothing to proxy) and for a service the manifest does not list', () => {
    expect(() => placeServices(DUMMY, { serviceUrls: { 'ingest-worker': 'http://w:1' }, workers: 'in-process' })).toThrow(/INGEST_WORKER_SERVICE_URL.*worker.*WORKERS=external/);
    expect(() => placeServices(DUMMY, { serviceUrls: { files: 'http://f:1' }, workers: 'in-process' })).toThrow(/'files'/);
  });
});
