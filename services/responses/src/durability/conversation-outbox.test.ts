import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROJECT_ID as P, ApiError, createLogger, openDatabase, type Database } from '@rgw/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { newResponseObject } from '../response/response-object.js';
import { OutboxStore } from '../store/outbox-store.js';
import { ResponseStore } from '../store/response-store.js';
import { ConversationOutbox } from './conversation-outbox.js';

const log = createLogger('test', 'silent');
const CONV = 'conv_' + 'a'.repeat(48);

/** A Conversations API stand-in that can be down, and keeps items once per id as the idempotent mode does. */
function fakeConversations() {
  const items: string[] = [];
  const calls: { ids: string[]; idempotent?: boolean }[] = [];
  let down: ApiError | undefined;
  return {
    items,
    calls,
    fail: (err?: ApiError) => (down = err),
    api: {
      async appendItems(_id: string, batch: readonly unknown[], opts: { idempotent?: boolean } = {}) {
        const ids = batch.map((i) => (i as { id: string }).id);
        calls.push({ ids, idempotent: opts.idempotent });
        if (down) throw down;
        for (const id of ids) if (!items.includes(id)) items.push(id);
        return [];
      },
    },
  };
}

describe('ConversationOutbox', () => {
  let dir: string;
  let database: Database;
  let store: ResponseStore;
  let outboxStore: OutboxStore;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'responses-outbox-'));
    database = openDatabase({ dataDir: dir });
    store = new ResponseStore(database);
    await store.migrate();
    outboxStore = new OutboxStore(database);
  });

  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  /** A response finished `completed`, owing its items to CONV. */
  async function finished(id: string, itemIds: string[]): Promise<void> {
    const response = newResponseObject(id, { model: 'm' } as never, 1, 'in_progress');
    await store.insert(response, { body: {}, include: [] }, []);
    await store.finish({ ...response, status: 'completed' }, { project: P, ifStatus: ['in_progress'], outbox: { conversationId: CONV, items: itemIds.map((i) => ({ id: i })) } });
  }

  it('delivers in order, keeps later appends behind a failed one, and lands each item once after the service is back', async () => {
    const conv = fakeConversations();
    const outbox = new ConversationOutbox(outboxStore, conv.api, log);
    await finished('r1', ['a', 'b']);
    conv.fail(new ApiError(502, 'conversations service unreachable'));
    expect(await outbox.flush(CONV)).toBe(false);
    await finished('r2', ['c']);
    expect(await outbox.flush(CONV)).toBe(false);
    // r2 was never tried before r1 landed.
    expect(conv.calls.map((c) => c.ids)).toEqual([['a', 'b'], ['a', 'b']]);
    await expect(outbox.settle(CONV)).rejects.toMatchObject({ status: 503, code: 'conversation_append_pending' });

    conv.fail(undefined);
    // The first chunk of r1 landed before its reply was lost: the retry must not add it again.
    conv.items.push('a');
    await outbox.settle(CONV);
    expect(conv.items).toEqual(['a', 'b', 'c']);
    expect(conv.calls.every((c) => c.idempotent)).toBe(true);
    expect(await outboxStore.hasPending(P, CONV)).toBe(false);
  });

  it('retries in the background after a backoff, and drops an append to a deleted conversation', async () => {
    const conv = fakeConversations();
    const outbox = new ConversationOutbox(outboxStore, conv.api, log);
    await finished('r1', ['a']);
    conv.fail(new ApiError(503, 'down'));
    await outbox.flush(CONV);
    conv.fail(undefined);
    await outbox.poll();
    expect(conv.items).toEqual([]); // not due yet
    await database.db.updateTable('response_outbox').set({ next_attempt_at: 0 }).execute();
    await outbox.poll();
    expect(conv.items).toEqual(['a']);

    await finished('r2', ['b']);
    conv.fail(new ApiError(404, 'Conversation not found.'));
    expect(await outbox.flush(CONV)).toBe(true);
    expect(await outboxStore.hasPending(P, CONV)).toBe(false);
  });

  it("delivers each append as the principal of the response that owes it, and waits only for the caller's project's appends", async () => {
    const principal = { projectId: 'proj_a', keyId: 'key_a' };
    const response = newResponseObject('resp_a', { model: 'm' } as never, 1, 'in_progress');
    await store.insert(response, { body: {}, include: [], principal }, []);
    await store.finish({ ...response, status: 'completed' }, { project: 'proj_a', ifStatus: ['in_progress'], outbox: { conversationId: CONV, items: [{ id: 'i1' }], principal } });
    const signedAs: unknown[] = [];
    const api = {
      async appendItems(_id: string, _batch: readonly unknown[], opts: { principal?: unknown } = {}) {
        signedAs.push(opts.principal);
        throw new ApiError(503, 'down');
      },
    };
    const outbox = new ConversationOutbox(outboxStore, api, log);
    // Another project naming this conversation has nothing to wait for (and learns nothing).
    await outbox.settle(CONV, { principal: { projectId: 'proj_b' } });
    await outbox.settle(CONV);
    expect(signedAs).toEqual([]);
    await expect(outbox.settle(CONV, { principal })).rejects.toMatchObject({ status: 503 });
    expect(signedAs).toEqual([principal]);
  });
});
