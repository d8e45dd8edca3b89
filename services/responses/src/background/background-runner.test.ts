import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PROJECT_ID as P, ApiError, createLogger, openDatabase, type Database, type Queue } from '@rgw/shared';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ChatChunk } from '../chat/chat-chunk.js';
import { ConversationSource, type ConversationsApi } from '../context/conversation-source.js';
import { PromptSource } from '../context/prompt-source.js';
import { prepareCreate, type PrepareDeps } from '../request/prepare-request.js';
import { ResponseStore } from '../store/response-store.js';
import { ToolRegistry } from '../tools/tool-registry.js';
import { ConversationOutbox } from '../durability/conversation-outbox.js';
import { LeaseKeeper } from '../durability/lease-keeper.js';
import { RunReaper } from '../durability/run-reaper.js';
import { OutboxStore } from '../store/outbox-store.js';
import { UsageReporter } from '../usage/usage-reporter.js';
import { BackgroundRunner } from './background-runner.js';
import { RunNotifier } from './run-notifier.js';

const log = createLogger('test', 'silent');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const LEASES = { leaseMs: 10_000, renewMs: 300, sweepMs: 2_000 };

/** Upstream stand-in: `gate` holds every stream after its first chunk until released. */
function slowInference() {
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  let calls = 0;
  return {
    release,
    calls: () => calls,
    inference: {
      async *chatCompletionStream<T>(_body: unknown, opts: { signal?: AbortSignal }): AsyncGenerator<T> {
        calls++;
        yield { choices: [{ index: 0, delta: { content: 'partial ' }, finish_reason: null }] } as T;
        await Promise.race([gate, new Promise((_, reject) => opts.signal?.addEventListener('abort', () => reject(new Error('aborted'))))]);
        yield { choices: [{ index: 0, delta: { content: 'done' }, finish_reason: 'stop' }] } as ChatChunk as T;
      },
    },
  };
}

