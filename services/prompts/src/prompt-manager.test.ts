import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, migrate, openDatabase, type Database } from '@rgw/shared';
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

const update = (prompt: string, version: number, set_as_default = true) => ({ prompt, version, set_as_default });

describe('PromptManager', () => {
  it('writes latest + 1 and refuses a stale base version', async () => {
    const v1 = await manager.create('one', []);
    expect((await manager.update(v1.prompt_id, update('two', 1))).version).toBe(2);
    const stale = await rejection(manager.update(v1.prompt_id, update('again', 1)));
    expect(stale.status).toBe(400);
    expect(stale.param).toBe('version');
    expect((await rejection(manager.update(v1.prompt_id, update('ahead', 5)))).param).toBe('version');
    expect((await manager.listVersions(v1.prompt_id)).data.map((v) => v.version)).toEqual([1, 2]);
  });

  it('keeps exactly one default across updates and set-default', async () => {
    const { prompt_id: id } = await manager.create('one', []);
    await manager.update(id, update('two', 1, false));
    await manager.update(id, update('three', 2));
    const defaults = async () => (await manager.listVersions(id)).data.filter((v) => v.is_default).map((v) => v.version);
    expect(await defaults()).toEqual([3]);
    await manager.setDefaultVersion(id, 2);
    expect(await defaults()).toEqual([2]);
    expect((await manager.get(id)).prompt).toBe('two');
    expect((await manager.list()).data.find((p) => p.prompt_id === id)).toMatchObject({ version: 2, is_default: true });
    expect((await rejection(manager.setDefaultVersion(id, 4))).status).toBe(404);
  });

  it('serialises concurrent updates of one version: one winner, no duplicate versions', async () => {
    const { prompt_id: id } = await manager.create('base', []);
    const results = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => manager.update(id, update(`w${i}`, 1))));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect((await manager.listVersions(id)).data.map((v) => v.version)).toEqual([1, 2]);
  });

  it('deletes every version', async () => {
    const { prompt_id: id } = await manager.create('x', []);
    await manager.update(id, update('y', 1));
    await manager.delete(id);
    expect((await rejection(manager.get(id))).status).toBe(404);
    expect((await rejection(manager.get(id, 2))).param).toBe('prompt_id');
    expect(await database.db.selectFrom('prompt_versions').select('version').where('prompt_id', '=', id).execute()).toEqual([]);
    expect((await rejection(manager.delete(id))).status).toBe(404);
  });
});
