import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, newId, openDatabase, type Database } from '@rgw/shared';
import { CONVERSATION_MIGRATIONS } from './conversation-migrations.js';
import { ConversationStore } from './conversation-store.js';
import type { ConversationItem } from './item-normalize.js';

let dir: string;
let database: Database;
let store: ConversationStore;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rgw-conv-store-'));
  database = openDatabase({ dataDir: dir, databaseUrl: undefined });
  await migrate(database, 'conversations', CONVERSATION_MIGRATIONS);
  store = new ConversationStore(database);
});

afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

const item = (text: string): ConversationItem => ({ id: newId('message'), type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text }] });

describe('ConversationStore.appendItems', () => {
  it('refuses an item already in the conversation, and skips it in the internal idempotent mode', async () => {
    const id = newId('conversation');
    const [a, b, c] = [item('a'), item('b'), item('c')];
    await store.create({ id, created_at: 1, metadata: {} }, [a]);
    await expect(store.appendItems(id, [b, a], 2)).rejects.toMatchObject({ itemId: a.id });
    // A retried append whose first part landed: the rest is added, nothing twice.
    expect(await store.appendItems(id, [a, b, c], 2, { skipExisting: true })).toBe(true);
    expect(await store.appendItems(id, [a, b, c], 3, { skipExisting: true })).toBe(true);
    const listed = await store.listItems(id, { limit: 10, order: 'asc' });
    expect(listed!.map((i) => i.id)).toEqual([a.id, b.id, c.id]);
  });

  it('locks a conversation that already has items (the key it touches is referenced) and appends in order', async () => {
    const id = newId('conversation');
    await store.create({ id, created_at: 1, metadata: {} }, [item('a')]);
    expect(await store.appendItems(id, [item('b'), item('c')], 2)).toBe(true);
    const listed = await store.listItems(id, { limit: 10, order: 'asc' });
    expect(listed!.map((i) => (i.content as { text: string }[])[0]!.text)).toEqual(['a', 'b', 'c']);
    expect((await store.get(id))!.metadata).toEqual({});
  });

  it('answers false, writing nothing, for an unknown or deleted conversation', async () => {
    const missing = newId('conversation');
    expect(await store.appendItems(missing, [item('x')], 1)).toBe(false);
    expect(await store.listItems(missing, { limit: 10, order: 'asc' })).toEqual([]);

    const id = newId('conversation');
    await store.create({ id, created_at: 1, metadata: {} }, []);
    expect(await store.delete(id)).toBe(true);
    expect(await store.appendItems(id, [item('y')], 2)).toBe(false);
  });
});
