import { beforeEach, describe, expect, it } from 'vitest';
import { SERVICE_MANIFEST } from '@rgw/shared';
import { mock, openai, platforms } from '../support/context.js';

describe.each(platforms)('health and provider merging ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it.each(['/health', '/v1/health'])('GET %s reports each dependency', async (path) => {
    const res = await fetch(`${p.origin}${path}`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as any;
    expect(body.status).toBe('OK');
    const expected = p.mode === 'embedded' ? ['sqlite', 'memory', 'database'] : ['postgres', 'redis', 'amqp'];
    expect([body.dependencies.database.kind, body.dependencies.cache.kind, body.dependencies.queue.kind]).toEqual(expected);
    expect(body.dependencies.providers.default.status).toBe('OK');
    // A provider that is down is reported, but does not make the platform unhealthy.
    expect(body.dependencies.providers.offline.status).toBe('Error');
    if (p.mode === 'distributed') {
      expect(Object.keys(body.dependencies.services).sort()).toEqual(SERVICE_MANIFEST.map((s) => s.name).sort());
      for (const s of Object.values(body.dependencies.services)) expect(s).toMatchObject({ status: 'OK' });
    }
  });

  it('lists a model offered by two providers under both qualified ids, and static models of a down provider', async () => {
    const ids = (await client.models.list()).data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['mock-model', 'default/mock-model', 'mirror/mock-model', 'offline-model']));
    expect(ids.filter((id) => id === 'mock-model')).toHaveLength(1);
  });

  it('answers a down provider with a 502 naming it', async () => {
    const err = await client.chat.completions.create({ model: 'offline-model', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err.status).toBe(502);
    expect(err.message).toContain("'offline'");
    expect(err.code).toBe('upstream_unreachable');
  });
});
