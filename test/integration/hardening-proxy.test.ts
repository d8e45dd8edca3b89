import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mock } from '../support/context.js';
import { REPO_ROOT, freePort, spawnTs, tail, type ManagedProcess } from '../support/process-harness.js';
import { isEnvelope } from '../support/raw-http.js';

// Distributed mode's proxy against services that misbehave: a gateway of our own whose responses
// service is a fake (it hangs, dies mid-reply, or streams slowly, as the `x-fake` header asks) and
// whose conversations service is not there at all.
const PROXY_TIMEOUT_MS = 1000;

let fake: http.Server;
let gateway: ManagedProcess;
let dataDir: string;
let deadPort: number;
const open = new Set<http.ServerResponse>();

const event = (seq: number) => `event: response.in_progress\ndata: ${JSON.stringify({ type: 'response.in_progress', sequence_number: seq })}\n\n`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  fake = http.createServer(async (req, res) => {
    open.add(res);
    res.on('close', () => open.delete(res));
    req.resume();
    const mode = req.headers['x-fake'];
    if (mode === 'hang') return;
    if (mode === 'die-json') {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
      res.write('{"id":"resp_');
      await sleep(50);
      res.socket?.destroy();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    if (mode === 'die-sse') {
      res.write(event(0));
      await sleep(50);
      res.write(event(1));
      await sleep(50);
      res.socket?.destroy();
      return;
    }
    // slow-sse: longer than the proxy timeout, with gaps of almost its length.
    for (let i = 0; i < 4; i++) {
      res.write(event(i));
      await sleep(PROXY_TIMEOUT_MS * 0.8);
    }
    res.end('event: response.completed\ndata: {"type":"response.completed","sequence_number":4}\n\n');
  });
  await new Promise<void>((r) => fake.listen(0, '127.0.0.1', r));
  deadPort = await freePort();
  dataDir = mkdtempSync(join(tmpdir(), 'rgw-proxy-'));
  gateway = await spawnTs(
    'proxy-gateway',
    'gateway/src/main.ts',
    {
      BACKEND_BASE_URL: `${mock.origin}/v1`,
      DATA_DIR: dataDir,
      RESPONSES_SERVICE_URL: `http://127.0.0.1:${(fake.address() as AddressInfo).port}`,
      CONVERSATIONS_SERVICE_URL: `http://127.0.0.1:${deadPort}`,
      PROXY_TIMEOUT_MS: String(PROXY_TIMEOUT_MS),
      SHUTDOWN_TIMEOUT_MS: '2000',
    },
    join(REPO_ROOT, '.tmp', 'test-logs'),
  );
  // Its /health reports the dead service as down: wait for the process to serve /v1/models instead.
  for (let i = 0; ; i++) {
    if (gateway.child.exitCode !== null || i > 300) throw new Error(`proxy gateway did not start:\n${tail(gateway.logFile)}`);
    if (await fetch(`${gateway.url}/v1/models`).then((r) => r.ok, () => false)) break;
    await sleep(150);
  }
});

afterAll(async () => {
  await gateway?.stop();
  for (const res of open) res.destroy();
  fake?.closeAllConnections();
  await new Promise<void>((r) => (fake ? fake.close(() => r()) : r()));
  rmSync(dataDir, { recursive: true, force: true });
});

const create = (mode: string, signal?: AbortSignal) =>
  fetch(`${gateway.url}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-fake': mode },
    body: JSON.stringify({ model: 'mock-model', input: 'hi', stream: true }),
    signal,
  });

describe('service proxy against failing services', () => {
  it('answers a service that never answers with a 504 envelope of ours', async () => {
    const res = await create('hang');
    expect(res.status).toBe(504);
    expect(res.headers.get('x-error-source')).toBeNull();
    expect(res.headers.get('x-request-id')).toMatch(/\S/);
    const body = (await res.json()) as any;
    expect(isEnvelope(body)).toBe(true);
    expect(body.error.code).toBe('service_timeout');
  });

  it('ends an event stream whose service dies mid-stream with an error event numbered after the last one', async () => {
    const res = await create('die-sse');
    expect(res.status).toBe(200);
    const text = await res.text();
    const events = text.trim().split('\n\n');
    expect(events).toHaveLength(3);
    const last = events[2]!.split('\n');
    expect(last[0]).toBe('event: error');
    const data = JSON.parse(last[1]!.slice('data: '.length));
    expect(data).toMatchObject({ type: 'error', code: 'service_unreachable', sequence_number: 2 });
    expect(data.message).not.toMatch(/127\.0\.0\.1/);
  });

  it('cuts a JSON reply whose service dies mid-body instead of leaving it open', async () => {
    const res = await create('die-json');
    expect(res.status).toBe(200);
    await expect(res.text()).rejects.toThrow();
  });

  it('does not cut a stream that flows for longer than the proxy timeout', async () => {
    const res = await create('slow-sse');
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('"sequence_number":3');
    expect(text).toContain('response.completed');
    expect(text).not.toContain('event: error');
  });

  it('answers an unreachable service with a 502 of ours that does not reveal its address', async () => {
    const res = await fetch(`${gateway.url}/v1/conversations/conv_${'0'.repeat(48)}`);
    expect(res.status).toBe(502);
    expect(res.headers.get('x-error-source')).toBeNull();
    const body = (await res.json()) as any;
    expect(isEnvelope(body)).toBe(true);
    expect(body.error.code).toBe('service_unreachable');
    expect(body.error.message).not.toMatch(/127\.0\.0\.1|\d{4,5}/);
  });

  it('is still serving after all of it', async () => {
    expect(gateway.child.exitCode).toBeNull();
    expect((await fetch(`${gateway.url}/v1/models`)).status).toBe(200);
  });
});
