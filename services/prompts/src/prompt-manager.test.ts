import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, migrate, type RequestContext, openDatabase, type Database } from '@rgw/shared';
import { PromptManager } from './prompt-manager.js';
import { PROMPT_MIGRATIONS } from './prompt-migrations.js';
import { PromptStore } from './prompt-store.js';
import { errorOf as rejection } from '../../../test/support/errors.js';

// The manager over a real SQLite store: the versioning rules that need a database.

let dir: string;
let database: Database;
let manager: PromptManager;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rgw-prompts-unit-'));
  database = openDatabase({ dataDir: dir, databaseUrl: undefined });
  await migrate(database, 'prompts', PROMPT_MIGRATIONS);
  manager = new PromptManager(new PromptStore(database));
});

afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

// The open default project (no principal), as every call was before keys.
const ctx: RequestContext = { requestId: 'req_test' };

const update = (prompt: string, version: number, set_as_default = true) => ({ prompt, version, set_as_default });

describe('PromptManager', () => {
  it('writes latest + 1 and refuses a stale base version', async () => {
    const v1 = await manager.create(ctx, 'one', []);
    expect((await manager.update(ctx, v1.prompt_id, update('two', 1))).version).toBe(2);
    const stale = await rejection(manager.update(ctx, v1.prompt_id, update('again', 1)));
    expect(stale.status).toBe(400);
    expect(stale.param).toBe('version');
    expect((await rejection(manager.update(ctx, v1.prompt_id, update('ahead', 5)))).param).toBe('version');
    expect((await manager.listVersions(ctx, v1.prompt_id)).data.map((v) => v.version)).toEqual([1, 2]);
  });

  it('keeps exactly one default across updates and set-default', async () => {
    const { prompt_id: id } = await manager.create(ctx, 'one', []);
    await manager.update(ctx, id, update('two', 1, false));
    await manager.update(ctx, id, update('three', 2));
    const defaults = async () => (await manager.listVersions(ctx, id)).data.filter((v) => v.is_default).map((v) => v.version);
    expect(await defaults()).toEqual([3]);
    await manager.setDefaultVersion(ctx, id, 2);
    expect(await defaults()).toEqual([2]);
    expect((await manager.get(ctx, id)).prompt).toBe('two');
    expect((await manager.list(ctx)).data.find((p) => p.prompt_id === id)).toMatchObject({ version: 2, is_default: true });
    expect((await rejection(manager.setDefaultVersion(ctx, id, 4))).status).toBe(404);
  });

  it('serialises concurrent updates of one version: one winner, no duplicate versions', async () => {
    const { prompt_id: id } = await manager.create(ctx, 'base', []);
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => manager.update(ctx, id, update(`w${i}`, 1))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await manager.listVersions(ctx, id)).data.map((v) => v.version)).toEqual([1, 2]);
  });

  it('deletes every version', async () => {
    const { prompt_id: id } = await manager.create(ctx, 'x', []);
    await manager.update(ctx, id, update('y', 1));
    await manager.delete(ctx, id);
    expect((await rejection(manager.get(ctx, id))).status).toBe(404);
    expect((await rejection(manager.get(ctx, id, 2))).param).toBe('prompt_id');
    expect(await database.db.selectFrom('prompt_versions').select('version').where('prompt_id', '=', id).execute()).toEqual([]);
    expect((await rejection(manager.delete(ctx, id))).status).toBe(404);
  });

  it("keeps each project to its own prompts: another project's prompt is a 404 for every operation", async () => {
    const a: RequestContext = { requestId: 'req_a', principal: { projectId: 'proj_a' } };
    const b: RequestContext = { requestId: 'req_b', principal: { projectId: 'proj_b' } };
    const mine = await manager.create(a, 'A {{x}}', ['x']);
    const theirs = await manager.create(b, 'B', []);
    const notFound = async (p: Promise<unknown>) => {
      const err = await rejection(p);
      expect(err).toBeInstanceOf(ApiError);
      expect(err.status).toBe(404);
      expect(err.param).toBe('prompt_id');
    };
    await notFound(manager.get(b, mine.prompt_id));
    await notFound(manager.get(b, mine.prompt_id, 1));
    await notFound(manager.listVersions(b, mine.prompt_id));
    await notFound(manager.update(b, mine.prompt_id, update('hijack', 1)));
    await notFound(manager.setDefaultVersion(b, mine.prompt_id, 1));
    await notFound(manager.delete(b, mine.prompt_id));
    const listedByB = (await manager.list(b)).data.map((p) => p.prompt_id);
    expect(listedByB).toEqual([theirs.prompt_id]);
    expect((await manager.list(a)).data.map((p) => p.prompt_id)).toEqual([mine.prompt_id]);
    // The open default project sees neither.
    const open = (await manager.list(ctx)).data.map((p) => p.prompt_id);
    expect(open).not.toContain(mine.prompt_id);
    expect(open).not.toContain(theirs.prompt_id);
    // Untouched by B's attempts.
    expect(await manager.listVersions(a, mine.prompt_id)).toMatchObject({ data: [{ version: 1, prompt: 'A {{x}}', is_default: true }] });
    await manager.delete(a, mine.prompt_id);
    await notFound(manager.get(a, mine.prompt_id));
    expect((await manager.get(b, theirs.prompt_id)).prompt).toBe('B');
  });
});
