import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROJECT_ID as P, createLogger, openDatabase, type Database } from '@rgw/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PreparedRequest } from '../request/prepare-request.js';
import { newResponseObject } from '../response/response-object.js';
import { OutboxStore } from '../store/outbox-store.js';
import { ResponseStore } from '../store/response-store.js';
import type { ResponseItem, ResponseStreamEvent } from '../wire/response-types.js';
import { ConversationOutbox } from './conversation-outbox.js';
import { ForegroundRecord } from './foreground-record.js';
import { LeaseKeeper } from './lease-keeper.js';
import { RunReaper } from './run-reaper.js';
import { RunNotifier } from '../background/run-notifier.js';

const log = createLogger('test', 'silent');
const CONV = 'conv_' + 'c'.repeat(48);
const LEASES = { leaseMs: 200, renewMs: 50, sweepMs: 100 };
const message = (id: string): ResponseItem => ({ id, type: 'message', role: 'assistant', status: 'completed', content: [] }) as unknown as ResponseItem;

describe('ForegroundRecord', () => {
  let dir: string;
  let database: Database;
  let store: ResponseStore;
  let appended: unknown[][];

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'responses-foreground-'));
    database = openDatabase({ dataDir: dir });
    store = new ResponseStore(database);
    await store.migrate();
    appended = [];
  });

  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function begin(id: string, conversation = false) {
    const keeper = new LeaseKeeper(store, log, LEASES);
    const api = { appendItems: async (_c: string, items: readonly unknown[]) => (appended.push([...items]), []) };
    const outbox = new ConversationOutbox(new OutboxStore(database), api, log);
    const response = newResponseObject(id, { model: 'm' } as never, 1, 'in_progress', { conversationId: conversation ? CONV : null });
    const input = [{ id: `${id}_in`, type: 'message', role: 'user', status: 'completed', content: [] } as unknown as ResponseItem];
    const prepared = { body: { model: 'm', input: 'x' }, include: [], input, response } as unknown as PreparedRequest;
    return { keeper, response, record: new ForegroundRecord({ store, keeper, outbox, log }, prepared, response) };
  }

  const done = (index: number, item: ResponseItem) => ({ type: 'response.output_item.done', output_index: index, item, sequence_number: index }) as unknown as ResponseStreamEvent;

  it('is readable in_progress from its first output event, and finishes with its output and conversation append', async () => {
    const { record, response } = begin('fg1', true);
    await record.observe({ type: 'response.output_text.delta', sequence_number: 2 } as unknown as ResponseStreamEvent);
    expect((await store.get(P, 'fg1'))!.response.status).toBe('in_progress');
    response.output.push(message('out1'));
    await record.observe(done(0, message('out1')));
    response.status = 'completed';
    await record.finish();
    expect((await store.get(P, 'fg1'))!.response).toMatchObject({ status: 'completed', output: [{ id: 'out1' }] });
    expect(appended).toEqual([[{ id: 'fg1_in', type: 'message', role: 'user', status: 'completed', content: [] }, message('out1')]]);
    expect(await new OutboxStore(database).hasPending(P, CONV)).toBe(false);
  });

  it('after its process died, is ended failed by the reaper with the items it had completed', async () => {
    const { record, response, keeper } = begin('fg2');
    response.output.push(message('out1'));
    await record.observe(done(0, message('out1')));
    // More than a second later another event: the completed item is saved.
    (record as unknown as { lastSave: number }).lastSave -= 1_500;
    await record.observe({ type: 'response.output_text.delta', sequence_number: 3 } as unknown as ResponseStreamEvent);
    // The process dies here: nothing renews the lease, the record never finishes.
    keeper.release('fg2');
    await new Promise((r) => setTimeout(r, LEASES.leaseMs + 50));
    const other = new LeaseKeeper(store, log, LEASES);
    expect(await new RunReaper(store, new RunNotifier(), other, log).sweep()).toBe(1);
    const after = (await store.get(P, 'fg2'))!.response;
    expect(after).toMatchObject({ status: 'failed', error: { code: 'server_error' }, output: [{ id: 'out1' }] });
    expect(await store.eventsAfter('fg2', -1)).toEqual([]);
  });

  it('leaves nothing stored when discarded (an upstream error before any output)', async () => {
    const { record } = begin('fg3');
    await record.discard();
    expect(await store.get(P, 'fg3', { includeDeleted: true })).toBeUndefined();
  });
});
