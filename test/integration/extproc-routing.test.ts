/**
 * ExtProc body routing (EXTPROC_BODY_ROUTING=1): chat completions and embeddings continue to Envoy's
 * own upstream with the model in a header, after the processor checked the key, the limits and the
 * key's model access. Its own embedded platform (the suite's platforms run without the setting).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject } from 'vitest';
import { mock } from '../support/context.js';
import { ExtProcClient, type Outcome } from '../support/extproc-client.js';
import { startFakeEnvoy, type FakeEnvoy } from '../support/extproc-envoy.js';
import { startEmbedded, type RunningPlatform } from '../support/platform-harness.js';
import { REPO_ROOT } from '../support/process-harness.js';

const CHAT = { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] };

describe('extproc body routing (embedded)', () => {
  let platform: RunningPlatform;
  let ext: ExtProcClient;
  let envoy: FakeEnvoy;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rgw-extproc-routing-'));
    const configFile = join(dir, 'auth.yaml');
    writeFileSync(configFile, ['auth:', '  projects:', '    - id: embed-only', '      keys:', '        - key: embed-only-key', '          models: [mock-embed]', ''].join('\n'));
    const mockOrigin = inject('mockOrigin');
    platform = await startEmbedded(
      { BACKEND_BASE_URL: `${mockOrigin}/v1`, BACKEND_API_KEY: 'mock-key', EMBEDDING_MODEL: 'mock-embed', API_KEYS: 'test-key', CONFIG_FILE: configFile, EXTPROC_BODY_ROUTING: '1' },
      join(REPO_ROOT, '.tmp', 'test-logs', 'extproc-routing'),
    );
    ext = new ExtProcClient(platform.extproc!);
    envoy = await startFakeEnvoy({ extproc: platform.extproc!, platformOrigin: platform.origin, modelOrigin: `${mockOrigin}/v1` });
  });
  afterAll(async () => {
    ext?.close();
    await envoy?.close();
    await platform?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => mock.reset());

  const routed = (o: Outcome, model: string) => {
    if (o.kind !== 'continue') throw new Error(`expected the request to continue, got ${o.status} ${o.body.toString()}`);
    expect(o).toMatchObject({ phase: 'request_body', clearRouteCache: true, setHeaders: { 'x-gateway-model-name': model } });
    expect(o.removeHeaders).toContain('x-rgw-extproc');
    expect(o.setHeaders['x-rgw-extproc']).toBeUndefined();
  };

  it('copies the model into the header for chat completions and embeddings, streaming or not', async () => {
    routed(await ext.exchange({ method: 'POST', path: '/v1/chat/completions', body: CHAT }), 'mock-model');
    routed(await ext.exchange({ method: 'POST', path: '/v1/chat/completions', body: { ...CHAT, stream: true } }), 'mock-model');
    routed(await ext.exchange({ method: 'POST', path: '/v1/embeddings', body: { model: 'mock-embed', input: 'x' } }), 'mock-embed');
    // Nothing was sent to the model server by the processor itself.
    expect(await mock.requests()).toHaveLength(0);
  });

  it('answers refusals itself, in the envelope: no key, a model the key may not use', async () => {
    const noKey = await ext.exchange({ method: 'POST', path: '/v1/chat/completions', body: CHAT, headers: { authorization: '' } });
    expect(noKey).toMatchObject({ kind: 'immediate', status: 401 });
    const forbidden = await ext.exchange({ method: 'POST', path: '/v1/chat/completions', body: CHAT, headers: { authorization: 'Bearer embed-only-key' } });
    if (forbidden.kind !== 'immediate') throw new Error('expected a refusal');
    expect(forbidden.status).toBe(403);
    expect(Object.keys(forbidden.json().error).sort()).toEqual(['code', 'message', 'param', 'type']);
    routed(await ext.exchange({ method: 'POST', path: '/v1/embeddings', body: { model: 'mock-embed', input: 'x' }, headers: { authorization: 'Bearer embed-only-key' } }), 'mock-embed');
  });

  it('leaves the rest to the platform: no model is its 400, other endpoints its immediate answers', async () => {
    const noModel = await ext.exchange({ method: 'POST', path: '/v1/chat/completions', body: { messages: [] } });
    expect(noModel).toMatchObject({ kind: 'immediate', status: 400 });
    expect(await ext.exchange({ method: 'GET', path: '/v1/models/mock-model' })).toMatchObject({ kind: 'immediate', status: 200 });
    const stream = await ext.exchange({ method: 'POST', path: '/v1/responses', body: { model: 'mock-model', input: 'x', stream: true } });
    expect(stream).toMatchObject({ kind: 'continue', setHeaders: { 'x-rgw-extproc': 'passthrough' } });
  });

  it('reaches the model upstream through Envoy with the official SDK', async () => {
    const sdk = new OpenAI({ baseURL: `${envoy.origin}/v1`, apiKey: 'test-key', maxRetries: 0 });
    await mock.enqueue({ type: 'text', text: 'straight from the model' });
    const chat = await sdk.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(chat.choices[0]!.message.content).toBe('straight from the model');
    expect(envoy.routed.model).toBe(1);
    const seen = await mock.requests('/v1/chat/completions');
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['x-gateway-model-name']).toBe('mock-model');
  });
});