describe('BackgroundRunner', () => {
  let dir: string;
  let database: Database;
  let store: ResponseStore;
  let conversationsApi: Partial<ConversationsApi>;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'responses-runner-'));
    database = openDatabase({ dataDir: dir });
    store = new ResponseStore(database);
    await store.migrate();
    conversationsApi = {};
  });

  afterEach(async () => {
    await database.close();
    rmSync(dir, { recursive: true, force: true });
  });

  function setup(opts: { publish?: Queue['publish'] } = {}) {
    const upstream = slowInference();
    const prepare: PrepareDeps = {
      store,
      catalog: { resolve: async () => ({}) as never },
      registry: new ToolRegistry([]),
      conversations: new ConversationSource(conversationsApi as ConversationsApi),
      prompts: new PromptSource({} as never),
    };
    const published: unknown[] = [];
    const queue = { kind: 'database', publish: opts.publish ?? (async (_t: string, p: unknown) => void published.push(p)), consume: async () => {}, ping: async () => {}, close: async () => {} } as Queue;
    // Each runner is one process: its own instance id, lease keeper and reaper.
    const make = () => {
      const notifier = new RunNotifier();
      const keeper = new LeaseKeeper(store, log, LEASES);
      const reaper = new RunReaper(store, notifier, keeper, log);
      const outbox = new ConversationOutbox(new OutboxStore(database), conversationsApi as ConversationsApi, log);
      return new BackgroundRunner({ store, queue, notifier, engine: { inference: upstream.inference as never, log }, prepare, log, keeper, reaper, outbox, usage: new UsageReporter({ defineTopic: () => {}, publish: async () => {} }, log) });
    };
    return { upstream, prepare, published, make };
  }

  async function enqueue(runner: BackgroundRunner, prepare: PrepareDeps, body: Record<string, unknown> = {}): Promise<string> {
    const prepared = await prepareCreate({ model: 'm', input: 'hi', background: true, ...body }, prepare);
    await runner.enqueue(prepared);
    return prepared.response.id;
  }

  async function types(id: string): Promise<string[]> {
    return (await store.eventsAfter(id, -1)).map((e) => e.type);
  }

  /**
   * Delivers a job to `second` while `first` runs it: the run must go on and complete, once; the
   * redelivered job (another process) waits for it rather than dropping the job or running it again.
   */
  async function redeliverWhileRunning(first: BackgroundRunner, second: BackgroundRunner, prepare: PrepareDeps, upstream: ReturnType<typeof slowInference>): Promise<void> {
    const id = await enqueue(first, prepare);
    const running = first.run({ id });
    while (upstream.calls() === 0) await sleep(5);
    let redeliveredDone = false;
    const redelivered = second.run({ id }).then(() => (redeliveredDone = true));
    await sleep(50);
    expect(await store.status(id)).toBe('in_progress');
    expect(redeliveredDone).toBe(first === second);
    upstream.release();
    await Promise.all([running, redelivered]);
    expect(await store.status(id)).toBe('completed');
    expect(upstream.calls()).toBe(1);
  }

  it('ignores a redelivered job of a run this process is doing', async () => {
    const { upstream, prepare, make } = setup();
    const runner = make();
    await redeliverWhileRunning(runner, runner, prepare, upstream);
  });

  it('waits on a run alive in another process, and takes over one whose lease expired (its process died)', async () => {
    const { upstream, prepare, make } = setup();
    const [a, b] = [make(), make()];
    await redeliverWhileRunning(a, b, prepare, upstream);

    // A run whose process died just now: in_progress, its lease still valid for a moment. The job
    // redelivered after a fast restart must wait for the lease, then end it, never drop it.
    const dead = await enqueue(a, prepare);
    const record = (await store.get(P, dead))!;
    await store.update({ ...record.response, status: 'in_progress' }, ['queued'], { lease: { owner: 'dead-process', until: Date.now() + 400 } });
    const started = Date.now();
    await b.run({ id: dead });
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(await store.status(dead)).toBe('failed');
    expect(await types(dead)).toEqual(['response.created', 'response.queued', 'response.in_progress', 'response.failed']);
  });

  it('a follower of a run whose owner died ends: it takes the run over and reads response.failed', async () => {
    const { prepare, make } = setup();
    const runner = make();
    const id = await enqueue(runner, prepare);
    const record = (await store.get(P, id))!;
    await store.update({ ...record.response, status: 'in_progress' }, ['queued'], { lease: { owner: 'dead-process', until: Date.now() - 1 } });
    const followed = [];
    for await (const e of runner.follow(id, -1, new AbortController().signal)) followed.push(e.type);
    expect(followed).toEqual(['response.created', 'response.queued', 'response.in_progress', 'response.failed']);
  });

  it('answers cancel of a finished response 409 with x-should-retry: false', async () => {
    const { upstream, prepare, make } = setup();
    const runner = make();
    const id = await enqueue(runner, prepare);
    upstream.release();
    await runner.run({ id });
    const err = await runner.cancel(P, id).catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 409, code: 'response_already_finished', headers: { 'x-should-retry': 'false' } });
  });

  it('a run that fails before it starts still stores a whole stream: created, queued, in_progress, failed', async () => {
    conversationsApi.listAllItems = async () => {
      throw new ApiError(404, 'gone');
    };
    const { prepare, make } = setup();
    const runner = make();
    const prepared = await prepareCreate({ model: 'm', input: 'hi', background: true, conversation: 'conv_' + 'a'.repeat(48) }, { ...prepare, conversations: new ConversationSource({ ...conversationsApi, listAllItems: async () => [] } as ConversationsApi) });
    await runner.enqueue(prepared);
    await runner.run({ id: prepared.response.id });
    const events = await store.eventsAfter(prepared.response.id, -1);
    expect(events.map((e) => e.type)).toEqual(['response.created', 'response.queued', 'response.in_progress', 'response.failed']);
    expect(events.map((e) => e.sequence_number)).toEqual([0, 1, 2, 3]);
    expect(events[3]).toMatchObject({ response: { status: 'failed', error: { code: 'invalid_prompt' } } });
  });

  it('cancelling a queued response leaves a stream a follower reads to its end', async () => {
    const { prepare, make } = setup();
    const runner = make();
    const id = await enqueue(runner, prepare);
    expect((await runner.cancel(P, id)).status).toBe('cancelled');
    const followed = [];
    for await (const e of runner.follow(id, -1, new AbortController().signal)) followed.push(e.type);
    expect(followed).toEqual(['response.created', 'response.queued']);
  });

  it('deleting a running response stops it and leaves no orphan events or items', async () => {
    const { upstream, prepare, make } = setup();
    const runner = make();
    const id = await enqueue(runner, prepare);
    const running = runner.run({ id });
    while ((await types(id)).length < 5) await sleep(5);
    expect(await store.delete(P, id)).toBe(true);
    runner.abandon(id);
    await running;
    upstream.release();
    expect(await types(id)).toEqual([]);
    expect(await store.items(id, 'input')).toEqual([]);
    expect(await store.items(id, 'output')).toEqual([]);
  });

  it('removes the response when its job cannot be published', async () => {
    const { prepare, make } = setup({
      publish: async () => {
        throw new Error('broker down');
      },
    });
    const runner = make();
    const prepared = await prepareCreate({ model: 'm', input: 'hi', background: true }, prepare);
    await expect(runner.enqueue(prepared)).rejects.toThrow('broker down');
    expect(await store.get(P, prepared.response.id, { includeDeleted: true })).toBeUndefined();
  });
});
