import { randomUUID } from 'node:crypto';
import type { Channel, ChannelModel, ConfirmChannel, ConsumeMessage, Options } from 'amqplib';
import { ServiceUnavailableError } from '../errors.js';
import type { Logger } from '../logging.js';
import { watchQueueDepth } from '../metrics/queue-depth.js';
import { listDeadLetters, replayDeadLetters, ATTEMPT_HEADER, ERROR_HEADER, FAILED_AT_HEADER } from './amqp-dead-letters.js';
import { AmqpTopology, Declarations } from './amqp-topology.js';
import { JobRun, type Outcome } from './job-run.js';
import { DEFAULT_DEAD_LETTER_LIMIT, type DeadLetter, type JobHandler, type TopicOptions, type TopicQueue } from './queue.js';
import { TopicRegistry, type ResolvedTopic } from './topics.js';

const MAX_RECONNECT_DELAY_MS = 10_000;
const DEFAULT_SHUTDOWN_GRACE_MS = 8000;
const CONSUMER_RESTART_MS = 500;

export interface AmqpQueueOptions {
  /** How long close() waits for running jobs before closing their channels (the broker then redelivers them). */
  shutdownGraceMs?: number;
}

interface Registration {
  topic: ResolvedTopic;
  handler: JobHandler;
  concurrency: number;
}

interface Consumer {
  channel: Channel;
  tag: string;
  runs: Set<JobRun>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * RabbitMQ: durable quorum queues (see AmqpTopology), persistent messages published with confirms,
 * prefetch = concurrency, and a message acknowledged only after its handler resolved. A failed job
 * goes to a retry queue whose TTL hands it back to the work queue later; one out of attempts goes to
 * the dead letters. A job in flight when its channel dies is redelivered by the broker. When the
 * broker goes away the queue reconnects with backoff and re-creates its consumers; publishing
 * meanwhile fails with a 503 rather than losing the job.
 */
export class AmqpQueue implements TopicQueue {
  readonly kind = 'amqp' as const;
  private readonly topics = new TopicRegistry();
  private readonly names: AmqpTopology;
  private readonly declared = new Declarations();
  private connection?: ChannelModel;
  private publisher?: Promise<ConfirmChannel>;
  private readonly registrations: Registration[] = [];
  private consumers: Consumer[] = [];
  private readonly running = new Set<Promise<void>>();
  private reconnecting?: Promise<void>;
  private closed = false;
  private readonly unwatchDepth: () => void;

  private constructor(private readonly url: string, prefix: string, private readonly log: Logger, private readonly opts: AmqpQueueOptions) {
    this.names = new AmqpTopology(prefix);
    this.unwatchDepth = watchQueueDepth(this);
  }

  static async connect(url: string, prefix: string, log: Logger, opts: AmqpQueueOptions = {}): Promise<AmqpQueue> {
    const queue = new AmqpQueue(url, prefix, log, opts);
    await queue.open().catch((err) => {
      queue.unwatchDepth();
      throw err;
    });
    return queue;
  }

