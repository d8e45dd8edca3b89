/**
 * ExtProc mode (issue 16): the platform as Envoy's external processor. The gRPC stream is driven as
 * Envoy drives it (test/support/extproc-client.ts) for the protocol's own decisions, and the official
 * SDKs run through a stand-in for Envoy (test/support/extproc-envoy.ts) for every endpoint family.
 */
import LlamaStackClient from 'llama-stack-client';
import OpenAI, { toFile } from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { authFetch, TEST_KEY } from '../support/auth.js';
import { mock, openai, platforms } from '../support/context.js';
import { ExtProcClient, type Outcome } from '../support/extproc-client.js';
import { startFakeEnvoy, type FakeEnvoy } from '../support/extproc-envoy.js';

const POLL = { pollIntervalMs: 100 };

function immediate(o: Outcome): Extract<Outcome, { kind: 'immediate' }> {
  if (o.kind !== 'immediate') throw new Error(`expected an immediate response, got ${JSON.stringify(o)}`);
  return o;
}

function continued(o: Outcome): Extract<Outcome, { kind: 'continue' }> {
  if (o.kind !== 'continue') throw new Error(`expected the request to continue, got ${o.status} ${o.body.toString().slice(0, 300)}`);
  return o;
}

/** Passed on through Envoy to the platform's HTTP listener, the route recomputed. */
function expectPassThrough(o: Outcome, phase: 'request_headers' | 'request_body') {
  const c = continued(o);
  expect(c).toMatchObject({ phase, clearRouteCache: true, setHeaders: { 'x-rgw-extproc': 'passthrough' } });
  return c;
}

