import { mkdtempSync, readFileSync } from 'node:fs';
import { cuttableRelay } from '../support/fault-support.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { SERVICE_MANIFEST, serviceEntry, serviceSpec, serviceUrlVariable } from '@rgw/shared';
import { platforms } from '../support/context.js';
import { TEST_AMQP_URL } from '../support/platform-harness.js';
import { freePort, REPO_ROOT, spawnTs, waitHealthy, type ManagedProcess } from '../support/process-harness.js';

const API_SERVICES = SERVICE_MANIFEST.filter((s) => s.role === 'api').map((s) => s.name);
const logDir = join(REPO_ROOT, '.tmp', 'test-logs');
const started: ManagedProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop(3000)));
});

describe.each(platforms)('topology ($mode)', (p) => {
  // A service forgotten by the harness (or a URL not passed on) would silently run inside the
  // gateway: distributed mode must mount nothing, embedded mode everything.
  it('runs every service of the manifest where the mode says', async () => {
    const body = (await (await fetch(`${p.origin}/health`)).json()) as any;
    if (p.mode === 'distributed') {
      expect(body.mounted).toEqual([]);
      expect(body.proxied.sort()).toEqual([...API_SERVICES].sort());
      expect(body.workers['in-process']).toEqual([]);
    } else {
      expect(body.mounted.sort()).toEqual([...API_SERVICES].sort());
      expect(body.proxied).toEqual([]);
      expect(body.workers.external).toEqual([]);
    }
  });
});

describe('a service run on its own', () => {
  it('refuses to start without GATEWAY_URL, saying so, instead of calling itself', async () => {
    const spec = serviceSpec('prompts');
    const proc = await spawnTs('prompts-without-gateway-url', serviceEntry(spec), { GATEWAY_URL: '', DATA_DIR: mkdtempSync(join(tmpdir(), 'rgw-nogw-')) }, logDir);
    started.push(proc);
    const code = await new Promise<number | null>((r) => (proc.child.exitCode !== null ? r(proc.child.exitCode) : proc.child.once('exit', r)));
    expect(code).not.toBe(0);
    expect(readFileSync(proc.logFile, 'utf8')).toContain('GATEWAY_URL is not set');
  });
});

const rabbitUp = await amqp.connect(TEST_AMQP_URL).then(
  (c) => c.close().then(() => true),
  () => false,
);

describe.skipIf(!rabbitUp)('health during a RabbitMQ outage', () => {
  it('marks down only the service that uses the queue; the gateway stays ready, reporting it degraded; a service down is not an upstream error', { timeout: 120_000 }, async () => {
    const relay = await cuttableRelay(new URL(TEST_AMQP_URL));
    // A provider that is never called: its static model lets a response get as far as its conversation.
    const env = (name: string) => ({
      AMQP_URL: relay.url,
      KEY_PREFIX: `rgwtopo_${process.pid}`,
      DATA_DIR: mkdtempSync(join(tmpdir(), `rgw-${name}-`)),
      BACKEND_BASE_URL: 'http://127.0.0.1:9/v1',
      BACKEND_MODELS: 'static-model',
      CONFIG_FILE: '',
    });
    const gatewayPort = String(await freePort());
    const gatewayUrl = `http://127.0.0.1:${gatewayPort}`;
    const [responses, conversations] = await Promise.all(
      (['responses', 'conversations'] as const).map((name) => spawnTs(`outage-${name}`, serviceEntry(serviceSpec(name)), { ...env(name), GATEWAY_URL: gatewayUrl }, logDir)),
    );
    started.push(responses!, conversations!);
    await Promise.all([waitHealthy(responses!), waitHealthy(conversations!)]);
    // The gateway proxies those two and mounts prompts, which needs only the database.
    const gateway = await spawnTs(
      'outage-gateway',
      'gateway/src/main.ts',
      {
        ...env('gateway'),
        PORT: gatewayPort,
        [serviceUrlVariable('responses')]: responses!.url,
        [serviceUrlVariable('conversations')]: conversations!.url,
        // Services this test does not start, and their worker, which would use the queue in-process.
        [serviceUrlVariable('files')]: 'http://127.0.0.1:9',
        [serviceUrlVariable('vector-stores')]: 'http://127.0.0.1:9',
        WORKERS: 'external',
      },
      logDir,
    );
    started.push(gateway);
    await waitHealthy(gateway);

    // Closing the relay stages the outage: live connections drop and new ones are refused.
    await relay.close();
    const health = async (proc: ManagedProcess) => {
      const res = await fetch(`${proc.url}/health`);
      return { status: res.status, body: (await res.json()) as any };
    };
    // Wait until the responses process has noticed the broker is gone.
    let down = await health(responses!);
    for (let i = 0; i < 50 && down.status === 200; i++) {
      await new Promise((r) => setTimeout(r, 200));
      down = await health(responses!);
    }
    expect(down.status).toBe(503);
    expect(down.body.dependencies.queue.status).toBe('Error');

    const conv = await health(conversations!);
    expect(conv.status).toBe(200);
    expect(conv.body.dependencies.queue).toMatchObject({ status: 'Error', required: false });

    const gw = await health(gateway);
    expect(gw.status).toBe(200);
    expect(gw.body.status).toBe('Degraded');
    expect(gw.body.dependencies.services.responses.status).toBe('Error');
    expect(gw.body.dependencies.services.conversations.status).toBe('OK');
    expect(gw.body.dependencies.queue.required).toBe(false);
    // And it still serves: a conversation through the proxy, a prompt mounted in-process.
    const created = await fetch(`${gateway.url}/v1/conversations`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(created.status).toBe(200);
    expect((await fetch(`${gateway.url}/v1/prompts`)).status).toBe(200);

    // One of our services down is our failure, not the model server's: no `x-error-source: upstream`.
    await conversations!.stop();
    const res = await fetch(`${gateway.url}/v1/responses`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'static-model', input: 'hi', conversation: 'conv_gone' }),
    });
    expect([502, 503]).toContain(res.status);
    expect(res.headers.get('x-error-source')).toBeNull();
    expect(((await res.json()) as any).error.code).toBe('service_unreachable');
  });
});
