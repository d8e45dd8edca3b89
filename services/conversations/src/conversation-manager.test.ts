import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError, migrate, openDatabase, type Database, type RequestContext } from '@rgw/shared';
import { ConversationManager } from './conversation-manager.js';
import { CONVERSATION_MIGRATIONS } from './conversation-migrations.js';
import { ConversationStore } from './conversation-store.js';
import { validateInputItems } from './item-schema.js';
import { errorOf as rejection } from '../../../test/support/errors.js';

// The manager over a real SQLite store: cursors, ordering and the error cases that need a database.

// The open default project (no principal), as every call was before keys.
const ctx: RequestContext = { requestId: 'req_test' };

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
    const conv = await manager.create(ctx, texts(5), { a: 'b' });
    const none = new Set<never>();
    const first = await manager.listItems(ctx, conv.id, { limit: 2, order: 'asc' }, none);
    expect(first.data.map(textOf)).toEqual(['m0', 'm1']);
    expect(first.has_more).toBe(true);
    const second = await manager.listItems(ctx, conv.id, { limit: 2, order: 'asc', after: first.last_id! }, none);
    expect(second.data.map(textOf)).toEqual(['m2', 'm3']);
    const third = await manager.listItems(ctx, conv.id, { limit: 2, order: 'asc', after: second.last_id! }, none);
    expect(third.data.map(textOf)).toEqual(['m4']);
    expect(third.has_more).toBe(false);
    const desc = await manager.listItems(ctx, conv.id, { limit: 3, order: 'desc' }, none);
    expect(desc.data.map(textOf)).toEqual(['m4', 'm3', 'm2']);
    expect(desc.first_id).toBe(desc.data[0]!.id);
    const rest = await manager.listItems(ctx, conv.id, { limit: 3, order: 'desc', after: desc.last_id! }, none);
    expect(rest.data.map(textOf)).toEqual(['m1', 'm0']);
    expect(rest.has_more).toBe(false);
  });

  it('appends after existing items and refuses duplicate ids', async () => {
    const conv = await manager.create(ctx, texts(1), undefined);
    const added = await manager.addItems(ctx, conv.id, texts(2, 1), new Set());
    expect(added.data.map(textOf)).toEqual(['m1', 'm2']);
    const all = await manager.listItems(ctx, conv.id, { limit: 100, order: 'asc' }, new Set());
    expect(all.data.map(textOf)).toEqual(['m0', 'm1', 'm2']);
    const dup = validateInputItems([{ id: added.data[0]!.id, role: 'user', content: 'again' }], 'items');
    const err = await rejection(manager.addItems(ctx, conv.id, dup, new Set()));
    expect(err.status).toBe(400);
    expect(err.param).toBe('items[0].id');
    const twice = validateInputItems([{ id: 'msg_same', role: 'user', content: 'a' }, { id: 'msg_same', role: 'user', content: 'b' }], 'items');
    expect((await rejection(manager.addItems(ctx, conv.id, twice, new Set()))).param).toBe('items[1].id');
  });

  it('resolves item references to a copy under a new id', async () => {
    const conv = await manager.create(ctx, texts(1), undefined);
    const [original] = (await manager.listItems(ctx, conv.id, { limit: 1, order: 'asc' }, new Set())).data;
    const added = await manager.addItems(ctx, conv.id, validateInputItems([{ type: 'item_reference', id: original!.id }], 'items'), new Set());
    expect(added.data[0]).toMatchObject({ type: 'message', content: original!.content });
    expect(added.data[0]!.id).not.toBe(original!.id);
    const missing = await rejection(manager.addItems(ctx, conv.id, validateInputItems([{ id: 'msg_nope' }], 'items'), new Set()));
    expect(missing.status).toBe(404);
  });

  it('answers unknown conversations, items and cursors', async () => {
    expect((await rejection(manager.get(ctx, 'conv_missing'))).status).toBe(404);
    const conv = await manager.create(ctx, [], undefined);
    expect((await rejection(manager.getItem(ctx, conv.id, 'msg_missing', new Set()))).status).toBe(404);
    expect((await rejection(manager.deleteItem(ctx, conv.id, 'msg_missing'))).status).toBe(404);
    const cursor = await rejection(manager.listItems(ctx, conv.id, { limit: 2, order: 'asc', after: 'msg_missing' }, new Set()));
    expect(cursor.param).toBe('after');
  });

  it('deletes a conversation with its items', async () => {
    const conv = await manager.create(ctx, texts(2), undefined);
    expect(await manager.delete(ctx, conv.id)).toEqual({ id: conv.id, object: 'conversation.deleted', deleted: true });
    expect((await rejection(manager.listItems(ctx, conv.id, { limit: 2, order: 'asc' }, new Set()))).status).toBe(404);
    const left = await database.db.selectFrom('conversation_items').select('id').where('conversation_id', '=', conv.id).execute();
    expect(left).toEqual([]);
  });
});

describe('ConversationManager isolation', () => {
  it("answers another project's conversation, items and references as unknown (404, never 403)", async () => {
    const a: RequestContext = { requestId: 'req_a', principal: { projectId: 'proj_a' } };
    const b: RequestContext = { requestId: 'req_b', principal: { projectId: 'proj_b' } };
    const conv = await manager.create(a, texts(2), { owner: 'a' });
    const [first] = (await manager.listItems(a, conv.id, { limit: 1, order: 'asc' }, new Set())).data;
    const notFound = async (p: Promise<unknown>, param = 'conversation_id') => {
      const err = await rejection(p);
      expect(err).toBeInstanceOf(ApiError);
      expect(err.status).toBe(404);
      expect(err.param).toBe(param);
    };
    await notFound(manager.get(b, conv.id));
    await notFound(manager.update(b, conv.id, { owner: 'b' }));
    await notFound(manager.listItems(b, conv.id, { limit: 10, order: 'asc' }, new Set()));
    await notFound(manager.getItem(b, conv.id, first!.id, new Set()));
    await notFound(manager.deleteItem(b, conv.id, first!.id));
    await notFound(manager.addItems(b, conv.id, texts(1), new Set()));
    await notFound(manager.delete(b, conv.id));
    // An item_reference to A's item, from B's own conversation.
    const own = await manager.create(b, [], undefined);
    await notFound(manager.addItems(b, own.id, validateInputItems([{ type: 'item_reference', id: first!.id }], 'items'), new Set()), 'items[0].id');
    await notFound(manager.create(b, validateInputItems([{ type: 'item_reference', id: first!.id }], 'items'), undefined), 'items[0].id');
    // A's conversation as B's list cursor is refused exactly as an unknown one.
    const unknown = await rejection(manager.list(b, { limit: 5, order: 'desc', after: 'conv_unknown' }));
    const foreign = await rejection(manager.list(b, { limit: 5, order: 'desc', after: conv.id }));
    expect({ status: foreign.status, param: foreign.param, code: foreign.code }).toEqual({ status: unknown.status, param: unknown.param, code: unknown.code });
    expect((await manager.list(b, { limit: 100, order: 'desc' })).data.map((c) => c.id)).toEqual([own.id]);
    // Untouched.
    expect((await manager.get(a, conv.id)).metadata).toEqual({ owner: 'a' });
    expect((await manager.listItems(a, conv.id, { limit: 10, order: 'asc' }, new Set())).data).toHaveLength(2);
  });
});
