import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI, { AuthenticationError, PermissionDeniedError, RateLimitError } from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { ADMIN_KEY, staticProjectOf, TEST_KEY, TEST_KEY_B } from '../support/auth.js';
import { openai, platforms } from '../support/context.js';
import { errorOf } from '../support/errors.js';
import { REPO_ROOT, spawnTs, waitHealthy, type ManagedProcess } from '../support/process-harness.js';

const chat = { model: 'mock-model', messages: [{ role: 'user' as const, content: 'hello' }] };

/** The admin API, as a curl user calls it. */
async function admin(origin: string, method: string, path: string, body?: unknown, key = ADMIN_KEY) {
  const res = await fetch(`${origin}/v1/organization${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: (await res.json()) as any };
}

/** Sleeps past the end of the current minute when it is about to end (rate windows are clock minutes). */
async function awayFromWindowEdge() {
  const left = 60_000 - (Date.now() % 60_000);
  if (left < 8000) await new Promise((r) => setTimeout(r, left + 200));
}

describe.each(platforms)('API keys ($mode)', (p) => {
  it('refuses a missing or wrong key with a 401 the SDK raises as AuthenticationError, never echoing the key', async () => {
    const missing = await fetch(`${p.baseURL}/models`);
    expect(missing.status).toBe(401);
    expect(((await missing.json()) as any).error.code).toBe('invalid_api_key');
    const secret = 'sk-wrong-0123456789abcdef';
    const err = await errorOf(openai(p, { apiKey: secret }).chat.completions.create(chat));
    expect(err).toBeInstanceOf(AuthenticationError);
    expect(err.status).toBe(401);
    expect(err.code).toBe('invalid_api_key');
    expect(err.message).toContain('sk-wr***ef');
    expect(err.message).not.toContain(secret);
    // Every route, service routes included.
    expect(await errorOf(openai(p, { apiKey: secret }).conversations.create({}))).toBeInstanceOf(AuthenticationError);
    expect(await errorOf(openai(p, { apiKey: secret }).responses.create({ model: 'mock-model', input: 'x' }))).toBeInstanceOf(AuthenticationError);
    // Probes stay open.
    expect((await fetch(`${p.origin}/health`)).status).toBe(200);
  });

  it('takes the key as Bearer or x-api-key', async () => {
    expect((await fetch(`${p.baseURL}/models`, { headers: { authorization: `Bearer ${TEST_KEY}` } })).status).toBe(200);
    expect((await fetch(`${p.baseURL}/models`, { headers: { 'x-api-key': TEST_KEY_B } })).status).toBe(200);
    expect((await fetch(`${p.baseURL}/models`, { headers: { 'x-api-key': 'nope-nope-nope' } })).status).toBe(401);
  });

  it('refuses a model outside the key on the Responses API too (the service reads its own body)', async () => {
    const project = await admin(p.origin, 'POST', '/projects', { name: 'models-only' });
    const created = await admin(p.origin, 'POST', `/projects/${project.body.id}/api_keys`, { name: 'embed-only', models: ['mock-embed'] });
    const client = openai(p, { apiKey: created.body.value });
    const denied = await errorOf(client.responses.create({ model: 'mock-model', input: 'hi' }));
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect(denied).toMatchObject({ status: 403, code: 'model_not_allowed', param: 'model' });
    const streamed = await errorOf(client.responses.create({ model: 'mock-model', input: 'hi', stream: true, background: true }));
    expect(streamed).toBeInstanceOf(PermissionDeniedError);
  });

  it('manages projects and keys: the secret is shown once, a model outside the key is a 403, limits are a 429 with headers, revocation is at once', async () => {
    const project = await admin(p.origin, 'POST', '/projects', { name: 'team-a' });
    expect(project.status).toBe(200);
    expect(project.body).toMatchObject({ object: 'organization.project', name: 'team-a' });
    expect((await admin(p.origin, 'GET', `/projects/${project.body.id}`)).body.id).toBe(project.body.id);
    expect((await admin(p.origin, 'GET', '/projects')).body.data.map((x: any) => x.id)).toContain(project.body.id);

    const created = await admin(p.origin, 'POST', `/projects/${project.body.id}/api_keys`, { name: 'ci', models: ['mock-model'], rpm: 2 });
    expect(created.status).toBe(200);
    const secret: string = created.body.value;
    expect(secret).toMatch(/^sk-rgw-[\w-]{43}$/);
    const listed = await admin(p.origin, 'GET', `/projects/${project.body.id}/api_keys`);
    expect(listed.body.data).toEqual([expect.objectContaining({ id: created.body.id, name: 'ci', status: 'active', models: ['mock-model'] })]);
    expect(JSON.stringify(listed.body)).not.toContain(secret);
    expect(listed.body.data[0].value).toBeUndefined();

    const client = openai(p, { apiKey: secret });
    // Every request of this key must fall in one (clock-minute) rate window.
    await awayFromWindowEdge();
    const denied = await errorOf(client.chat.completions.create({ ...chat, model: 'mock-embed' }));
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect(denied.status).toBe(403);

    // The 403 above was the first request of the window (requests are counted when admitted).
    const { response } = await client.chat.completions.create(chat).withResponse();
    expect(response.headers.get('x-ratelimit-limit-requests')).toBe('2');
    expect(response.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    expect(response.headers.get('x-ratelimit-reset-requests')).toMatch(/^(\d+m)?\d+s$/);
    const limited = await errorOf(client.chat.completions.create(chat));
    expect(limited).toBeInstanceOf(RateLimitError);
    expect(limited.status).toBe(429);
    expect(limited.code).toBe('rate_limit_exceeded');
    expect(limited.type).toBe('requests');
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(limited.headers.get('x-ratelimit-remaining-requests')).toBe('0');
    // Keys without limits send no rate-limit headers; another key's budget is its own.
    const other = await openai(p).chat.completions.create(chat).withResponse();
    expect(other.response.headers.get('x-ratelimit-limit-requests')).toBeNull();

    // Usage per key and model, from the model server's usage (11 in, 7 out a call).
    const usage = await admin(p.origin, 'GET', `/projects/${project.body.id}/usage`);
    expect(usage.body.data).toEqual([
      expect.objectContaining({ project_id: project.body.id, api_key_id: created.body.id, model: 'mock-model', num_model_requests: 1, input_tokens: 11, output_tokens: 7 }),
    ]);

    // Revocation: refused at once.
    const revoked = await admin(p.origin, 'DELETE', `/projects/${project.body.id}/api_keys/${created.body.id}`);
    expect(revoked.body).toEqual({ object: 'organization.project.api_key.deleted', id: created.body.id, deleted: true });
    expect(await errorOf(client.models.list())).toBeInstanceOf(AuthenticationError);
    expect((await admin(p.origin, 'GET', `/projects/${project.body.id}/api_keys`)).body.data[0].status).toBe('revoked');
  });

  it('records usage of streamed chat (final usage chunk), embeddings and responses per key and model', async () => {
    const project = (await admin(p.origin, 'POST', '/projects', { name: 'usage' })).body;
    const key = (await admin(p.origin, 'POST', `/projects/${project.id}/api_keys`, {})).body;
    const client = openai(p, { apiKey: key.value });
    const stream = await client.chat.completions.create({ ...chat, stream: true, stream_options: { include_usage: true } });
    for await (const _ of stream);
    await client.embeddings.create({ model: 'mock-embed', input: ['a', 'b', 'c'] });
    await client.responses.create({ model: 'mock-model', input: 'hi' });
    const byModel = async () => {
      const rows = (await admin(p.origin, 'GET', `/usage?project_id=${project.id}`)).body.data as any[];
      return Object.fromEntries(rows.map((r) => [r.model, r]));
    };
    // The streamed chat is counted by the gateway as it passes; the response by the responses
    // service's usage event on the queue (asynchronous): both, 11 in and 7 out each.
    let rows = await byModel();
    for (let i = 0; i < 100 && rows['mock-model']?.num_model_requests !== 2; i++) {
      await new Promise((r) => setTimeout(r, 100));
      rows = await byModel();
    }
    expect(rows['mock-model']).toMatchObject({ api_key_id: key.id, num_model_requests: 2, input_tokens: 22, output_tokens: 14 });
    expect(rows['mock-embed']).toMatchObject({ num_model_requests: 1, input_tokens: 3, output_tokens: 0 });
  });

  it('keeps the admin API to the admin key', async () => {
    expect((await admin(p.origin, 'GET', '/projects', undefined, TEST_KEY)).status).toBe(403);
    expect((await admin(p.origin, 'GET', '/projects', undefined, 'not-the-admin-key')).status).toBe(401);
    const none = await fetch(`${p.origin}/v1/organization/projects`);
    expect(none.status).toBe(401);
  });

  it('ignores x-rgw-* headers a client sends: a forged principal acts for nobody', async () => {
    const forged = {
      'x-rgw-principal': Buffer.from(JSON.stringify({ projectId: 'proj_forged' })).toString('base64url'),
      'x-rgw-signed-at': String(Date.now()),
      'x-rgw-signature': 'forged',
    };
    expect((await fetch(`${p.baseURL}/conversations`, { method: 'POST', headers: { ...forged, 'content-type': 'application/json' }, body: '{}' })).status).toBe(401);
    await openai(p, { apiKey: TEST_KEY_B }).chat.completions.create(chat, { headers: forged });
    const rows = (await admin(p.origin, 'GET', '/usage')).body.data as any[];
    expect(rows.some((r) => r.project_id === 'proj_forged')).toBe(false);
    expect(rows.some((r) => r.project_id === staticProjectOf(TEST_KEY_B) && r.model === 'mock-model')).toBe(true);
  });

  // Only distributed mode has service ports (embedded mounts every service in the gateway process).
  if (p.mode === 'distributed')
    it('refuses a call straight to a service port without the internal credential', async () => {
    const conversations = p.services!.conversations!;
    const res = await fetch(`${conversations}/v1/conversations`, { method: 'POST', headers: { authorization: `Bearer ${TEST_KEY}`, 'content-type': 'application/json' }, body: '{}' });
    expect(res.status).toBe(401);
    expect(((await res.json()) as any).error.code).toBe('invalid_internal_credential');
    expect((await fetch(`${conversations}/health`)).status).toBe(200);
  });
});

describe('open mode', () => {
  const started: ManagedProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((s) => s.stop(2000)));
  });

  it('with no key configured and no HOST listens on loopback only and says so', async () => {
    const proc = await spawnTs('open-default', 'gateway/src/main.ts', { HOST: '', DATA_DIR: mkdtempSync(join(tmpdir(), 'rgw-open-')), BACKEND_BASE_URL: '', CONFIG_FILE: '' }, join(REPO_ROOT, '.tmp', 'test-logs'));
    started.push(proc);
    await waitHealthy(proc);
    const log = readFileSync(proc.logFile, 'utf8');
    expect(log).toMatch(/no API key configured.*loopback/);
    expect(log).toContain('"host":"127.0.0.1"');
    const client = new OpenAI({ baseURL: `${proc.url}/v1`, apiKey: 'anything', maxRetries: 0 });
    expect((await client.models.list()).data).toEqual([]);
    const external = Object.values(networkInterfaces()).flat().find((i) => i && i.family === 'IPv4' && !i.internal);
    if (external) {
      const port = new URL(proc.url).port;
      const reached = await fetch(`http://${external.address}:${port}/health`).then(() => true, () => false);
      expect(reached).toBe(false);
    }
  });
});

describe('secrets in logs', () => {
  it('never logs the provider key or a client key', () => {
    const dir = join(REPO_ROOT, '.tmp', 'test-logs');
    const logs = readdirSync(dir).filter((f) => f.endsWith('.log') && (f.startsWith('embedded-') || f.startsWith('distributed-')));
    expect(logs.length).toBeGreaterThan(0);
    for (const file of logs) {
      const text = readFileSync(join(dir, file), 'utf8');
      expect(text, file).not.toContain('mock-key');
      expect(text, file).not.toContain('sk-rgw-');
      expect(text, file).not.toContain('test-admin-key');
    }
  });
});
