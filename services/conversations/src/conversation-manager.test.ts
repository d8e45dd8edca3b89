import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, migrate, openDatabase, type Database } from '@rgw/shared';
import { ConversationManager } from './conversation-manager.js';
import { CONVERSATION_MIGRATIONS } from './conversation-migrations.js';
import { ConversationStore } from './conversation-store.js';
import { validateInputItems } from './item-schema.js';
import { errorOf as rejection } from '../../../test/support/errors.js';

// The manager over a real SQLite store: cursors, ordering and the error cases that need a database.

let dir: string;
let database: Database;
let manager: ConversationManager;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'rgw-conv-unit-'));
  database = openDatabase({ dataDir: dir, databaseUrl: undefined });
  await migrate(database, 'conversations', CONVERSATION_MIGRATIONS);
  manager = new ConversationManager(new ConversationStore(database));
});

afterAll(async () => {
  await database.close();
  rmSync(dir, { recursive: true, force: true });
});

const texts = (n: number, from = 0) => validateInputItems(Array.from({ length: n }, (_, i) => ({ role: 'user', content: `m${from + i}` })), 'items');
const textOf = (item: Record<string, unknown>) => (item.content as { text: string }[])[0]!.text;

describe('ConversationManager', () => {
  it('pages items in both orders with real cursors', async () => {
    const conv = await manager.create(texts(5), { a: 'b' });
    const none = new Set<never>();
    const first = await manager.listItems(conv.id, { limit: 2, order: 'asc' }, none);
    expect(first.data.map(textOf)).toEqual(['m0', 'm1']);
    expect(first.has_more).toBe(true);
    const second = await manager.listItems(conv.id, { limit: 2, order: 'asc', after: first.last_id! }, none);
    expect(second.data.map(textOf)).toEqual(['m2', 'm3']);
    const third = await manager.listItems(conv.id, { limit: 2, order: 'asc', after: second.last_id! }, none);
    expect(third.data.map(textOf)).toEqual(['m4']);
    expect(third.has_more).toBe(false);
    const desc = await manager.listItems(conv.id, { limit: 3, order: 'desc' }, none);
    expect(desc.data.map(textOf)).toEqual(['m4', 'm3', 'm2']);
    expect(desc.first_id).toBe(desc.data[0]!.id);
    const rest = await manager.listItems(conv.id, { limit: 3, order: 'desc', after: desc.last_id! }, none);
    expect(rest.data.map(textOf)).toEqual(['m1', 'm0']);
    expect(rest.has_more).toBe(false);
  });

  it('appends after existing items and refuses duplicate ids', async () => {
    const conv = await manager.create(texts(1), undefined);
    const added = await manager.addItems(conv.id, texts(2, 1), new Set());
    expect(added.data.map(textOf)).toEqual(['m1', 'm2']);
    const all = await manager.listItems(conv.id, { limit: 100, order: 'asc' }, new Set());
    expect(all.data.map(textOf)).toEqual(['m0', 'm1', 'm2']);
    const dup = validateInputItems([{ id: added.data[0]!.id, role: 'user', content: 'again' }], 'items');
    const err = await rejection(manager.addItems(conv.id, dup, new Set()));
    expect(err.status).toBe(400);
    expect(err.param).toBe('items[0].id');
    const twice = validateInputItems([{ id: 'msg_same', role: 'user', content: 'a' }, { id: 'msg_same', role: 'user', content: 'b' }], 'items');
    expect((await rejection(manager.addItems(conv.id, twice, new Set()))).param).toBe('items[1].id');
  });

  it('resolves item references to a copy under a new id', async () => {
    const conv = await manager.create(texts(1), undefined);
    const [original] = (await manager.listItems(conv.id, { limit: 1, order: 'asc' }, new Set())).data;
    const added = await manager.addItems(conv.id, validateInputItems([{ type: 'item_reference', id: original!.id }], 'items'), new Set());
    expect(added.data[0]).toMatchObject({ type: 'message', content: original!.content });
    expect(added.data[0]!.id).not.toBe(original!.id);
    const missing = await rejection(manager.addItems(conv.id, validateInputItems([{ id: 'msg_nope' }], 'items'), new Set()));
    expect(missing.status).toBe(404);
  });

  it('answers unknown conversations, items and cursors', async () => {
    expect((await rejection(manager.get('conv_missing'))).status).toBe(404);
    const conv = await manager.create([], undefined);
    expect((await rejection(manager.getItem(conv.id, 'msg_missing', new Set()))).status).toBe(404);
    expect((await rejection(manager.deleteItem(conv.id, 'msg_missing'))).status).toBe(404);
    const cursor = await rejection(manager.listItems(conv.id, { limit: 2, order: 'asc', after: 'msg_missing' }, new Set()));
    expect(cursor.param).toBe('after');
  });

  it('deletes a conversation with its items', async () => {
    const conv = await manager.create(texts(2), undefined);
    expect(await manager.delete(conv.id)).toEqual({ id: conv.id, object: 'conversation.deleted', deleted: true });
    expect((await rejection(manager.listItems(conv.id, { limit: 2, order: 'asc' }, new Set()))).status).toBe(404);
    const left = await database.db.selectFrom('conversation_items').select('id').where('conversation_id', '=', conv.id).execute();
    expect(left).toEqual([]);
  });
});
