import LlamaStackClient, { APIError, BadRequestError, NotFoundError } from 'llama-stack-client';
import { describe, expect, it } from 'vitest';
import { platforms } from '../support/context.js';
import { errorOf as rejection } from '../support/errors.js';
import { authFetch, TEST_KEY } from '../support/auth.js';

const PROMPT_ID = /^pmpt_[0-9a-f]{48}$/;
const UNKNOWN_ID = `pmpt_${'0'.repeat(48)}`;

/** The OpenAI envelope as llama-stack-client keeps it (the whole body in `error`). */
function envelope(err: APIError): { message: string; type: string; param: string | null; code: string | null } {
  return (err.error as { error: { message: string; type: string; param: string | null; code: string | null } }).error;
}

describe.each(platforms)('prompts through llama-stack-client ($mode)', (p) => {
  const client = new LlamaStackClient({ baseURL: p.origin, apiKey: TEST_KEY, maxRetries: 0 });

  it('creates version 1 as the default and retrieves it', async () => {
    const created = await client.prompts.create({ prompt: 'Hello {{name}}, welcome to {{ place }}.', variables: ['name', 'place'] });
    expect(created).toEqual({ prompt_id: expect.stringMatching(PROMPT_ID), prompt: 'Hello {{name}}, welcome to {{ place }}.', version: 1, variables: ['name', 'place'], is_default: true });
    expect(await client.prompts.retrieve(created.prompt_id)).toEqual(created);
    expect(await client.prompts.retrieve(created.prompt_id, { version: 1 })).toEqual(created);
    const plain = await client.prompts.create({ prompt: 'No variables here.' });
    expect(plain.variables).toEqual([]);
  });

  it('versions a prompt: update from the latest, stale updates refused, default moved, versions ascending', async () => {
    const v1 = await client.prompts.create({ prompt: 'v1 {{a}}', variables: ['a'] });
    const id = v1.prompt_id;
    const v2 = await client.prompts.update(id, { prompt: 'v2 {{a}} {{b}}', version: 1, variables: ['a', 'b'] });
    expect(v2).toEqual({ prompt_id: id, prompt: 'v2 {{a}} {{b}}', version: 2, variables: ['a', 'b'], is_default: true });

    const stale = await rejection(client.prompts.update(id, { prompt: 'lost write', version: 1, variables: [] }));
    expect(stale).toBeInstanceOf(BadRequestError);
    expect(envelope(stale)).toMatchObject({ param: 'version', code: 'stale_version', type: 'invalid_request_error' });

    const v3 = await client.prompts.update(id, { prompt: 'v3 draft', version: 2, set_as_default: false });
    expect(v3).toMatchObject({ version: 3, is_default: false, variables: [] });
    expect((await client.prompts.retrieve(id)).version).toBe(2);
    expect(await client.prompts.retrieve(id, { version: 3 })).toEqual(v3);

    const versions = await client.prompts.versions.list(id);
    expect(versions.map((v) => v.version)).toEqual([1, 2, 3]);
    expect(versions.filter((v) => v.is_default).map((v) => v.version)).toEqual([2]);

    const promoted = await client.prompts.setDefaultVersion(id, { version: 3 });
    expect(promoted).toEqual({ ...v3, is_default: true });
    expect((await client.prompts.retrieve(id)).version).toBe(3);
    const after = await client.prompts.versions.list(id);
    expect(after.filter((v) => v.is_default).map((v) => v.version)).toEqual([3]);
    expect(await client.prompts.setDefaultVersion(id, { version: 1 })).toMatchObject({ version: 1, is_default: true });
    expect((await client.prompts.update(id, { prompt: 'v4', version: 3 })).version).toBe(4);
  });

  it('lets exactly one of several concurrent updates of the same version win', async () => {
    const { prompt_id: id } = await client.prompts.create({ prompt: 'base' });
    const attempts = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => client.prompts.update(id, { prompt: `writer ${i}`, version: 1 })));
    const won = attempts.filter((a) => a.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const lost of attempts.filter((a) => a.status === 'rejected')) expect((lost as PromiseRejectedResult).reason).toBeInstanceOf(BadRequestError);
    const versions = await client.prompts.versions.list(id);
    expect(versions.map((v) => v.version)).toEqual([1, 2]);
  });

  it('lists the default version of every prompt', async () => {
    const a = await client.prompts.create({ prompt: 'list A' });
    const b = await client.prompts.create({ prompt: 'list B' });
    await client.prompts.update(b.prompt_id, { prompt: 'list B2', version: 1 });
    await client.prompts.update(b.prompt_id, { prompt: 'list B3', version: 2, set_as_default: false });
    const all = await client.prompts.list();
    expect(all.find((x) => x.prompt_id === a.prompt_id)).toEqual(a);
    expect(all.find((x) => x.prompt_id === b.prompt_id)).toMatchObject({ prompt: 'list B2', version: 2, is_default: true });
    expect(all.every((x) => x.is_default)).toBe(true);
    expect(new Set(all.map((x) => x.prompt_id)).size).toBe(all.length);
  });

  it('deletes every version of a prompt', async () => {
    const { prompt_id: id } = await client.prompts.create({ prompt: 'doomed' });
    await client.prompts.update(id, { prompt: 'doomed 2', version: 1 });
    const res = await authFetch(`${p.origin}/v1/prompts/${id}`, { method: 'DELETE' });
    expect(res.status).toBe(204);
    expect(await res.text()).toBe('');
    expect(await rejection(client.prompts.retrieve(id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.prompts.retrieve(id, { version: 2 }))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.prompts.versions.list(id))).toBeInstanceOf(NotFoundError);
    expect(await rejection(client.prompts.delete(id))).toBeInstanceOf(NotFoundError);
    const other = await client.prompts.create({ prompt: 'deleted through the client' });
    await client.prompts.delete(other.prompt_id);
    expect(await rejection(client.prompts.retrieve(other.prompt_id))).toBeInstanceOf(NotFoundError);
  });

  describe('errors', () => {
    it('refuses placeholders that are not declared, naming variables', async () => {
      const err = await rejection(client.prompts.create({ prompt: 'Hi {{name}} from {{city}}', variables: ['name'] }));
      expect(err).toBeInstanceOf(BadRequestError);
      expect(envelope(err)).toMatchObject({ param: 'variables', code: 'undeclared_prompt_variable' });
      expect(envelope(err).message).toContain("'city'");
      expect(envelope(await rejection(client.prompts.create({ prompt: 'x', variables: ['ok', '1bad'] }))).param).toBe('variables[1]');
      expect(envelope(await rejection(client.prompts.create({ prompt: 'x', variables: ['a', 'a'] }))).param).toBe('variables[1]');
      const { prompt_id: id } = await client.prompts.create({ prompt: 'fine' });
      expect(envelope(await rejection(client.prompts.update(id, { prompt: 'now {{x}}', version: 1 }))).param).toBe('variables');
    });

    it('answers unknown prompts and versions with 404 in the OpenAI envelope', async () => {
      const missing = await rejection(client.prompts.retrieve(UNKNOWN_ID));
      expect(missing).toBeInstanceOf(NotFoundError);
      expect(envelope(missing)).toMatchObject({ type: 'invalid_request_error', param: 'prompt_id', code: 'not_found' });
      const { prompt_id: id } = await client.prompts.create({ prompt: 'one version' });
      const noVersion = await rejection(client.prompts.retrieve(id, { version: 9 }));
      expect(noVersion).toBeInstanceOf(NotFoundError);
      expect(envelope(noVersion).param).toBe('version');
      expect(await rejection(client.prompts.setDefaultVersion(id, { version: 2 }))).toBeInstanceOf(NotFoundError);
      expect(await rejection(client.prompts.setDefaultVersion(UNKNOWN_ID, { version: 1 }))).toBeInstanceOf(NotFoundError);
      expect(await rejection(client.prompts.update(UNKNOWN_ID, { prompt: 'x', version: 1 }))).toBeInstanceOf(NotFoundError);
      expect(await rejection(client.prompts.versions.list(UNKNOWN_ID))).toBeInstanceOf(NotFoundError);
    });

    it('answers malformed ids, versions and bodies with 400 naming the param', async () => {
      expect(envelope(await rejection(client.prompts.retrieve('not-a-prompt'))).param).toBe('prompt_id');
      const { prompt_id: id } = await client.prompts.create({ prompt: 'p' });
      expect(envelope(await rejection(client.prompts.retrieve(id, { version: 0 }))).param).toBe('version');
      expect(envelope(await rejection(client.prompts.update(id, { prompt: 'p', version: 0 }))).param).toBe('version');
      expect(envelope(await rejection(client.prompts.create({} as never))).param).toBe('prompt');
      expect(envelope(await rejection(client.prompts.create({ prompt: 'p', colour: 'red' } as never))).param).toBe('colour');
      expect(envelope(await rejection(client.prompts.setDefaultVersion(id, {} as never))).param).toBe('version');
      // Past a 32-bit integer: a 400 naming version, never a database error.
      const huge = 3_000_000_000;
      for (const call of [client.prompts.retrieve(id, { version: huge }), client.prompts.setDefaultVersion(id, { version: huge }), client.prompts.update(id, { prompt: 'p', version: huge })]) {
        const err = await rejection(call);
        expect(err).toBeInstanceOf(BadRequestError);
        expect(envelope(err)).toMatchObject({ param: 'version', code: 'invalid_value' });
      }
      const res = await authFetch(`${p.origin}/v1/prompts?version=abc`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[1,2]' });
      expect(res.status).toBe(400);
    });
  });
});
