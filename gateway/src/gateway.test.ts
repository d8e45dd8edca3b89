import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger, loadConfig } from '@rgw/shared';
import { startGateway, type Gateway } from './gateway.js';

// A gateway told that the responses service runs at an address where nothing listens.
let gateway: Gateway;
beforeAll(async () => {
  const config = loadConfig({ PORT: '0', HOST: '127.0.0.1', DATA_DIR: mkdtempSync(join(tmpdir(), 'gw-')), RESPONSES_SERVICE_URL: 'http://127.0.0.1:9' });
  gateway = await startGateway(config, { logger: createLogger('gw-test', 'silent') });
});
afterAll(() => gateway.close());

describe('gateway with a service down', () => {
  it('mounts the other services in-process and proxies the configured one', () => {
    expect(gateway.mounted).toEqual(['conversations', 'prompts', 'files', 'vector-stores']);
  });

  // One service down must not fail the gateway's readiness probe: chat, models and the other services still work.
  it('reports the service down in a 200 Degraded /health, naming it', async () => {
    const res = await fetch(`${gateway.url}/health`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.status).toBe('Degraded');
    expect(body.dependencies.services.responses).toMatchObject({ status: 'Error', placement: 'proxied' });
    expect(body.dependencies.services.prompts).toMatchObject({ status: 'OK', placement: 'mounted' });
    expect(body.dependencies.database.status).toBe('OK');
    expect(body.proxied).toEqual(['responses']);
    expect(body.mounted).toEqual(['conversations', 'prompts', 'files', 'vector-stores']);
  });

  it('answers requests for that service with a 502 envelope and a request id', async () => {
    const res = await fetch(`${gateway.url}/v1/responses`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-abc' }, body: '{}' });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-request-id')).toBe('req-abc');
    expect(((await res.json()) as any).error).toMatchObject({ type: 'server_error', code: 'service_unreachable' });
  });
});
