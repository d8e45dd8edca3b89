import { describe, expect, it } from 'vitest';
import * as apps from 'kubernetes-models/apps/v1';
import * as autoscaling from 'kubernetes-models/autoscaling/v2';
import * as core from 'kubernetes-models/v1';
import * as networking from 'kubernetes-models/networking.k8s.io/v1';
import * as policy from 'kubernetes-models/policy/v1';
import { CHART, CHART_VALUES, helmBinary, renderChart, run, type K8sObject } from './deploy-support.js';

// No cluster here: the chart is linted, rendered, and every object it renders is checked against the
// Kubernetes API schemas (kubernetes-models), so what CI passes is what an API server would accept.
const MODELS: Record<string, new (data: any) => { validate(): void }> = {
  'apps/v1/Deployment': apps.Deployment,
  'v1/Service': core.Service,
  'v1/Secret': core.Secret,
  'v1/ServiceAccount': core.ServiceAccount,
  'autoscaling/v2/HorizontalPodAutoscaler': autoscaling.HorizontalPodAutoscaler,
  'policy/v1/PodDisruptionBudget': policy.PodDisruptionBudget,
  'networking.k8s.io/v1/Ingress': networking.Ingress,
};
const DISTRIBUTED = CHART_VALUES('distributed-values.yaml');
const EXISTING_SECRET = CHART_VALUES('existing-secret-values.yaml');
const RECOMMENDED = ['app.kubernetes.io/name', 'app.kubernetes.io/instance', 'app.kubernetes.io/version', 'app.kubernetes.io/managed-by', 'helm.sh/chart'];

/** A KEDA ScaledObject (a CRD kubernetes-models does not carry): the fields KEDA needs, checked by hand. */
function validateScaledObject(o: K8sObject, deployments: Set<string>): void {
  expect(o.apiVersion).toBe('keda.sh/v1alpha1');
  expect(deployments.has(o.spec.scaleTargetRef.name)).toBe(true);
  expect(o.spec.minReplicaCount).toBeLessThanOrEqual(o.spec.maxReplicaCount);
  const [trigger] = o.spec.triggers;
  expect(trigger).toMatchObject({ type: 'rabbitmq', metadata: { mode: 'QueueLength', hostFromEnv: 'AMQP_URL' } });
  expect(trigger.metadata.queueName).toMatch(/\.q\.vector_store\.file\.ingest$/);
  expect(Number(trigger.metadata.value)).toBeGreaterThan(0);
}

function validateAll(objects: K8sObject[]): void {
  const deployments = new Set(objects.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name));
  for (const o of objects) {
    if (o.kind === 'ScaledObject') validateScaledObject(o, deployments);
    else {
      const Model = MODELS[`${o.apiVersion}/${o.kind}`];
      expect(Model, `${o.apiVersion} ${o.kind} has a schema here`).toBeDefined();
      expect(() => new Model!(o).validate(), `${o.kind} ${o.metadata.name}`).not.toThrow();
    }
    expect(o.metadata.name.length).toBeLessThanOrEqual(63);
    for (const label of RECOMMENDED) expect(o.metadata.labels?.[label], `${o.kind} ${o.metadata.name}: ${label}`).toBeTruthy();
  }
}

