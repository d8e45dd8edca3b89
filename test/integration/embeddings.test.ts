import { BadRequestError, NotFoundError } from 'openai';
import { beforeEach, describe, expect, it } from 'vitest';
import { mock, openai, platforms } from '../support/context.js';
import { fakeEmbedding } from '../support/mock-model-server.js';
import { authFetch } from '../support/auth.js';

const close = (a: number[], b: number[]) => a.length === b.length && a.every((v, i) => Math.abs(v - b[i]!) < 1e-6);

describe.each(platforms)('embeddings ($mode)', (p) => {
  const client = openai(p);
  beforeEach(() => mock.reset());

  it('returns base64 embeddings (the SDK default) that decode to the model server floats', async () => {
    const res = await client.embeddings.create({ model: 'mock-embed', input: ['alpha', 'beta'] });
    expect(res.object).toBe('list');
    expect(res.data).toHaveLength(2);
    expect(res.data.map((d) => [d.object, d.index])).toEqual([['embedding', 0], ['embedding', 1]]);
    expect(res.usage).toMatchObject({ prompt_tokens: expect.any(Number), total_tokens: expect.any(Number) });
    expect(close(res.data[0]!.embedding, fakeEmbedding('"alpha"', 8))).toBe(true);
    expect(close(res.data[1]!.embedding, fakeEmbedding('"beta"', 8))).toBe(true);
    const [sent] = await mock.requests('/v1/embeddings');
    expect(sent!.body.encoding_format).toBe('float');
  });

  it('returns float embeddings when asked', async () => {
    const res = await client.embeddings.create({ model: 'mock-embed', input: 'alpha', encoding_format: 'float', dimensions: 4 });
    expect(res.data[0]!.embedding).toEqual(fakeEmbedding('"alpha"', 4));
  });

  it('returns a base64 string on the wire when asked for base64', async () => {
    const raw = await authFetch(`${p.baseURL}/embeddings`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'mock-embed', input: 'alpha', encoding_format: 'base64' }),
    });
    const body = (await raw.json()) as any;
    expect(typeof body.data[0].embedding).toBe('string');
    const buf = Buffer.from(body.data[0].embedding, 'base64');
    expect(buf.length).toBe(8 * 4);
  });

  it('rejects a bad input and an unknown model with typed errors', async () => {
    const bad = await client.embeddings.create({ model: 'mock-embed', input: [] as string[] }).catch((e) => e);
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad.param).toBe('input');
    const blank = await client.embeddings.create({ model: 'mock-embed', input: '' }).catch((e) => e);
    expect(blank).toBeInstanceOf(BadRequestError);
    expect(blank.param).toBe('input');
    const missing = await client.embeddings.create({ model: 'nope-embed', input: 'x' }).catch((e) => e);
    expect(missing).toBeInstanceOf(NotFoundError);
  });
});
