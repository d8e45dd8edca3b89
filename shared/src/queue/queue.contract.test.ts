import amqp from 'amqplib';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TEST_AMQP_URL } from '../../../test/support/backing-services.js';
import type { AmqpQueue } from './amqp-queue.js';
import type { JobContext } from './queue.js';
import { cleanUp, collector, deadLettersOf, freshTopic, queueAdapters, sleep, waitFor } from './queue-test-support.js';

// One contract, every adapter: the database queue on SQLite and on Postgres, and RabbitMQ.
const adapters = await queueAdapters();
afterAll(cleanUp);

describe.each(adapters.map((a) => [a.name, a] as const))('Queue contract: %s', (_name, { open, kill }) => {
  it('delivers each published job once, in order for a single consumer', async () => {
    const q = await open();
    const topic = freshTopic('order');
    const c = collector();
    await q.consume(topic, c.handler, { concurrency: 1 });
    for (let i = 0; i < 5; i++) await q.publish(topic, { i });
    expect(await c.until(5)).toEqual([0, 1, 2, 3, 4].map((i) => ({ i })));
    await q.close();
  });

  it('retries a job whose handler throws, then gives up after the attempt limit', async () => {
    const q = await open();
    const topic = freshTopic('limit');
    let calls = 0;
    const c = collector();
    await q.consume(topic, async (p) => {
      calls++;
      if ((p as { ok: boolean }).ok) return c.handler(p);
      throw new Error('boom');
    }, { concurrency: 1 });
    await q.publish(topic, { ok: false });
    await q.publish(topic, { ok: true });
    await c.until(1);
    await waitFor(() => calls >= 4, 8000);
    expect(calls).toBe(4); // three attempts of the failing job (the default limit), one of the good one
    await sleep(300);
    expect(calls).toBe(4);
    await q.close();
  }, 15_000);

  it('keeps jobs published while nobody consumes (durability across a restart)', async () => {
    const topic = freshTopic('durable');
    const first = await open();
    await first.publish(topic, { kept: true });
    await first.close();
    const second = await open();
    const c = collector();
    await second.consume(topic, c.handler);
    expect(await c.until(1)).toEqual([{ kept: true }]);
    await second.close();
  });

  it('runs at most `concurrency` jobs of a consumer at once', async () => {
    const q = await open();
    const topic = freshTopic('concurrency');
    let now = 0;
    let peak = 0;
    let finished = 0;
    await q.consume(topic, async () => {
      peak = Math.max(peak, ++now);
      await sleep(120);
      now--;
      finished++;
    }, { concurrency: 2 });
    for (let i = 0; i < 6; i++) await q.publish(topic, { i });
    expect(await waitFor(() => finished === 6, 8000)).toBe(true);
    expect(peak).toBe(2);
    await q.close();
  }, 15_000);

  it('shares a topic between several consumers (processes): each job runs exactly once', async () => {
    const topic = freshTopic('shared');
    const ran: number[] = [];
    const consumers = [await open(), await open(), await open()];
    for (const q of consumers) {
      await q.consume(topic, async (p) => {
        await sleep(10);
        ran.push((p as { n: number }).n);
      }, { concurrency: 3 });
    }
    for (let n = 0; n < 30; n++) await consumers[n % 3]!.publish(topic, { n });
    expect(await waitFor(() => ran.length >= 30, 10_000)).toBe(true);
    await sleep(300);
    expect([...ran].sort((a, b) => a - b)).toEqual([...Array(30).keys()]);
    for (const q of consumers) await q.close();
  }, 15_000);

  it('retries with a growing backoff by delayed requeue, then dead-letters the job; dead letters can be listed and replayed', async () => {
    const q = await open();
    const topic = freshTopic('backoff');
    q.defineTopic(topic, { maxAttempts: 4, backoff: { initialMs: 150, factor: 3, maxMs: 5000 } });
    const runs: { at: number; attempt: number; id: string }[] = [];
    let healed = false;
    await q.consume(topic, async (_p, job) => {
      runs.push({ at: Date.now(), attempt: job.attempt, id: job.id });
      if (!healed) throw new Error(`boom ${job.attempt}`);
    });
    await q.publish(topic, { file: 'a.pdf' });
    await waitFor(() => runs.length >= 4, 8000);
    expect(runs.map((r) => r.attempt)).toEqual([1, 2, 3, 4]);
    expect(new Set(runs.map((r) => r.id)).size).toBe(1);
    const gaps = runs.slice(1).map((r, i) => r.at - runs[i]!.at);
    // Delays of 150, 450 and 1350 ms (timers may fire a few ms early, never much).
    [150, 450, 1350].forEach((delay, i) => expect(gaps[i]).toBeGreaterThanOrEqual(delay - 15));
    expect(gaps[1]).toBeGreaterThan(gaps[0]!);
    expect(gaps[2]).toBeGreaterThan(gaps[1]!);

    const dead = await deadLettersOf(q, topic);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ id: runs[0]!.id, topic, payload: { file: 'a.pdf' }, attempts: 4, lastError: 'boom 4' });
    expect(Math.abs(dead[0]!.failedAt - Date.now())).toBeLessThan(10_000);
    // Listing leaves them where they are; the job is not run again meanwhile.
    expect(await q.deadLetters(topic)).toHaveLength(1);
    await sleep(200);
    expect(runs).toHaveLength(4);

    healed = true;
    expect(await q.replayDeadLetters(topic, ['no-such-id'])).toBe(0);
    expect(await q.replayDeadLetters(topic, [dead[0]!.id])).toBe(1);
    expect(await waitFor(() => runs.length === 5)).toBe(true);
    expect(runs[4]).toMatchObject({ attempt: 1, id: runs[0]!.id });
    expect(await q.deadLetters(topic)).toEqual([]);
    await q.close();
  }, 20_000);

  it('validates payloads against the topic schema: publish refuses, a consumed mismatch is dead-lettered without a run', async () => {
    const q = await open();
    const topic = freshTopic('schema');
    q.defineTopic(topic, { schema: z.object({ fileId: z.string(), pages: z.number().default(1) }), maxAttempts: 5 });
    await expect(q.publish(topic, { fileId: 42 })).rejects.toThrow(/schema/);
    const c = collector();
    await q.consume(topic, c.handler);
    // Another version of the publisher, which does not know the schema, still sends the old shape.
    const stranger = await open();
    await stranger.publish(topic, { file: 'old-shape' });
    await q.publish(topic, { fileId: 'f1' });
    expect(await c.until(1)).toEqual([{ fileId: 'f1', pages: 1 }]);
    const dead = await deadLettersOf(q, topic);
    expect(dead).toHaveLength(1);
    expect(dead[0]).toMatchObject({ payload: { file: 'old-shape' }, attempts: 1 });
    expect(dead[0]!.lastError).toMatch(/schema/);
    expect(c.seen).toHaveLength(1);
    await stranger.close();
    await q.close();
  });

  it('close aborts the signal of running jobs; a job cut off by close is redelivered later without counting an attempt', async () => {
    const q = await open();
    const topic = freshTopic('close');
    // One attempt only: had the cut-off run counted, the job would be dead-lettered instead of run again.
    q.defineTopic(topic, { maxAttempts: 1 });
    let started = false;
    let aborted = false;
    await q.consume(topic, async (_p, job) => {
      started = true;
      await new Promise((resolve) => job.signal.addEventListener('abort', resolve));
      aborted = true;
      throw new Error('stopped by close');
    });
    await q.publish(topic, { n: 1 });
    expect(await waitFor(() => started)).toBe(true);
    await q.close();
    expect(aborted).toBe(true);

    const next = await open();
    next.defineTopic(topic, { maxAttempts: 1 });
    const attempts: number[] = [];
    await next.consume(topic, async (_p, job) => void attempts.push(job.attempt));
    expect(await waitFor(() => attempts.length === 1)).toBe(true);
    expect(attempts).toEqual([1]);
    expect(await next.deadLetters(topic)).toEqual([]);
    await next.close();
  }, 15_000);

  it('a job longer than its lease keeps it by heartbeats: no second delivery', async () => {
    const topic = freshTopic('heartbeat');
    const consumers = [await open(), await open()];
    let deliveries = 0;
    let lostLease = false;
    for (const q of consumers) {
      q.defineTopic(topic, { leaseMs: 600 });
      await q.consume(topic, async (_p, job) => {
        deliveries++;
        for (const until = Date.now() + 1800; Date.now() < until; ) {
          await job.heartbeat();
          await sleep(50);
        }
        lostLease = job.signal.aborted;
      }, { concurrency: 2 });
    }
    await consumers[0]!.publish(topic, { long: true });
    expect(await waitFor(() => deliveries === 1)).toBe(true);
    await sleep(2500);
    expect(deliveries).toBe(1);
    expect(lostLease).toBe(false);
    for (const q of consumers) await q.close();
  }, 15_000);

  it('a consumer that dies mid-job: the job is redelivered once and its effect happens once', async () => {
    const topic = freshTopic('killed');
    const starts: JobContext[] = [];
    let effects = 0;
    let unblock!: () => void;
    const blocked = new Promise<void>((r) => (unblock = r));
    const handler = async (_p: unknown, job: JobContext) => {
      starts.push(job);
      // The first run hangs as in a process that died; the signal tells it afterwards that it lost the job.
      if (starts.length === 1) await blocked;
      if (!job.signal.aborted) effects++;
    };
    const doomed = await open();
    doomed.defineTopic(topic, { leaseMs: 500 });
    await doomed.consume(topic, handler, { concurrency: 1 });
    await doomed.publish(topic, { doc: 1 });
    expect(await waitFor(() => starts.length === 1)).toBe(true);
    await kill(doomed);

    const survivor = await open();
    survivor.defineTopic(topic, { leaseMs: 500 });
    await survivor.consume(topic, handler, { concurrency: 1 });
    expect(await waitFor(() => effects === 1, 8000)).toBe(true);
    unblock();
    await sleep(800);
    expect(starts).toHaveLength(2);
    expect(starts[1]!.id).toBe(starts[0]!.id);
    expect(effects).toBe(1);
    // On the database queue the run whose lease ran out counts as an attempt; RabbitMQ counts failures only.
    expect(starts[1]!.attempt).toBe(doomed.kind === 'database' ? 2 : 1);
    expect(await survivor.deadLetters(topic)).toEqual([]);
    await survivor.close();
    await doomed.close();
  }, 20_000);
});