describe('the Helm chart', { timeout: 120_000 }, () => {
  it.each([
    ['the default values', []],
    ['a full distributed install', [DISTRIBUTED]],
    ['an existing Secret', [EXISTING_SECRET]],
  ])('passes helm lint --strict with %s', async (_what, files) => {
    const res = await run(helmBinary(), ['lint', '--strict', CHART, ...files.flatMap((f) => ['-f', f])]);
    expect(res.code, res.stdout + res.stderr).toBe(0);
    expect(res.stdout).toContain('0 chart(s) failed');
  });

  it('refuses to render its defaults, naming every platform setting that is missing', async () => {
    const error = await renderChart([]).then(() => undefined, (err: Error) => err.message);
    expect(error).toBeDefined();
    for (const what of ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL', 'S3_BUCKET', 'QDRANT_URL', 'INTERNAL_TOKEN']) expect(error).toContain(what);
    expect(error).toContain('existingSecret');
  });

  it('names only what is still missing', async () => {
    const error = await renderChart([], { set: ['config.database.url=postgres://x', 'config.cache.url=redis://x', 'config.queue.url=amqp://x', 'config.objectStore.bucket=b', 'config.internalToken=t'] }).then(
      () => '',
      (err: Error) => err.message,
    );
    expect(error).toContain('QDRANT_URL');
    expect(error).not.toMatch(/the database \(/);
  });

  it('renders a full distributed install whose every object passes the Kubernetes schemas', async () => {
    const objects = await renderChart([DISTRIBUTED]);
    validateAll(objects);
    const kinds = objects.map((o) => o.kind);
    for (const kind of ['Deployment', 'Service', 'Secret', 'ServiceAccount', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Ingress', 'ScaledObject']) expect(kinds).toContain(kind);
    // KEDA owns the worker's HPA: the chart must not render a second one for it.
    const worker = objects.find((o) => o.kind === 'ScaledObject')!.spec.scaleTargetRef.name;
    expect(objects.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.spec.scaleTargetRef.name)).not.toContain(worker);
    // A component's own `pdb.enabled: false` wins over the default `true`.
    expect(objects.filter((o) => o.kind === 'PodDisruptionBudget').map((o) => o.metadata.labels!['app.kubernetes.io/component'])).not.toContain('conversations');
  });

  it('runs every pod non-root on a read-only root filesystem, probed on /readyz, /livez at start and for liveness', async () => {
    for (const d of (await renderChart([DISTRIBUTED])).filter((o) => o.kind === 'Deployment')) {
      const pod = d.spec.template.spec;
      const [c] = pod.containers;
      expect(pod.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(c.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      expect(c.volumeMounts.map((m: { mountPath: string }) => m.mountPath)).toEqual(expect.arrayContaining(['/data', '/tmp']));
      expect(c.readinessProbe.httpGet.path).toBe('/readyz');
      expect(c.livenessProbe.httpGet.path).toBe('/livez');
      expect(c.startupProbe.httpGet.path).toBe('/livez');
      expect(c.resources.requests).toBeDefined();
      expect(pod.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    }
  });

  it('uses an existing Secret without making one, and validates', async () => {
    const objects = await renderChart([EXISTING_SECRET]);
    validateAll(objects);
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
    for (const d of objects.filter((o) => o.kind === 'Deployment')) expect(d.spec.template.spec.containers[0].envFrom[0].secretRef.name).toBe('rgw-platform');
  });

  it('keeps every name within 63 characters for a long release name', async () => {
    const objects = await renderChart([DISTRIBUTED], { release: 'a-release-name-long-enough-to-push-names-over-63ch' });
    validateAll(objects);
    const names = objects.map((o) => `${o.kind}/${o.metadata.name}`);
    expect(new Set(names).size).toBe(names.length);
  });

  it('passes helm lint --strict with ExtProc on', async () => {
    const res = await run(helmBinary(), ['lint', '--strict', CHART, '-f', DISTRIBUTED, '--set', 'extproc.enabled=true,extproc.bodyRouting=true']);
    expect(res.code, res.stdout + res.stderr).toBe(0);
  });

  it('with ExtProc on, sets EXTPROC_* on the gateway alone and exposes its gRPC port on the gateway Service', async () => {
    const set = ['extproc.enabled=true', 'extproc.port=9102', 'extproc.bufferLimit=2mb', 'extproc.bodyRouting=true'];
    const objects = await renderChart([DISTRIBUTED], { set });
    validateAll(objects);
    const component = (o: K8sObject) => o.metadata.labels!['app.kubernetes.io/component'];
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const [c] = d.spec.template.spec.containers;
      const env = Object.fromEntries(c.env.map((e: { name: string; value: string }) => [e.name, e.value]));
      if (component(d) === 'gateway') {
        expect(env).toMatchObject({ EXTPROC_PORT: '9102', EXTPROC_BUFFER_LIMIT: '2mb', EXTPROC_BODY_ROUTING: 'on', EXTPROC_MODEL_HEADER: 'x-gateway-model-name' });
        expect(c.ports).toContainEqual({ name: 'grpc-extproc', containerPort: 9102, protocol: 'TCP' });
      } else {
        expect(Object.keys(env).filter((k) => k.startsWith('EXTPROC_')), component(d)).toEqual([]);
        expect(c.ports.map((p: { name: string }) => p.name)).toEqual(['http']);
      }
    }
    for (const svc of objects.filter((o) => o.kind === 'Service')) {
      const grpc = svc.spec.ports.filter((p: { name: string }) => p.name === 'grpc-extproc');
      if (component(svc) === 'gateway') expect(grpc).toEqual([{ name: 'grpc-extproc', port: 9102, targetPort: 'grpc-extproc', protocol: 'TCP', appProtocol: 'grpc' }]);
      else expect(grpc).toEqual([]);
    }
  });

  it('renders no ExtProc port or setting by default', async () => {
    const objects = await renderChart([DISTRIBUTED]);
    const text = JSON.stringify(objects);
    expect(text).not.toContain('EXTPROC_');
    expect(text).not.toContain('grpc-extproc');
  });

  it('checks value types against values.schema.json', async () => {
    const error = await renderChart([DISTRIBUTED], { set: ['components.gateway.replicas=two'] }).then(() => '', (err: Error) => err.message);
    expect(error).toMatch(/replicas.*integer|integer.*replicas/s);
    const role = await renderChart([DISTRIBUTED], { set: ['components.gateway.role=frontend'] }).then(() => '', (err: Error) => err.message);
    expect(role).toContain('role');
    const size = await renderChart([DISTRIBUTED], { set: ['extproc.enabled=true', 'extproc.bufferLimit=lots'] }).then(() => '', (err: Error) => err.message);
    expect(size).toContain('bufferLimit');
  });
});