  private async open(): Promise<void> {
    // amqplib loads only where AMQP_URL is set (distributed), not with every process.
    const { default: amqp } = await import('amqplib');
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
    this.declared.reset();
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

  /** The work queue of a topic. */
  queueName(topic: string): string {
    return this.names.work(topic);
  }

  defineTopic<T>(topic: string, opts: TopicOptions<T>): void {
    this.topics.define(topic, opts);
  }

  async publish(topic: string, payload: unknown): Promise<void> {
    this.topics.checkPublish(topic, payload);
    await this.send(this.names.work(topic), Buffer.from(JSON.stringify(payload)), { messageId: randomUUID(), headers: { [ATTEMPT_HEADER]: 0 } }, () =>
      this.names.workArgs(topic),
    );
  }

  /**
   * Publishes one persistent message and waits for the broker's confirm: only a confirmed message is
   * safe, without it a job could vanish with a dying connection.
   */
  private async send(queue: string, content: Buffer, props: Options.Publish, args: () => Options.AssertQueue): Promise<void> {
    const channel = await this.publishingChannel();
    await this.declared.ensure(channel, queue, args());
    await new Promise<void>((resolve, reject) => {
      channel.sendToQueue(queue, content, { persistent: true, contentType: 'application/json', ...props }, (err) => (err ? reject(err) : resolve()));
    });
  }

  private publishingChannel(): Promise<ConfirmChannel> {
    const connection = this.connection;
    if (!connection) return Promise.reject(new ServiceUnavailableError('The job queue (RabbitMQ) is not connected; try again shortly.', 'queue_unavailable'));
    if (!this.publisher) {
      const opening = connection.createConfirmChannel();
      this.publisher = opening;
      opening.then(
        // A channel the broker closed (e.g. a refused declaration) is replaced on the next publish.
        (ch) => {
          // Without a listener a channel error (e.g. a refused declaration) would crash the process.
          ch.on('error', (err) => this.log.error({ err }, 'amqp publishing channel error'));
          ch.on('close', () => this.publisher === opening && (this.publisher = undefined));
        },
        () => this.publisher === opening && (this.publisher = undefined),
      );
    }
    return this.publisher;
  }

  async consume<T>(topic: string, handler: JobHandler<T>, opts: { concurrency?: number } = {}): Promise<void> {
    const options = this.topics.get(topic);
    const registration = { topic: options, handler: handler as JobHandler, concurrency: opts.concurrency ?? options.concurrency };
    this.registrations.push(registration);
    const connection = this.connection;
    if (!connection) return;
    await this.startConsumer(connection, registration).catch((err: unknown) => {
      // The broker dropped, or closed the channel, while the consumer was being set up. Not the
      // caller's failure (a process must not die of a broker blip during its start): the reconnect
      // loop starts every registration again, and a closed channel consumes again on its own.
      this.log.warn({ err: (err as Error).message, topic }, 'starting an amqp consumer failed; it starts again with the channel or connection');
    });
  }

  /** Consumes again on the same connection after a pause; a lost connection is the reconnect loop's business. */
  private restartConsumerLater(connection: ChannelModel, r: Registration): void {
    setTimeout(() => {
      if (this.closed || this.connection !== connection) return;
      this.startConsumer(connection, r).catch((err) => this.log.error({ err, topic: r.topic.name }, 'restarting an amqp consumer failed'));
    }, CONSUMER_RESTART_MS).unref();
  }

  private async startConsumer(connection: ChannelModel, r: Registration): Promise<void> {
    const channel = await connection.createChannel();
    const consumer: Consumer = { channel, tag: '', runs: new Set() };
    channel.on('close', () => {
      // Unacked messages of a lost channel are redelivered by the broker: their runs here should stop.
      consumer.runs.forEach((run) => run.abort('channel-lost'));
      this.consumers = this.consumers.filter((c) => c !== consumer);
      // The broker may close just this channel (e.g. a job past its consumer_timeout): consume again.
      this.restartConsumerLater(connection, r);
    });
    channel.on('error', (err) => this.log.error({ err, topic: r.topic.name }, 'amqp consumer channel error'));
    const name = this.names.work(r.topic.name);
    await this.declared.ensure(channel, name, this.names.workArgs(r.topic.name));
    await channel.prefetch(r.concurrency);
    const { consumerTag } = await channel.consume(name, (msg) => {
      if (!msg) return;
      const job = this.handle(consumer, r, msg).catch((err) => this.log.error({ err, topic: r.topic.name }, 'queued job handling failed'));
      this.running.add(job);
      void job.finally(() => this.running.delete(job));
    });
    consumer.tag = consumerTag;
    this.consumers.push(consumer);
  }

  private async handle(consumer: Consumer, r: Registration, msg: ConsumeMessage): Promise<void> {
    const job = { id: msg.properties.messageId ?? randomUUID(), attempt: Number(msg.properties.headers?.[ATTEMPT_HEADER] ?? 0) + 1 };
    // Delivered (prefetched) just before close cancelled the consumer: not started, so handed back.
    if (this.closed) return this.settle(consumer.channel, r.topic, job, msg, { kind: 'release' });
    const run = new JobRun(job.id, r.topic, job.attempt);
    consumer.runs.add(run);
    let outcome: Outcome;
    try {
      outcome = await run.execute(JSON.parse(msg.content.toString('utf8')), r.handler);
    } catch {
      // Only JSON.parse throws here (execute turns every handler failure into an outcome).
      outcome = { kind: 'dead', error: 'payload is not JSON' };
    } finally {
      consumer.runs.delete(run);
    }
    // Its channel is gone, so is the delivery: the broker redelivers it, nothing to settle here.
    if (run.cutOff === 'channel-lost') return;
    await this.settle(consumer.channel, r.topic, job, msg, outcome);
  }

  private async settle(channel: Channel, topic: ResolvedTopic, job: { id: string; attempt: number }, msg: ConsumeMessage, outcome: Outcome): Promise<void> {
    const { id, attempt } = job;
    const log = { topic: topic.name, jobId: id, attempt };
    try {
      if (outcome.kind === 'retry') {
        this.log.warn({ ...log, error: outcome.error, retryInMs: outcome.delayMs }, 'queued job failed; retrying later');
        const props = { messageId: id, headers: { [ATTEMPT_HEADER]: attempt } };
        await this.send(this.names.retry(topic.name, outcome.delayMs), msg.content, props, () => this.names.retryArgs(topic.name, outcome.delayMs));
      } else if (outcome.kind === 'dead') {
        this.log.error({ ...log, error: outcome.error }, 'queued job dead-lettered');
        const headers = { [ATTEMPT_HEADER]: attempt, [ERROR_HEADER]: outcome.error, [FAILED_AT_HEADER]: Date.now() };
        await this.send(this.names.dead(topic.name), msg.content, { messageId: id, headers }, () => this.names.deadArgs());
      }
      if (outcome.kind === 'release') channel.nack(msg, false, true);
      else channel.ack(msg);
    } catch (err) {
      // Not moved (or the channel closed under us): left unacked, the broker delivers it again.
      this.log.error({ ...log, err }, 'settling a queued job failed; it will be redelivered');
      try {
        channel.nack(msg, false, true);
      } catch {
        // The channel is gone: the broker redelivers the unacknowledged message anyway.
      }
    }
  }

  async deadLetters(topic: string, opts: { limit?: number } = {}): Promise<DeadLetter[]> {
    return this.withChannel(async (ch) => {
      await this.declared.ensure(ch, this.names.dead(topic), this.names.deadArgs());
      return listDeadLetters(ch, this.names.dead(topic), topic, opts.limit ?? DEFAULT_DEAD_LETTER_LIMIT);
    });
  }

  async replayDeadLetters(topic: string, ids?: string[]): Promise<number> {
    return this.withChannel(async (ch) => {
      await this.declared.ensure(ch, this.names.dead(topic), this.names.deadArgs());
      return replayDeadLetters(ch, this.names.dead(topic), ids, (msg) =>
        this.send(this.names.work(topic), msg.content, { messageId: msg.properties.messageId ?? randomUUID(), headers: { [ATTEMPT_HEADER]: 0 } }, () =>
          this.names.workArgs(topic),
        ),
      );
    });
  }

  /**
   * Messages ready in the work queue of each topic this process knows (read by the depth gauge).
   * A passive check of a queue nobody declared yet closes the channel (404): that topic has 0 waiting
   * and the next one gets a fresh channel.
   */
  async depths(): Promise<Map<string, number>> {
    const depths = new Map<string, number>();
    const connection = this.connection;
    if (!connection) throw new Error('not connected to RabbitMQ');
    let ch: Channel | undefined;
    try {
      for (const topic of this.topics.names()) {
        if (!ch) {
          ch = await connection.createChannel();
          ch.on('error', () => {});
        }
        try {
          depths.set(topic, (await ch.checkQueue(this.names.work(topic))).messageCount);
        } catch {
          depths.set(topic, 0);
          ch = undefined;
        }
      }
    } finally {
      await ch?.close().catch(() => {});
    }
    return depths;
  }

  /** A short-lived channel for reading dead letters: closing it hands back whatever it still holds. */
  private async withChannel<T>(fn: (ch: Channel) => Promise<T>): Promise<T> {
    if (!this.connection) throw new ServiceUnavailableError('The job queue (RabbitMQ) is not connected; try again shortly.', 'queue_unavailable');
    const ch = await this.connection.createChannel();
    ch.on('error', () => {});
    try {
      return await fn(ch);
    } finally {
      await ch.close().catch(() => {});
    }
  }

  async ping(): Promise<void> {
    if (!this.connection) throw new Error('not connected to RabbitMQ');
    // Opening a throwaway channel proves the connection is alive without touching real queues.
    const ch = await this.connection.createChannel();
    await ch.close();
  }

  /**
   * Stops deliveries, aborts running jobs' signals and lets them settle (a job that throws after the
   * abort is requeued) within the grace period; then closes the channels, so whatever is still
   * unacknowledged is redelivered by the broker.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.unwatchDepth();
    for (const c of this.consumers) await c.channel.cancel(c.tag).catch(() => {});
    for (const c of this.consumers) c.runs.forEach((run) => run.abort('closing'));
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.opts.shutdownGraceMs ?? DEFAULT_SHUTDOWN_GRACE_MS)));
    await Promise.race([Promise.allSettled([...this.running]), graceOver]);
    clearTimeout(timer);
    for (const c of this.consumers) await c.channel.close().catch(() => {});
    await (await this.publisher?.catch(() => undefined))?.close().catch(() => {});
    await this.connection?.close().catch(() => {});
  }

  /** Every queue this instance declared (for tests that clean up after themselves). */
  declaredQueues(): string[] {
    return this.declared.names();
  }
}
