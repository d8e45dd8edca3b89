import amqp, { type Channel, type ChannelModel, type ConfirmChannel, type ConsumeMessage } from 'amqplib';
import { ServiceUnavailableError } from '../errors.js';
import type { Logger } from '../logging.js';
import { MAX_JOB_ATTEMPTS, type JobHandler, type Queue } from './queue.js';

const ATTEMPT_HEADER = 'x-attempt';
const MAX_RECONNECT_DELAY_MS = 10_000;

interface Registration {
  topic: string;
  handler: JobHandler;
  concurrency: number;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RabbitMQ: one durable queue per topic, persistent messages published with confirms, acknowledged
 * only after the handler succeeds. When the broker goes away the queue reconnects with backoff and
 * re-creates its consumers; publishing meanwhile fails with a 503 rather than losing the job.
 */
export class AmqpQueue implements Queue {
  readonly kind = 'amqp' as const;
  private connection?: ChannelModel;
  private publisher?: ConfirmChannel;
  private readonly asserted = new Set<string>();
  private readonly registrations: Registration[] = [];
  private consumers: { channel: Channel; tag: string }[] = [];
  private readonly running = new Set<Promise<void>>();
  private reconnecting?: Promise<void>;
  private closed = false;

  private constructor(private readonly url: string, private readonly prefix: string, private readonly log: Logger) {}

  static async connect(url: string, prefix: string, log: Logger): Promise<AmqpQueue> {
    const queue = new AmqpQueue(url, prefix, log);
    await queue.open();
    return queue;
  }

  private async open(): Promise<void> {
    const connection = await amqp.connect(this.url);
    connection.on('error', (err) => this.log.error({ err }, 'amqp connection error'));
    connection.on('close', () => {
      if (this.closed) return;
      this.log.error('amqp connection closed; reconnecting');
      this.connection = undefined;
      this.publisher = undefined;
      this.reconnect();
    });
    this.connection = connection;
    this.publisher = await connection.createConfirmChannel();
    this.asserted.clear();
    this.consumers = [];
    for (const r of this.registrations) await this.startConsumer(connection, r);
  }

  private reconnect(): void {
    this.reconnecting ??= (async () => {
      for (let delay = 500; !this.closed; delay = Math.min(delay * 2, MAX_RECONNECT_DELAY_MS)) {
        await sleep(delay);
        try {
          await this.open();
          this.log.info('amqp reconnected');
          return;
        } catch (err) {
          this.log.warn({ err: (err as Error).message }, 'amqp reconnect failed');
        }
      }
    })().finally(() => (this.reconnecting = undefined));
  }

  private queueName(topic: string): string {
    return `${this.prefix}.${topic}`;
  }

  async publish(topic: string, payload: unknown, attempt = 0): Promise<void> {
    const channel = this.publisher;
    if (!channel) throw new ServiceUnavailableError('The job queue (RabbitMQ) is not connected; try again shortly.', 'queue_unavailable');
    const name = this.queueName(topic);
    if (!this.asserted.has(name)) {
      await channel.assertQueue(name, { durable: true });
      this.asserted.add(name);
    }
    channel.sendToQueue(name, Buffer.from(JSON.stringify(payload)), {
      persistent: true,
      contentType: 'application/json',
      headers: { [ATTEMPT_HEADER]: attempt },
    });
    // Only a confirmed message is safe: without this a job could vanish with a dying connection.
    await channel.waitForConfirms();
  }

  async consume(topic: string, handler: JobHandler, opts: { concurrency?: number } = {}): Promise<void> {
    const registration = { topic, handler, concurrency: opts.concurrency ?? 4 };
    this.registrations.push(registration);
    if (this.connection) await this.startConsumer(this.connection, registration);
  }

  private async startConsumer(connection: ChannelModel, r: Registration): Promise<void> {
    const channel = await connection.createChannel();
    const name = this.queueName(r.topic);
    await channel.assertQueue(name, { durable: true });
    await channel.prefetch(r.concurrency);
    const { consumerTag } = await channel.consume(name, (msg) => {
      if (!msg) return;
      const job = this.handle(channel, r, msg).catch((err) => this.log.error({ err, topic: r.topic }, 'queued job handling failed'));
      this.running.add(job);
      void job.finally(() => this.running.delete(job));
    });
    this.consumers.push({ channel, tag: consumerTag });
  }

  private async handle(channel: Channel, r: Registration, msg: ConsumeMessage): Promise<void> {
    let payload: unknown;
    try {
      payload = JSON.parse(msg.content.toString('utf8'));
    } catch {
      // A message no handler can read would be redelivered forever: drop it, loudly.
      this.log.error({ topic: r.topic, bytes: msg.content.length }, 'dropping a queued job that is not JSON');
      return this.ack(channel, msg);
    }
    try {
      await r.handler(payload);
    } catch (err) {
      const attempt = Number(msg.properties.headers?.[ATTEMPT_HEADER] ?? 0) + 1;
      this.log.warn({ err, topic: r.topic, attempt }, 'queued job failed');
      if (attempt < MAX_JOB_ATTEMPTS && !this.closed) {
        // Back off as the database queue does, then requeue with the attempt count.
        await sleep(1000 * attempt);
        await this.publish(r.topic, payload, attempt).catch((e) => this.log.error({ err: e, topic: r.topic }, 'requeue failed'));
      }
    }
    this.ack(channel, msg);
  }

  private ack(channel: Channel, msg: ConsumeMessage): void {
    try {
      channel.ack(msg);
    } catch {
      // The channel closed under us: the broker redelivers the unacknowledged message.
    }
  }

  async ping(): Promise<void> {
    if (!this.connection) throw new Error('not connected to RabbitMQ');
    // Opening a throwaway channel proves the connection is alive without touching real queues.
    const ch = await this.connection.createChannel();
    await ch.close();
  }

  async close(): Promise<void> {
    this.closed = true;
    // Stop deliveries, let running jobs finish and ack, and only then close their channels.
    for (const c of this.consumers) await c.channel.cancel(c.tag).catch(() => {});
    await Promise.allSettled([...this.running]);
    for (const c of this.consumers) await c.channel.close().catch(() => {});
    await this.publisher?.close().catch(() => {});
    await this.connection?.close().catch(() => {});
  }
}
