/**
 * End to end through a real Envoy (ENVOY_BIN) configured with deploy/envoy/envoy.yaml, pointed at the
 * suite's platforms: the official SDK sees the whole API, streams included. Without an Envoy binary
 * (these machines have none) the file says so loudly; the protocol itself is covered by
 * extproc.test.ts, which drives the gRPC stream as Envoy does.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { toFile } from 'openai';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../scripts/launcher.js';
import { mock, openai, platforms } from '../support/context.js';
import { REPO_ROOT } from '../support/process-harness.js';

const ENVOY_BIN = process.env.ENVOY_BIN;
if (!ENVOY_BIN) console.warn('\n!!! extproc-envoy.test.ts SKIPPED: no Envoy binary (set ENVOY_BIN to run the SDK through a real Envoy in ExtProc mode).\n');

/** deploy/envoy/envoy.yaml with this platform's addresses in place of the compose names. */
function configFor(origin: string, extproc: string, listenPort: number, adminPort: number): string {
  const config = parse(readFileSync(join(REPO_ROOT, 'deploy/envoy/envoy.yaml'), 'utf8'));
  const http = new URL(origin);
  const [grpcHost, grpcPort] = extproc.split(':');
  const at = { platform_http: [http.hostname, Number(http.port)], platform_extproc: [grpcHost!, Number(grpcPort)], model_upstream: [new URL(mock.origin).hostname, Number(new URL(mock.origin).port)] } as const;
  for (const cluster of config.static_resources.clusters) {
    const [address, port] = at[cluster.name as keyof typeof at];
    cluster.type = 'STATIC';
    cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address = { address, port_value: port };
  }
  config.static_resources.listeners[0].address.socket_address = { address: '127.0.0.1', port_value: listenPort };
  config.admin.address.socket_address.port_value = adminPort;
  return stringify(config);
}

// What can be checked without Envoy: the example configuration is what the processor expects.
describe('deploy/envoy/envoy.yaml', () => {
  it('sends request headers and buffered bodies to the processor, allows its mode override, and routes the pass-through header to the HTTP listener', () => {
    const config = parse(readFileSync(join(REPO_ROOT, 'deploy/envoy/envoy.yaml'), 'utf8'));
    const text = JSON.stringify(config);
    const clusters = Object.fromEntries(config.static_resources.clusters.map((c: { name: string }) => [c.name, c]));
    expect(Object.keys(clusters).sort()).toEqual(['model_upstream', 'platform_extproc', 'platform_http']);
    expect(JSON.stringify(clusters.platform_extproc)).toContain('http2_protocol_options');
    expect(text).toContain('"request_header_mode":"SEND"');
    expect(text).toContain('"request_body_mode":"BUFFERED"');
    expect(text).toContain('"allow_mode_override":true');
    expect(text).toContain('"failure_mode_allow":false');
    expect(text).toMatch(/"name":"x-rgw-extproc","string_match":\{"exact":"passthrough"\}\}\]\},"route":\{"cluster":"platform_http"/);
  });
});

// Registered only with an Envoy binary (announced loudly above when there is none).
describe.each(ENVOY_BIN ? platforms : [])('the SDK through a real Envoy in ExtProc mode ($mode)', (p) => {
  let envoy: ChildProcess;
  let dir: string;
  let baseURL: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rgw-envoy-'));
    const [listen, admin] = [await freePort(), await freePort()];
    writeFileSync(join(dir, 'envoy.yaml'), configFor(p.origin, p.extproc!, listen, admin));
    envoy = spawn(ENVOY_BIN!, ['-c', join(dir, 'envoy.yaml'), '--base-id', String(listen), '-l', 'warn'], { stdio: 'inherit' });
    baseURL = `http://127.0.0.1:${listen}/v1`;
    for (let i = 0; i < 100; i++) {
      if ((await fetch(`http://127.0.0.1:${admin}/ready`).then((r) => r.status, () => 0)) === 200) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('envoy did not become ready');
  });
  afterAll(() => {
    envoy?.kill();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves the API, streams event by event and takes uploads', async () => {
    const client = openai(p, { baseURL });
    expect((await client.models.list()).data.map((m) => m.id)).toContain('mock-model');
    await mock.enqueue({ type: 'text', text: 'through envoy' });
    expect((await client.responses.create({ model: 'mock-model', input: 'hi' })).output_text).toBe('through envoy');
    await mock.enqueue({ type: 'text', text: 'a b c', chunks: ['a', ' b', ' c'], delayMs: 100 });
    const deltas: number[] = [];
    for await (const e of await client.responses.create({ model: 'mock-model', input: 'hi', stream: true })) if (e.type === 'response.output_text.delta') deltas.push(Date.now());
    expect(deltas).toHaveLength(3);
    expect(deltas[2]! - deltas[0]!).toBeGreaterThanOrEqual(150);
    const file = await client.files.create({ file: await toFile(Buffer.alloc(1536 * 1024, 7), 'big.bin'), purpose: 'assistants' });
    expect(file.bytes).toBe(1536 * 1024);
    const err = await client.responses.retrieve('resp_nope').catch((e: { status: number; error: unknown }) => e);
    expect(err).toMatchObject({ status: 404 });
  });
});
