import { NotFoundError } from 'openai';
import { describe, expect, it } from 'vitest';
import { openai, platforms } from '../support/context.js';
import { authFetch } from '../support/auth.js';

describe.each(platforms)('models ($mode)', (p) => {
  const client = openai(p);

  it('lists the provider models in the OpenAI shape', async () => {
    const page = await client.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toEqual(expect.arrayContaining(['mock-model', 'mock-embed']));
    for (const m of page.data) {
      expect(m).toMatchObject({ object: 'model', id: expect.any(String), created: expect.any(Number), owned_by: expect.any(String) });
    }
  });

  it('retrieves a model by plain and provider-qualified id', async () => {
    expect(await client.models.retrieve('mock-model')).toMatchObject({ id: 'mock-model', object: 'model' });
    expect(await client.models.retrieve('default/mock-model')).toMatchObject({ id: 'default/mock-model', object: 'model' });
    // Qualified ids work even for models only one provider offers, and only for models it offers.
    expect(await client.models.retrieve('offline/offline-model')).toMatchObject({ id: 'offline/offline-model', owned_by: 'offline' });
    await expect(client.models.retrieve('default/ghost')).rejects.toBeInstanceOf(NotFoundError);
  });

  it('takes ids with reserved characters literally', async () => {
    const res = await authFetch(`${p.baseURL}/models/100%25`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toContain("'100%'");
  });

  it('answers an unknown model with NotFoundError and code model_not_found', async () => {
    const err = await client.models.retrieve('no-such-model').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect((err as NotFoundError).code).toBe('model_not_found');
  });
});