describe.each(platforms)('extproc ($mode)', (p) => {
  let ext: ExtProcClient;
  let envoy: FakeEnvoy;
  let sdk: OpenAI;

  beforeAll(async () => {
    if (!p.extproc) throw new Error('the harness started this platform without EXTPROC_PORT');
    ext = new ExtProcClient(p.extproc);
    envoy = await startFakeEnvoy({ extproc: p.extproc, platformOrigin: p.origin });
    sdk = openai(p, { baseURL: `${envoy.origin}/v1` });
  });
  afterAll(async () => {
    ext?.close();
    await envoy?.close();
  });
  beforeEach(() => mock.reset());

  it('answers models with the immediate response the HTTP path produces', async () => {
    const list = immediate(await ext.exchange({ method: 'GET', path: '/v1/models' }));
    const direct = await authFetch(`${p.baseURL}/models`);
    expect(list.status).toBe(200);
    expect(list.headers['content-type']).toEqual([direct.headers.get('content-type')]);
    expect(list.json()).toEqual(await direct.json());
    expect(list.headers['x-request-id']?.[0]).toMatch(/./);
    // Connection-level headers are Envoy's to set, not ours.
    expect(list.headers['content-length']).toBeUndefined();
    expect(list.headers['transfer-encoding']).toBeUndefined();
    expect((await sdk.models.retrieve('mock-model')).id).toBe('mock-model');
  });

  it('keeps statuses and the error envelope exactly as HTTP answers them', async () => {
    const cases: { method: string; path: string; body?: object; headers?: Record<string, string> }[] = [
      { method: 'GET', path: '/v1/models/no-such-model' },
      { method: 'GET', path: '/v1/models', headers: { authorization: 'Bearer wrong-key-123' } },
      { method: 'POST', path: '/v1/responses', body: { model: 'mock-model', input: 'x', bogus: 1 } },
      { method: 'POST', path: '/v1/chat/completions', body: { messages: [] } },
      { method: 'GET', path: '/v1/responses/resp_nope' },
      { method: 'DELETE', path: '/v1/conversations/conv_nope' },
      { method: 'GET', path: '/v1/no-such-endpoint' },
    ];
    for (const c of cases) {
      const viaExt = immediate(await ext.exchange(c));
      const direct = await fetch(`${p.origin}${c.path}`, {
        method: c.method,
        headers: { authorization: `Bearer ${TEST_KEY}`, ...(c.body ? { 'content-type': 'application/json' } : {}), ...c.headers },
        body: c.body ? JSON.stringify(c.body) : undefined,
      });
      const body = viaExt.json();
      expect({ path: c.path, status: viaExt.status }).toEqual({ path: c.path, status: direct.status });
      expect(body).toEqual(await direct.json());
      expect(Object.keys(body.error).sort()).toEqual(['code', 'message', 'param', 'type']);
    }
    // Malformed JSON: the handler's 400, not a processor failure.
    const broken = immediate(await ext.exchange({ method: 'POST', path: '/v1/responses', headers: { 'content-type': 'application/json' }, body: '{"model":' }));
    expect(broken.status).toBe(400);
    expect(broken.json().error.type).toBe('invalid_request_error');
  });

  it('serves chat completions and embeddings (raw stream and the SDK through Envoy)', async () => {
    await mock.enqueue({ type: 'text', text: 'hello via extproc' });
    const chat = immediate(await ext.exchange({ method: 'POST', path: '/v1/chat/completions', body: { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] } }));
    expect(chat.status).toBe(200);
    expect(chat.json()).toMatchObject({ object: 'chat.completion', choices: [{ message: { role: 'assistant', content: 'hello via extproc' } }] });
    await mock.enqueue({ type: 'text', text: 'sdk answer' });
    const viaSdk = await sdk.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] });
    expect(viaSdk.choices[0]!.message.content).toBe('sdk answer');
    const emb = await sdk.embeddings.create({ model: 'mock-embed', input: ['a', 'b'] });
    expect(emb.data).toHaveLength(2);
    expect(emb.data[0]!.embedding.length).toBeGreaterThan(0);
    const direct = await openai(p).embeddings.create({ model: 'mock-embed', input: ['a', 'b'] });
    expect(emb.data.map((d) => d.embedding)).toEqual(direct.data.map((d) => d.embedding));
  });

  it('serves responses: stored, retrieved, input items, background, deleted', async () => {
    await mock.enqueue({ type: 'text', text: 'stored answer' });
    const created = await sdk.responses.create({ model: 'mock-model', input: 'remember this', store: true });
    expect(created.output_text).toBe('stored answer');
    expect((await sdk.responses.retrieve(created.id)).id).toBe(created.id);
    const items = await sdk.responses.inputItems.list(created.id);
    expect(items.data[0]).toMatchObject({ type: 'message', role: 'user' });
    await mock.enqueue({ type: 'text', text: 'in the background' });
    let bg = await sdk.responses.create({ model: 'mock-model', input: 'later', background: true });
    expect(['queued', 'in_progress', 'completed']).toContain(bg.status);
    for (let i = 0; i < 100 && bg.status !== 'completed'; i++) {
      await new Promise((r) => setTimeout(r, 100));
      bg = await sdk.responses.retrieve(bg.id);
    }
    expect(bg).toMatchObject({ status: 'completed', output_text: 'in the background' });
    await sdk.responses.delete(created.id);
    expect(immediate(await ext.exchange({ method: 'GET', path: `/v1/responses/${created.id}` })).status).toBe(404);
  });

  it('serves conversations and prompts', async () => {
    const conv = await sdk.conversations.create({ metadata: { via: 'extproc' }, items: [{ type: 'message', role: 'user', content: 'first' }] });
    await sdk.conversations.items.create(conv.id, { items: [{ type: 'message', role: 'user', content: 'second' }] });
    const listed = await sdk.conversations.items.list(conv.id, { order: 'asc' });
    expect(listed.data.map((i) => (i as { content: { text: string }[] }).content[0]!.text)).toEqual(['first', 'second']);
    expect((await sdk.conversations.retrieve(conv.id)).metadata).toEqual({ via: 'extproc' });
    expect((await sdk.conversations.delete(conv.id)).deleted).toBe(true);

    const llama = new LlamaStackClient({ baseURL: envoy.origin, apiKey: TEST_KEY, maxRetries: 0 });
    const prompt = await llama.prompts.create({ prompt: 'Hi {{name}}', variables: ['name'] });
    const v2 = await llama.prompts.update(prompt.prompt_id, { prompt: 'Hello {{name}}', version: 1, variables: ['name'], set_as_default: true });
    expect(v2.version).toBe(2);
    expect((await llama.prompts.retrieve(prompt.prompt_id)).prompt).toBe('Hello {{name}}');
  });

  it('passes uploads through at the headers phase and answers content downloads byte for byte', async () => {
    const bytes = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7) % 256));
    const form = new FormData();
    form.append('purpose', 'assistants');
    form.append('file', new Blob([bytes]), 'data.bin');
    const encoded = new Request('http://x', { method: 'POST', body: form });
    const body = Buffer.from(await encoded.arrayBuffer());
    const decision = await ext.exchange({ method: 'POST', path: '/v1/files', headers: { 'content-type': encoded.headers.get('content-type')! }, body });
    const c = expectPassThrough(decision, 'request_headers');
    // The override that keeps the file out of Envoy's buffer and out of our gRPC stream.
    expect(c.modeOverride).toMatchObject({ request_body_mode: 0 /* NONE */, response_header_mode: 2 /* SKIP */ });

    const file = await sdk.files.create({ file: await toFile(bytes, 'data.bin'), purpose: 'assistants' });
    expect(file.bytes).toBe(bytes.length);
    expect((await sdk.files.retrieve(file.id)).filename).toBe('data.bin');
    const download = immediate(await ext.exchange({ method: 'GET', path: `/v1/files/${file.id}/content` }));
    expect(download.status).toBe(200);
    expect(download.body.equals(bytes)).toBe(true);
    expect(Buffer.from(await (await sdk.files.content(file.id)).arrayBuffer()).equals(bytes)).toBe(true);
    expect((await sdk.files.delete(file.id)).deleted).toBe(true);
  });

  it('serves vector stores with ingestion and search', async () => {
    const file = await sdk.files.create({ file: await toFile(Buffer.from('Bread needs flour, yeast and a hot oven.'), 'bread.txt'), purpose: 'assistants' });
    const store = await sdk.vectorStores.create({ name: 'kb', embedding_model: 'mock-embed-words' } as OpenAI.VectorStoreCreateParams);
    const attached = await sdk.vectorStores.files.createAndPoll(store.id, { file_id: file.id }, POLL);
    expect(attached.status).toBe('completed');
    const found = await sdk.vectorStores.search(store.id, { query: 'flour yeast oven' });
    expect(found.data[0]).toMatchObject({ file_id: file.id, filename: 'bread.txt' });
    expect((await sdk.vectorStores.list()).data.map((s) => s.id)).toContain(store.id);
    expect((await sdk.vectorStores.delete(store.id)).deleted).toBe(true);
  });

  it('hands streams to the HTTP listener and they arrive event by event', async () => {
    const hand = await ext.exchange({ method: 'POST', path: '/v1/responses', body: { model: 'mock-model', input: 'x', stream: true } });
    const c = expectPassThrough(hand, 'request_body');
    expect(c.removeHeaders).toContain('x-gateway-model-name');
    expectPassThrough(await ext.exchange({ method: 'POST', path: '/v1/chat/completions', body: { model: 'mock-model', messages: [], stream: true } }), 'request_body');
    // The same body without stream is answered here.
    await mock.enqueue({ type: 'text', text: 'not streamed' });
    expect(immediate(await ext.exchange({ method: 'POST', path: '/v1/responses', body: { model: 'mock-model', input: 'x', stream: false } })).status).toBe(200);

    // Through "Envoy": each delta reaches the client before the next one is produced.
    await mock.enqueue({ type: 'text', text: 'one two three', chunks: ['one', ' two', ' three'], delayMs: 250 }); // 500 ms in all: a busy machine's stall of the client cannot squeeze them under 200
    const arrivals: number[] = [];
    const types: string[] = [];
    const stream = await sdk.responses.create({ model: 'mock-model', input: 'hello', stream: true, store: true, background: true });
    let id = '';
    for await (const e of stream) {
      types.push(e.type);
      if (e.type === 'response.created') id = e.response.id;
      if (e.type === 'response.output_text.delta') arrivals.push(Date.now());
    }
    expect(types.at(-1)).toBe('response.completed');
    expect(arrivals).toHaveLength(3);
    expect(arrivals[2]! - arrivals[0]!).toBeGreaterThanOrEqual(200);

    // Resuming a stored response's stream is decided from the headers alone.
    expectPassThrough(await ext.exchange({ method: 'GET', path: `/v1/responses/${id}?stream=true` }), 'request_headers');
    const resumed = await sdk.responses.retrieve(id, { stream: true });
    const replay: string[] = [];
    for await (const e of resumed) replay.push(e.type);
    expect(replay).toEqual(types);

    await mock.enqueue({ type: 'text', text: 'chat stream', chunks: ['chat', ' stream'] });
    const chunks: string[] = [];
    for await (const chunk of await sdk.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'hi' }], stream: true })) {
      chunks.push(chunk.choices[0]?.delta?.content ?? '');
    }
    expect(chunks.join('')).toBe('chat stream');
    expect(envoy.routed.platform).toBeGreaterThanOrEqual(3);
  });

  it('buffers bodies up to the limit, passes larger ones through, and HTTP refuses what is over BODY_LIMIT', async () => {
    const big = 'x'.repeat(900_000);
    await mock.enqueue({ type: 'text', text: 'read it all' });
    // In several messages, as BUFFERED_PARTIAL or STREAMED would send it.
    const answered = immediate(await ext.exchange({ method: 'POST', path: '/v1/chat/completions', body: { model: 'mock-model', messages: [{ role: 'user', content: big }] }, chunks: 4 }));
    expect(answered.status).toBe(200);
    const seen = (await mock.requests('/v1/chat/completions')).at(-1)!;
    expect(JSON.stringify(seen.body)).toContain(big);

    const over = { model: 'mock-model', input: 'y'.repeat(1_200_000) };
    expectPassThrough(await ext.exchange({ method: 'POST', path: '/v1/responses', body: over }), 'request_headers');
    await mock.enqueue({ type: 'text', text: 'large but fine' });
    expect((await sdk.responses.create(over)).output_text).toBe('large but fine');
    // Over the platform's BODY_LIMIT (2mb in the suite): the listener's own 413, in the envelope.
    const tooBig = await sdk.responses.create({ model: 'mock-model', input: 'z'.repeat(2_500_000) }).catch((e: unknown) => e);
    expect(tooBig).toBeInstanceOf(OpenAI.APIError);
    expect((tooBig as InstanceType<typeof OpenAI.APIError>).status).toBe(413);
  });

  it('keeps many concurrent streams apart', async () => {
    const n = 60;
    const outcomes = await Promise.all(
      Array.from({ length: n }, (_, i) =>
        i % 2 ? ext.exchange({ method: 'POST', path: '/v1/conversations', body: { metadata: { n: String(i) } } }) : ext.exchange({ method: 'GET', path: '/v1/models/mock-model' }),
      ),
    );
    const convs = outcomes.map((o, i) => ({ i, o: immediate(o) }));
    for (const { i, o } of convs) {
      expect(o.status).toBe(200);
      if (i % 2) expect(o.json().metadata).toEqual({ n: String(i) });
      else expect(o.json().id).toBe('mock-model');
    }
    expect(new Set(convs.filter(({ i }) => i % 2).map(({ o }) => o.json().id)).size).toBe(n / 2);
  });

  it('stops the work of a stream Envoy cancels mid-way, and keeps serving', async () => {
    await mock.enqueue({ type: 'hang' });
    const aborted = await mock.abortedCount();
    const call = ext.client.Process();
    call.on('error', () => {});
    const body = Buffer.from(JSON.stringify({ model: 'mock-model', messages: [{ role: 'user', content: 'hang' }] }));
    const headers = { ':method': 'POST', ':path': '/v1/chat/completions', ':authority': 'x', authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json', 'content-length': String(body.length) };
    call.write({ request_headers: { headers: { headers: Object.entries(headers).map(([key, v]) => ({ key, raw_value: Buffer.from(v) })) }, end_of_stream: false } });
    call.write({ request_body: { body, end_of_stream: true } });
    // The request reached the model server (it hangs there) before the cancel.
    for (let i = 0; i < 100 && (await mock.requests('/v1/chat/completions')).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    expect(await mock.requests('/v1/chat/completions')).toHaveLength(1);
    call.cancel();
    let now = aborted;
    for (let i = 0; i < 100 && now === aborted; i++) {
      await new Promise((r) => setTimeout(r, 50));
      now = await mock.abortedCount();
    }
    expect(now).toBe(aborted + 1);
    expect(immediate(await ext.exchange({ method: 'GET', path: '/v1/models/mock-model' })).status).toBe(200);
  });
});
