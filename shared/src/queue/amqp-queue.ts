import amqp, { type Channel, type ChannelModel, type ConsumeMessage } from 'amqplib';
import type { Logger } from '../logging.js';
import { MAX_JOB_ATTEMPTS, type JobHandler, type Queue } from './queue.js';

const ATTEMPT_HEADER = 'x-attempt';

/** RabbitMQ: one durable queue per topic, persistent messages, acknowledged only after the handler succeeds. */
export class AmqpQueue implements Queue {
  readonly kind = 'amqp' as const;
  private readonly consumers: { channel: Channel; tag: string }[] = [];
  private readonly running = new Set<Promise<void>>();
  private closed = false;

  private constructor(private readonly connection: ChannelModel, private readonly publisher: Channel, private readonly prefix: string, private readonly log: Logger) {}

  static async connect(url: string, prefix: string, log: Logger): Promise<AmqpQueue> {
    const connection = await amqp.connect(url);
    connection.on('error', (err) => log.error({ err }, 'amqp connection error'));
    const publisher = await connection.createChannel();
    return new AmqpQueue(connection, publisher, prefix, log);
  }

  private queueName(topic: string): string {
    return `${this.prefix}.${topic}`;
  }

  async publish(topic: string, payload: unknown, attempt = 0): Promise<void> {
    const name = this.queueName(topic);
    await this.publisher.assertQueue(name, { durable: true });
    this.publisher.sendToQueue(name, Buffer.from(JSON.stringify(payload)), {
      persistent: true,
      contentType: 'application/json',
      headers: { [ATTEMPT_HEADER]: attempt },
    });
  }

  async consume(topic: string, handler: JobHandler, opts: { concurrency?: number } = {}): Promise<void> {
    const channel = await this.connection.createChannel();
    const name = this.queueName(topic);
    await channel.assertQueue(name, { durable: true });
    await channel.prefetch(opts.concurrency ?? 4);
    const { consumerTag } = await channel.consume(name, (msg) => {
      if (!msg) return;
      const job = this.handle(channel, topic, msg, handler);
      this.running.add(job);
      void job.finally(() => this.running.delete(job));
    });
    this.consumers.push({ channel, tag: consumerTag });
  }

  private async handle(channel: Channel, topic: string, msg: ConsumeMessage, handler: JobHandler): Promise<void> {
    try {
      await handler(JSON.parse(msg.content.toString('utf8')));
    } catch (err) {
      const attempt = Number(msg.properties.headers?.[ATTEMPT_HEADER] ?? 0) + 1;
      this.log.warn({ err, topic, attempt }, 'queued job failed');
      if (attempt < MAX_JOB_ATTEMPTS && !this.closed) {
        await this.publish(topic, JSON.parse(msg.content.toString('utf8')), attempt).catch(() => {});
      }
    }
    try {
      channel.ack(msg);
    } catch {
      // The channel closed under us: the broker redelivers the unacknowledged message elsewhere.
    }
  }

  async ping(): Promise<void> {
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
    await this.publisher.close().catch(() => {});
    await this.connection.close().catch(() => {});
  }
}
