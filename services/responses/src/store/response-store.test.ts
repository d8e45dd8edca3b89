import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROJECT_ID as P, migrate, openDatabase, type Database } from '@rgw/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { available, freshPostgres } from '../../../../test/support/backing-services.js';
import { newResponseObject } from '../response/response-object.js';
import type { ResponseItem, ResponseStreamEvent } from '../wire/response-types.js';
import { OutboxStore } from './outbox-store.js';
import { RESPONSE_MIGRATIONS } from './response-migrations.js';
import { ANY_PROJECT, ResponseStore } from './response-store.js';

const msg = (id: string, text: string): ResponseItem => ({ id, type: 'message', role: 'user', status: 'completed', content: [{ type: 'input_text', text }] });

/** A fresh database per test, and how to drop it. Postgres too when it is there: its insert takes another path. */
const engines: [string, () => Promise<{ database: Database; drop: () => Promise<void> }>][] = [
  [
    'SQLite',
    async () => {
      const dir = mkdtempSync(join(tmpdir(), 'responses-store-'));
      const database = openDatabase({ dataDir: dir });
      return { database, drop: async () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];
if (await available('postgres', 'response store')) {
  engines.push([
    'Postgres',
    async () => {
      const pg = await freshPostgres('rgw_store');
      return { database: openDatabase({ databaseUrl: pg.url, dataDir: '/unused' }), drop: pg.drop };
    },
  ]);
}

describe.each(engines)('ResponseStore (%s)', (_engine, open) => {
  let database: Database;
  let drop: () => Promise<void>;
  let store: ResponseStore;

  beforeEach(async () => {
    ({ database, drop } = await open());
    store = new ResponseStore(database);
    await store.migrate();
  });

  afterEach(async () => {
    await database.close();
    await drop();
  });

  /** Stores a response continuing `prev` with one input and one output item. */
  async function add(id: string, prev: string | null): Promise<void> {
    const response = newResponseObject(id, { model: 'm', previous_response_id: prev } as never, 1, 'completed');
    response.output = [{ id: `${id}_out`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `out ${id}`, annotations: [], logprobs: [] }] }];
    await store.insert(response, { body: {}, include: [] }, [msg(`${id}_in`, `in ${id}`)]);
  }

  it('stores each turn once and rebuilds a chain oldest first', async () => {
    await add('r1', null);
    await add('r2', 'r1');
    await add('r3', 'r2');
    expect((await store.chainItems(P, 'r3')).map((i) => i.id)).toEqual(['r1_in', 'r1_out', 'r2_in', 'r2_out', 'r3_in', 'r3_out']);
    const rows = await database.db.selectFrom('response_items').select('item_id').execute();
    expect(rows).toHaveLength(6);
  });

  it('keeps a deleted predecessor as a hidden tombstone until its last successor goes', async () => {
    await add('r1', null);
    await add('r2', 'r1');
    await add('r3', 'r2');
    expect(await store.delete(P, 'r2')).toBe(true);
    expect(await store.get(P, 'r2')).toBeUndefined();
    expect(await store.exists(P, 'r2')).toBe(false);
    expect((await store.chainItems(P, 'r3')).map((i) => i.id)).toContain('r2_in');
    expect((await store.findItems(P, ['r2_in'])).size).toBe(0);
    expect((await store.list(P, { limit: 10, order: 'asc' }))!.map((r) => r.id)).toEqual(['r1', 'r3']);
    // Deleting the last successor removes the tombstone, but not the live r1.
    expect(await store.delete(P, 'r3')).toBe(true);
    const left = await database.db.selectFrom('responses').select('id').execute();
    expect(left.map((r) => r.id)).toEqual(['r1']);
    expect(await store.delete(P, 'r2')).toBe(false);
  });

  it('stores a response, its input, output and first events together, or nothing at all', async () => {
    const response = newResponseObject('r1', { model: 'm' } as never, 1, 'queued');
    response.output = [{ id: 'r1_out', type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'o', annotations: [], logprobs: [] }] }];
    const events = [
      { type: 'response.created', sequence_number: 0, response },
      { type: 'response.queued', sequence_number: 1, response },
    ] as unknown as ResponseStreamEvent[];
    await store.insert(response, { body: { model: 'm' }, include: [], requestId: 'req_1' }, [msg('r1_in1', 'a'), msg('r1_in2', 'b')], events);
    const record = (await store.get(P, 'r1'))!;
    expect(record.response.output.map((i) => i.id)).toEqual(['r1_out']);
    expect(record.request).toEqual({ body: { model: 'm' }, include: [], requestId: 'req_1' });
    expect((await store.items('r1', 'input')).map((i) => i.id)).toEqual(['r1_in1', 'r1_in2']);
    expect((await store.eventsAfter('r1', -1)).map((e) => e.type)).toEqual(['response.created', 'response.queued']);
    // Without items or events, just the row.
    await store.insert(newResponseObject('r2', { model: 'm' } as never, 1, 'completed'), { body: {}, include: [] }, []);
    expect((await store.get(P, 'r2'))!.response.output).toEqual([]);
    // A second insert of the same id fails as a whole: none of its items or events are left behind.
    await expect(store.insert(response, { body: {}, include: [] }, [msg('dup_in', 'c')], [{ ...events[0]!, sequence_number: 7 }])).rejects.toThrow();
    expect((await store.findItems(P, ['dup_in'])).size).toBe(0);
    expect(await store.eventsAfter('r1', 1)).toEqual([]);
  });

  it('settles races through conditional status updates', async () => {
    await add('r1', null);
    const record = (await store.get(P, 'r1'))!;
    expect(await store.update({ ...record.response, status: 'cancelled' }, ['queued', 'in_progress'])).toBe(false);
    expect(await store.status('r1')).toBe('completed');
  });

  it('finds referenced items by the ten thousand (more ids than SQLite binds in one statement)', async () => {
    const response = newResponseObject('big', { model: 'm' } as never, 1, 'completed');
    const input = Array.from({ length: 33_000 }, (_, i) => msg(`item_${i}`, `t${i}`));
    await store.insert(response, { body: {}, include: [] }, input);
    const found = await store.findItems(P, [...input.map((i) => i.id), 'item_missing']);
    expect(found.size).toBe(33_000);
    expect(found.get('item_32999')).toMatchObject({ content: [{ text: 't32999' }] });
  });

  it('pages responses with before as well as after; an unknown or deleted cursor is undefined', async () => {
    for (const id of ['r1', 'r2', 'r3', 'r4']) await add(id, null);
    const ids = async (q: Record<string, unknown>) => (await store.list(P, { limit: 10, order: 'desc', ...q }))?.map((r) => r.id);
    expect(await ids({ before: 'r2' })).toEqual(['r4', 'r3']);
    expect(await ids({ before: 'r3', order: 'asc' })).toEqual(['r1', 'r2']);
    expect(await ids({ after: 'r4', before: 'r1' })).toEqual(['r3', 'r2']);
    expect(await ids({ before: 'nope' })).toBeUndefined();
    await store.delete(P, 'r2');
    expect(await ids({ after: 'r2' })).toBeUndefined();
  });

  it('finishes a response in one write: status, remaining output and the outbox record, only from the statuses given', async () => {
    const response = newResponseObject('fin', { model: 'm' } as never, 1, 'in_progress');
    await store.insert(response, { body: {}, include: [] }, [msg('fin_in', 'q')], [], { owner: 'me', until: Date.now() + 60_000 });
    const out = (id: string) => ({ id, type: 'message', role: 'assistant', status: 'completed', content: [] }) as unknown as ResponseItem;
    await store.addOutputItems(P, 'fin', 0, [out('o1')]);
    response.status = 'completed';
    response.output = [out('o1'), out('o2')];
    const outbox = new OutboxStore(database);
    expect(await store.finish(response, { project: P, ifStatus: ['in_progress'], output: { from: 1, items: [out('o2')] }, outbox: { conversationId: 'conv_x', items: [{ id: 'a' }] } })).toBe(true);
    expect((await store.get(P, 'fin'))!.response).toMatchObject({ status: 'completed', output: [{ id: 'o1' }, { id: 'o2' }] });
    expect(await outbox.pending('conv_x')).toMatchObject([{ responseId: 'fin', items: [{ id: 'a' }], attempts: 0 }]);
    // Ended meanwhile (a cancel, a reaper): nothing is written, no append is owed.
    expect(await store.finish(response, { project: P, ifStatus: ['in_progress'], output: { from: 2, items: [out('o3')] }, outbox: { conversationId: 'conv_x', items: [] } })).toBe(false);
    expect((await store.items('fin', 'output')).map((i) => i.id)).toEqual(['o1', 'o2']);
    expect(await outbox.pending('conv_x')).toHaveLength(1);
  });

  it('writes asked for together (one batch on Postgres) land whole and each gets its own answer', async () => {
    const out = (id: string) => ({ id, type: 'message', role: 'assistant', status: 'completed', content: [] }) as unknown as ResponseItem;
    const ids = Array.from({ length: 20 }, (_, i) => `batch${i}`);
    const started = ids.map((id) => newResponseObject(id, { model: 'm' } as never, 1, 'in_progress'));
    // One of them takes an id that exists already: it alone fails; the others are written.
    await add('taken', null);
    const taken = newResponseObject('taken', { model: 'm' } as never, 1, 'in_progress');
    const inserts = await Promise.allSettled([...started, taken].map((r, i) => store.insert(r, { body: {}, include: [] }, [msg(`${r.id}_in${i}`, 'q')], [], undefined, { provisional: i % 2 === 0 })));
    expect(inserts.slice(0, 20).every((s) => s.status === 'fulfilled')).toBe(true);
    expect(inserts[20]!.status).toBe('rejected');

    const finishes = started.map((r, i) => {
      r.status = i % 3 === 0 ? 'incomplete' : 'completed';
      r.output = [out(`${r.id}_out`)];
      const outbox = i % 4 === 0 ? { conversationId: `conv_${i}`, items: [{ id: `x${i}` }] } : undefined;
      return store.finish(r, { project: P, ifStatus: ['in_progress'], output: { from: 0, items: r.output }, outbox });
    });
    // The same response finished twice at once (a run ending as it is cancelled): the first wins, the second finds it ended.
    const twice = structuredClone(started[1]!);
    twice.status = 'cancelled';
    expect(await Promise.all([...finishes, store.finish(twice, { project: P, ifStatus: ['in_progress'] })])).toEqual([...ids.map(() => true), false]);

    for (const [i, id] of ids.entries()) {
      const got = (await store.get(P, id))!.response;
      expect(got.status).toBe(i % 3 === 0 ? 'incomplete' : 'completed');
      expect(got.output.map((o) => o.id)).toEqual([`${id}_out`]);
      expect((await store.items(id, 'input')).map((it) => it.id)).toEqual([`${id}_in${i}`]);
    }
    const outbox = new OutboxStore(database);
    expect(await outbox.pending('conv_4')).toMatchObject([{ responseId: 'batch4', items: [{ id: 'x4' }] }]);
    expect(await outbox.pending('conv_1')).toEqual([]);
    expect((await store.get(P, 'taken'))!.response.status).toBe('completed');
  });

  it('a write larger than one batch may carry is stored beside the small ones asked for with it', async () => {
    const big = 'x'.repeat(9 * 1024 * 1024);
    const ids = ['small1', 'huge', 'small2'];
    await Promise.all(ids.map((id) => store.insert(newResponseObject(id, { model: 'm' } as never, 1, 'completed'), { body: {}, include: [] }, [msg(`${id}_in`, id === 'huge' ? big : 'q')])));
    for (const id of ids) expect((await store.items(id, 'input')).map((i) => i.id)).toEqual([`${id}_in`]);
    const [stored] = await store.items('huge', 'input');
    expect(JSON.stringify(stored).length).toBeGreaterThan(big.length);
  });

  it('renews the leases of one owner in one statement; an expired run can be taken over once', async () => {
    const now = Date.now();
    for (const [id, owner, until] of [['l1', 'me', now + 1000], ['l2', 'me', now + 1000], ['l3', 'dead', now - 1]] as const) {
      await store.insert(newResponseObject(id, { model: 'm' } as never, 1, 'in_progress'), { body: {}, include: [] }, [], [], { owner, until });
    }
    await store.update({ ...(await store.get(P, 'l2'))!.response, status: 'cancelled' });
    const alive = await store.renewLeases('me', ['l1', 'l2', 'l3'], now + 5000);
    expect([...alive]).toEqual(['l1']);
    expect((await store.lease('l1'))!.lease).toEqual({ owner: 'me', until: now + 5000 });
    expect(await store.expiredRuns(now)).toEqual(['l3']);
    expect(await store.takeOver('l1', { owner: 'other', until: now + 9000 }, now)).toBe(false);
    expect(await store.takeOver('l3', { owner: 'other', until: now + 9000 }, now)).toBe(true);
    expect(await store.takeOver('l3', { owner: 'third', until: now + 9000 }, now)).toBe(false);
    expect(await store.expiredRuns(now)).toEqual([]);
  });

  it("keeps each project to its own responses, items, cursors and outbox rows; internal reads see every project", async () => {
    const A = { projectId: 'proj_a', keyId: 'key_a' };
    const B = { projectId: 'proj_b' };
    const response = (id: string, prev: string | null = null) => {
      const r = newResponseObject(id, { model: 'm', previous_response_id: prev } as never, 1, 'completed');
      r.output = [{ id: `${id}_out`, type: 'message', role: 'assistant', status: 'completed', content: [] }] as never;
      return r;
    };
    const event = { type: 'response.created', sequence_number: 0 } as unknown as ResponseStreamEvent;
    await store.insert(response('a1'), { body: {}, include: [], principal: A }, [msg('a1_in', 'a')], [event]);
    await store.insert(response('a2', 'a1'), { body: {}, include: [], principal: A }, [msg('a2_in', 'b')]);
    await store.insert(response('b1'), { body: {}, include: [], principal: B }, [msg('b1_in', 'c')]);
    const page = { limit: 10, order: 'asc' as const };

    // B cannot read, list, page from, continue, reference or delete A's responses.
    expect(await store.get('proj_b', 'a1')).toBeUndefined();
    expect(await store.get('proj_b', 'a1', { includeDeleted: true })).toBeUndefined();
    expect(await store.exists('proj_b', 'a1')).toBe(false);
    expect(await store.chainItems('proj_b', 'a2')).toEqual([]);
    expect((await store.findItems('proj_b', ['a1_in', 'a1_out', 'b1_in'])).size).toBe(1);
    expect((await store.list('proj_b', page))!.map((r) => r.id)).toEqual(['b1']);
    expect(await store.list('proj_b', { ...page, after: 'a1' })).toBeUndefined();
    expect(await store.list('proj_b', { ...page, before: 'a2' })).toBeUndefined();
    expect(await store.listInputItems('proj_b', 'a1', page)).toEqual([]);
    expect(await store.listInputItems('proj_b', 'b1', { ...page, after: 'a1_in' })).toBeUndefined();
    expect(await store.delete('proj_b', 'a1')).toBe(false);
    // Nor does the open default project.
    expect((await store.list(P, page))!.map((r) => r.id)).toEqual([]);

    // A sees its own, untouched, with the principal it was created with.
    const mine = (await store.get('proj_a', 'a1'))!;
    expect(mine).toMatchObject({ project: 'proj_a', request: { principal: A }, response: { output: [{ id: 'a1_out' }] } });
    expect((await store.chainItems('proj_a', 'a2')).map((i) => i.id)).toEqual(['a1_in', 'a1_out', 'a2_in', 'a2_out']);
    expect((await store.list('proj_a', page))!.map((r) => r.id)).toEqual(['a1', 'a2']);
    expect((await store.list('proj_a', { ...page, after: 'a1' }))!.map((r) => r.id)).toEqual(['a2']);
    // Internal work (a background run, the reaper) reaches any row by id and learns its project.
    expect((await store.get(ANY_PROJECT, 'b1'))!.project).toBe('proj_b');

    // Every row written for A's response carries A's project, and its outbox row A's principal.
    const done = response('a3');
    await store.insert({ ...done, status: 'in_progress', output: [] }, { body: {}, include: [], principal: A }, [msg('a3_in', 'q')]);
    await store.addOutputItems('proj_a', 'a3', 0, done.output);
    await store.appendEvent('proj_a', 'a3', event);
    expect(await store.finish(done, { project: 'proj_a', ifStatus: ['in_progress'], outbox: { conversationId: 'conv_a', items: [{ id: 'x' }], principal: A } })).toBe(true);
    for (const table of ['responses', 'response_items', 'response_events', 'response_outbox']) {
      const projects = await database.db.selectFrom(table).select('project_id').where(table === 'responses' ? 'id' : 'response_id', 'in', ['a1', 'a3']).execute();
      expect(projects.length, table).toBeGreaterThan(0);
      expect(new Set(projects.map((r) => r.project_id)), table).toEqual(new Set(['proj_a']));
    }
    const outbox = new OutboxStore(database);
    expect(await outbox.pending('conv_a')).toMatchObject([{ responseId: 'a3', principal: A }]);
    expect(await outbox.hasPending('proj_a', 'conv_a')).toBe(true);
    expect(await outbox.hasPending('proj_b', 'conv_a')).toBe(false);

    expect(await store.delete('proj_a', 'a2')).toBe(true);
    expect(await store.get('proj_a', 'a2')).toBeUndefined();
    expect(await store.get('proj_b', 'b1')).toBeDefined();
  });
});

describe.each(engines)('ResponseStore upgrade (%s)', (_engine, open) => {
  it('puts rows stored before projects existed in the open default project, readable as before', async () => {
    const { database, drop } = await open();
    try {
      const before = Object.fromEntries(Object.entries(RESPONSE_MIGRATIONS).filter(([name]) => name < '005'));
      await migrate(database, 'responses', before);
      await database.db
        .insertInto('responses')
        .values({ id: 'old', created_at: 1, model: 'm', status: 'completed', background: 0, deleted: 0, body: JSON.stringify({ ...newResponseObject('old', { model: 'm' } as never, 1, 'completed'), output: [] }), request: JSON.stringify({ body: {}, include: [] }) })
        .execute();
      await database.db.insertInto('response_items').values({ response_id: 'old', item_id: 'old_in', kind: 'input', position: 0, body: JSON.stringify(msg('old_in', 'x')) }).execute();
      const store = new ResponseStore(database);
      await store.migrate();
      expect(await store.get(P, 'old')).toMatchObject({ project: P, response: { id: 'old' } });
      expect((await store.findItems(P, ['old_in'])).size).toBe(1);
      expect(await store.get('proj_other', 'old')).toBeUndefined();
    } finally {
      await database.close();
      await drop();
    }
  });
});

