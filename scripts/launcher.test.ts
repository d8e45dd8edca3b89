import { describe, expect, it } from 'vitest';
import { SERVICE_MANIFEST, type ServiceSpec } from '@rgw/shared';
import { distributedPlan } from './launcher.js';

describe('distributedPlan', () => {
  it('starts every service of the manifest and points the gateway at each', () => {
    const plan = distributedPlan({ gateway: 8321, service: (s) => s.defaultPort });
    expect(plan.services.map((p) => p.name)).toEqual(SERVICE_MANIFEST.map((s) => s.name));
    expect(plan.services[0]).toEqual({ name: 'responses', entry: 'services/responses/src/main.ts', env: { PORT: '8322', GATEWAY_URL: 'http://127.0.0.1:8321' } });
    expect(plan.gateway.env).toMatchObject({
      PORT: '8321',
      WORKERS: 'external',
      RESPONSES_SERVICE_URL: 'http://127.0.0.1:8322',
      CONVERSATIONS_SERVICE_URL: 'http://127.0.0.1:8323',
      PROMPTS_SERVICE_URL: 'http://127.0.0.1:8324',
    });
  });

  it('runs a worker as its own process and gives the gateway no URL for it', () => {
    const manifest: ServiceSpec[] = [
      { name: 'echo', role: 'api', routes: ['/v1/echo'], defaultPort: 9401, uses: [], dir: 'services/echo' },
      { name: 'ingest-worker', role: 'worker', routes: [], defaultPort: 9402, uses: ['queue'], dir: 'services/ingest-worker' },
    ];
    const plan = distributedPlan({ gateway: 9400, service: (s) => s.defaultPort + 100 }, manifest);
    expect(plan.services[1]).toEqual({ name: 'ingest-worker', entry: 'services/ingest-worker/src/main.ts', env: { PORT: '9502', GATEWAY_URL: 'http://127.0.0.1:9400' } });
    expect(plan.gateway.env).toEqual({ ECHO_SERVICE_URL: 'http://127.0.0.1:9501', WORKERS: 'external', PORT: '9400' });
  });
});
