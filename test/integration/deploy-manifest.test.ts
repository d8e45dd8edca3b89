import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { beforeAll, describe, expect, it } from 'vitest';
import { PLATFORM_PARTS, SERVICE_MANIFEST, serviceUrlVariable, type PlatformPart } from '@rgw/shared';
import { REPO_ROOT } from '../support/process-harness.js';
import { CHART_VALUES, renderChart, type K8sObject } from './deploy-support.js';

// The deployment files cannot run here (no Docker engine, no cluster), so this keeps them listing
// exactly the services of the manifest, each with the settings it needs to run distributed.
const read = (path: string) => readFileSync(join(REPO_ROOT, path), 'utf8');
const BACKING = ['postgres', 'redis', 'rabbitmq', 'minio', 'qdrant', 'envoy'];
const names = SERVICE_MANIFEST.map((s) => s.name);
const apiServices = SERVICE_MANIFEST.filter((s) => s.role === 'api');

/** The setting that points a process at each platform part (unset, it falls back to an embedded adapter). */
const PART_ENV: Record<PlatformPart, string> = { database: 'DATABASE_URL', cache: 'REDIS_URL', queue: 'AMQP_URL', objects: 'S3_BUCKET' };
/**
 * What every process needs distributed: every platform part (each process opens them all, not only
 * those it `uses`), the vector store, the internal token, the gateway's URL and its port.
 */
const NEEDED = [...PLATFORM_PARTS.map((p) => PART_ENV[p]), 'QDRANT_URL', 'INTERNAL_TOKEN', 'GATEWAY_URL', 'PORT'];

describe('docker-compose.yml', { timeout: 120_000 }, () => {
  type ComposeService = { command?: string[]; environment: Record<string, string>; image?: string; build?: unknown };
  const compose = parse(read('docker-compose.yml'), { merge: true }) as { services: Record<string, ComposeService> };
  const apps = Object.keys(compose.services).filter((name) => !BACKING.includes(name));

  it('has the gateway and exactly the services of the manifest, each started by its role', () => {
    expect(apps.sort()).toEqual(['gateway', ...names].sort());
    for (const name of apps) expect(compose.services[name]!.command).toEqual([name]);
  });

  it.each(['gateway', ...names])('gives %s every setting it needs distributed', (name) => {
    const env = compose.services[name]!.environment;
    for (const key of NEEDED) expect(env[key], key).toBeTruthy();
    expect(env.S3_ENDPOINT).toBe('http://minio:9000');
    expect(env.GATEWAY_URL).toBe('http://gateway:8321');
  });

  it('points the gateway at every api service, and at no worker (WORKERS=external)', () => {
    const env = compose.services.gateway!.environment;
    for (const spec of apiServices) expect(env[serviceUrlVariable(spec.name)]).toBe(`http://${spec.name}:${compose.services[spec.name]!.environment.PORT}`);
    expect(Object.keys(env).filter((k) => k.endsWith('_SERVICE_URL')).sort()).toEqual(apiServices.map((s) => serviceUrlVariable(s.name)).sort());
    expect(env.WORKERS).toBe('external');
  });
});

describe('the Helm chart', { timeout: 120_000 }, () => {
  const values = parse(read('deploy/helm/responses-gateway/values.yaml')) as { components: Record<string, { role: string }> };
  let objects: K8sObject[];
  beforeAll(async () => {
    objects = await renderChart([CHART_VALUES('distributed-values.yaml')]);
  }, 120_000);
  const deployment = (component: string) =>
    objects.find((o) => o.kind === 'Deployment' && o.metadata.labels?.['app.kubernetes.io/component'] === component)!;
  const envOf = (component: string) => {
    const container = deployment(component).spec.template.spec.containers[0];
    return { container, env: Object.fromEntries((container.env as { name: string; value: string }[]).map((e) => [e.name, e.value])) };
  };

  it('has one component for the gateway and each service of the manifest, with its role', () => {
    expect(Object.keys(values.components).sort()).toEqual(['gateway', ...names].sort());
    expect(values.components.gateway!.role).toBe('gateway');
    for (const spec of SERVICE_MANIFEST) expect(values.components[spec.name]!.role).toBe(spec.role);
  });

  it('renders one Deployment per component, started by its role, and a Service for each one that serves routes', () => {
    const deployed = objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.labels!['app.kubernetes.io/component']);
    expect(deployed.sort()).toEqual(['gateway', ...names].sort());
    for (const name of deployed) expect(envOf(name!).container.args).toEqual([name]);
    const served = objects.filter((o) => o.kind === 'Service').map((o) => o.metadata.labels!['app.kubernetes.io/component']);
    expect(served.sort()).toEqual(['gateway', ...apiServices.map((s) => s.name)].sort());
  });

  it.each(['gateway', ...names])('gives %s every setting it needs, from its env and the platform Secret', (name) => {
    const { container, env } = envOf(name);
    const secretName = container.envFrom[0].secretRef.name;
    const secret = objects.find((o) => o.kind === 'Secret' && o.metadata.name === secretName) as K8sObject & { stringData: Record<string, string> };
    expect(secret).toBeDefined();
    const all = { ...secret.stringData, ...env };
    for (const key of NEEDED) expect(all[key], key).toBeTruthy();
    expect(env.GATEWAY_URL).toBe(`http://${deployment('gateway').metadata.name}:8321`);
  });

  it('points the gateway at the Service of every api component, and at no worker (WORKERS=external)', () => {
    const { env } = envOf('gateway');
    const services = new Map(objects.filter((o) => o.kind === 'Service').map((o) => [o.metadata.labels!['app.kubernetes.io/component'], o]));
    for (const spec of apiServices) {
      const svc = services.get(spec.name)!;
      expect(env[serviceUrlVariable(spec.name)]).toBe(`http://${svc.metadata.name}:${svc.spec.ports[0].port}`);
    }
    expect(Object.keys(env).filter((k) => k.endsWith('_SERVICE_URL')).sort()).toEqual(apiServices.map((s) => serviceUrlVariable(s.name)).sort());
    expect(env.WORKERS).toBe('external');
  });
});