describe.runIf(adapters.some((a) => a.name === 'amqp'))('AmqpQueue specifics', () => {
  const open = async () => (await adapters.find((a) => a.name === 'amqp')!.open()) as AmqpQueue;

  it('dead-letters a message that is not JSON instead of crashing or redelivering it forever', async () => {
    const q = await open();
    const topic = freshTopic('poison');
    const c = collector();
    await q.consume(topic, c.handler, { concurrency: 1 });
    const raw = await amqp.connect(TEST_AMQP_URL);
    const ch = await raw.createChannel();
    ch.sendToQueue(q.queueName(topic), Buffer.from('not json'), { messageId: 'raw-1' });
    await ch.close();
    await raw.close();
    await q.publish(topic, { fine: true });
    expect(await c.until(1)).toEqual([{ fine: true }]);
    const dead = await deadLettersOf(q, topic);
    expect(dead).toEqual([expect.objectContaining({ id: 'raw-1', payload: 'not json', lastError: 'payload is not JSON' })]);
    await q.close();
  });

  it('reconnects after losing its connection and keeps consuming', async () => {
    const q = await open();
    const topic = freshTopic('reconnect');
    const c = collector();
    await q.consume(topic, c.handler, { concurrency: 1 });
    await (q as unknown as { connection: { close(): Promise<void> } }).connection.close();
    const deadline = Date.now() + 10_000;
    while (Date.now() < deadline) {
      try {
        await q.ping();
        break;
      } catch {
        await sleep(100);
      }
    }
    await q.publish(topic, { after: 'reconnect' });
    expect(await c.until(1)).toEqual([{ after: 'reconnect' }]);
    await q.close();
  });

  it('consumes again after the broker closed just its channel (as past consumer_timeout)', async () => {
    const q = await open();
    const topic = freshTopic('channel');
    const c = collector();
    await q.consume(topic, c.handler, { concurrency: 1 });
    const [consumer] = (q as unknown as { consumers: { channel: amqp.Channel }[] }).consumers;
    const closed = new Promise((resolve) => consumer!.channel.once('close', resolve));
    // Acknowledging an unknown delivery is a channel error: the broker closes that channel only.
    consumer!.channel.ack({ fields: { deliveryTag: 999 } } as amqp.Message);
    await closed;
    await q.publish(topic, { after: 'channel loss' });
    expect(await c.until(1)).toEqual([{ after: 'channel loss' }]);
    await q.close();
  });

  it('dead-letters a message delivered over and over without being settled (the delivery limit)', async () => {
    const q = await open();
    const topic = freshTopic('limit');
    await q.publish(topic, { crashes: 'its consumer' });
    // A consumer that gives every delivery back, as one whose process dies on the message would.
    const raw = await amqp.connect(TEST_AMQP_URL);
    const ch = await raw.createChannel();
    await ch.consume(q.queueName(topic), (msg) => msg && ch.nack(msg, false, true));
    const dead = await deadLettersOf(q, topic, 5000);
    await raw.close();
    expect(dead).toEqual([expect.objectContaining({ payload: { crashes: 'its consumer' }, lastError: expect.stringMatching(/delivery_limit/) })]);
    expect(Math.abs(dead[0]!.failedAt - Date.now())).toBeLessThan(60_000);
    await q.close();
  });

  it('fails a publish to a queue declared differently (a classic queue of an older version) and keeps publishing elsewhere', async () => {
    const q = await open();
    const topic = freshTopic('legacy');
    const raw = await amqp.connect(TEST_AMQP_URL);
    const ch = await raw.createChannel();
    await ch.assertQueue(q.queueName(topic), { durable: true });
    await expect(q.publish(topic, { x: 1 })).rejects.toThrow(/PRECONDITION_FAILED/);
    await ch.deleteQueue(q.queueName(topic));
    await raw.close();
    const other = freshTopic('fine');
    const c = collector();
    await q.consume(other, c.handler);
    await q.publish(other, { still: 'publishing' });
    expect(await c.until(1)).toEqual([{ still: 'publishing' }]);
    await q.close();
  });

  it('declares quorum queues', async () => {
    const q = await open();
    const topic = freshTopic('quorum');
    await q.publish(topic, { x: 1 });
    const raw = await amqp.connect(TEST_AMQP_URL);
    try {
      const ch = await raw.createChannel();
      ch.on('error', () => {});
      // Redeclaring as a classic queue must be refused: the queue exists with other arguments.
      await expect(ch.assertQueue(q.queueName(topic), { durable: true, arguments: { 'x-queue-type': 'classic' } })).rejects.toThrow(/PRECONDITION_FAILED/);
    } finally {
      await raw.close().catch(() => {});
    }
    await q.close();
  });
});
