import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { GATEWAY_ENTRY, SERVICE_MANIFEST, serviceEntry, serviceUrlVariable } from '@rgw/shared';
import { REPO_ROOT } from './launcher.js';

// The deployment files cannot be run here (no Docker engine, no cluster), so this keeps them listing
// exactly the services of the manifest, each with the environment it needs.
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
// Not our processes: the backing services, and Envoy of the extproc profile.
const BACKING = ['postgres', 'redis', 'rabbitmq', 'envoy'];
const names = SERVICE_MANIFEST.map((s) => s.name);

describe('docker-compose.yml', () => {
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, { command: string[]; environment: Record<string, string> }> };
  const apps = Object.keys(compose.services).filter((name) => !BACKING.includes(name));

  it('has the gateway and exactly the services of the manifest', () => {
    expect(apps.sort()).toEqual(['gateway', ...names].sort());
    expect(compose.services.gateway!.command).toContain(GATEWAY_ENTRY);
  });

  it.each(SERVICE_MANIFEST.map((s) => [s.name, s] as const))('runs %s from its entry point, knowing the gateway', (name, spec) => {
    const service = compose.services[name]!;
    expect(service.command).toContain(serviceEntry(spec));
    expect(service.environment.GATEWAY_URL).toBe('http://gateway:8321');
    expect(service.environment.PORT).toBeTruthy();
  });

  it('points the gateway at every api service, and at no worker (WORKERS=external)', () => {
    const env = compose.services.gateway!.environment;
    for (const spec of SERVICE_MANIFEST) {
      if (spec.role === 'api') expect(env[serviceUrlVariable(spec.name)]).toBe(`http://${spec.name}:${compose.services[spec.name]!.environment.PORT}`);
      else expect(env[serviceUrlVariable(spec.name)]).toBeUndefined();
    }
    expect(Object.keys(env).filter((k) => k.endsWith('_SERVICE_URL')).sort()).toEqual(
      SERVICE_MANIFEST.filter((s) => s.role === 'api').map((s) => serviceUrlVariable(s.name)).sort(),
    );
    expect(env.WORKERS).toBe('external');
  });
});

describe('the Helm chart', () => {
  const values = parse(read('deploy/helm/responses-gateway/values.yaml')) as { components: Record<string, { role: string; entry: string; port: number }> };
  const template = read('deploy/helm/responses-gateway/templates/deployments.yaml');

  it('has one component for the gateway and each service of the manifest, with its role and entry point', () => {
    expect(Object.keys(values.components).sort()).toEqual(['gateway', ...names].sort());
    expect(values.components.gateway).toMatchObject({ role: 'gateway', entry: GATEWAY_ENTRY });
    for (const spec of SERVICE_MANIFEST) expect(values.components[spec.name]).toMatchObject({ role: spec.role, entry: serviceEntry(spec) });
  });

  it('gives every component GATEWAY_URL, and the gateway a *_SERVICE_URL per api component and WORKERS=external', () => {
    expect(template).toContain('- { name: GATEWAY_URL, value: "http://{{ $root.Release.Name }}-gateway:8321" }');
    expect(template).toMatch(/if eq \$c\.role "gateway" \}\}\s+- \{ name: WORKERS, value: external \}/);
    expect(template).toMatch(/if eq \$sc\.role "api" \}\}\s+- \{ name: \{\{ upper \$svc \| replace "-" "_" \}\}_SERVICE_URL/);
  });
});

describe('the Dockerfile', () => {
  it('copies the package.json of every service of the manifest before npm ci', () => {
    const dockerfile = read('deploy/docker/Dockerfile');
    const copied = [...dockerfile.matchAll(/^COPY (services\/[^/\s]+)\/package\.json /gm)].map((m) => m[1]);
    expect(copied.sort()).toEqual([...new Set(SERVICE_MANIFEST.map((s) => s.dir))].sort());
  });
});
