import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_PROJECT_ID, migrate, newId, openDatabase, type Database } from '@rgw/shared';
import { CONVERSATION_MIGRATIONS } from './conversation-migrations.js';
import { ConversationStore } from './conversation-store.js';
import type { ConversationItem } from './item-normalize.js';

const P = DEFAULT_PROJECT_ID;

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
    await store.create(P, { id, created_at: 1, metadata: {} }, [a]);
    await expect(store.appendItems(P, id, [b, a], 2)).rejects.toMatchObject({ itemId: a.id });
    // A retried append whose first part landed: the rest is added, nothing twice.
    expect(await store.appendItems(P, id, [a, b, c], 2, { skipExisting: true })).toBe(true);
    expect(await store.appendItems(P, id, [a, b, c], 3, { skipExisting: true })).toBe(true);
    const listed = await store.listItems(P, id, { limit: 10, order: 'asc' });
    expect(listed!.map((i) => i.id)).toEqual([a.id, b.id, c.id]);
  });

  it('locks a conversation that already has items (the key it touches is referenced) and appends in order', async () => {
    const id = newId('conversation');
    await store.create(P, { id, created_at: 1, metadata: {} }, [item('a')]);
    expect(await store.appendItems(P, id, [item('b'), item('c')], 2)).toBe(true);
    const listed = await store.listItems(P, id, { limit: 10, order: 'asc' });
    expect(listed!.map((i) => (i.content as { text: string }[])[0]!.text)).toEqual(['a', 'b', 'c']);
    expect((await store.get(P, id))!.metadata).toEqual({});
  });

  it('answers false, writing nothing, for an unknown or deleted conversation', async () => {
    const missing = newId('conversation');
    expect(await store.appendItems(P, missing, [item('x')], 1)).toBe(false);
    expect(await store.listItems(P, missing, { limit: 10, order: 'asc' })).toEqual([]);

    const id = newId('conversation');
    await store.create(P, { id, created_at: 1, metadata: {} }, []);
    expect(await store.delete(P, id)).toBe(true);
    expect(await store.appendItems(P, id, [item('y')], 2)).toBe(false);
  });
});

describe('ConversationStore isolation', () => {
  it("keeps each project to its own conversations, items and cursors", async () => {
    const [A, B] = ['proj_a', 'proj_b'];
    const mine = newId('conversation');
    const shared = item('mine');
    await store.create(A, { id: mine, created_at: 1, metadata: { k: 'v' } }, [shared]);
    const theirs = newId('conversation');
    await store.create(B, { id: theirs, created_at: 1, metadata: {} }, [item('theirs')]);
    const page = { limit: 100, order: 'asc' as const };

    expect(await store.get(B, mine)).toBeUndefined();
    expect(await store.updateMetadata(B, mine, { x: 'y' })).toBeUndefined();
    expect(await store.appendItems(B, mine, [item('intruder')], 2)).toBe(false);
    expect(await store.appendItems(B, mine, [item('intruder')], 2, { skipExisting: true })).toBe(false);
    expect(await store.listItems(B, mine, page)).toEqual([]);
    expect(await store.getItem(B, mine, shared.id)).toBeUndefined();
    expect(await store.findItem(B, shared.id)).toBeUndefined();
    expect(await store.deleteItem(B, mine, shared.id)).toBe(false);
    expect(await store.delete(B, mine)).toBe(false);
    // Another project's conversation as a cursor is as unknown as a made-up one.
    expect(await store.list(B, { ...page, after: mine })).toBeNull();
    expect(await store.listItems(B, theirs, { ...page, after: shared.id })).toBeNull();
    expect((await store.list(B, page))!.map((c) => c.id)).toEqual([theirs]);
    expect((await store.list(A, page))!.map((c) => c.id)).toEqual([mine]);
    expect((await store.list(P, page))!.map((c) => c.id)).not.toContain(mine);

    // A's conversation is untouched by all of the above.
    expect((await store.get(A, mine))!.metadata).toEqual({ k: 'v' });
    expect((await store.listItems(A, mine, page))!.map((i) => i.id)).toEqual([shared.id]);
    expect(await store.findItem(A, shared.id)).toMatchObject({ id: shared.id });
    // The same client-chosen item id in both projects' conversations: neither sees the other's.
    expect(await store.appendItems(B, theirs, [shared], 3)).toBe(true);
    expect(await store.deleteItem(B, theirs, shared.id)).toBe(true);
    expect(await store.getItem(A, mine, shared.id)).toMatchObject({ id: shared.id });
  });
});
