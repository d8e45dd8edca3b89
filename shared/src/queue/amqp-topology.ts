import type { Channel, Options } from 'amqplib';

/**
 * The RabbitMQ queues of one topic, all durable quorum queues on the default exchange:
 *   `<prefix>.q.<topic>`               work queue (a message redelivered past DELIVERY_LIMIT goes to .dead)
 *   `<prefix>.q.<topic>.retry.<ms>`    one per backoff delay: no consumer, messages expire after <ms>
 *                                      and are dead-lettered back to the work queue (the delayed requeue)
 *   `<prefix>.q.<topic>.dead`          dead letters, read and replayed by the queue itself
 * The `.q.` marker keeps these names apart from the classic queues `<prefix>.<topic>` of earlier
 * versions: redeclaring a queue with other arguments fails (PRECONDITION_FAILED).
 */
export class AmqpTopology {
  constructor(private readonly prefix: string) {}

  work(topic: string): string {
    return `${this.prefix}.q.${topic}`;
  }

  retry(topic: string, delayMs: number): string {
    return `${this.work(topic)}.retry.${delayMs}`;
  }

  dead(topic: string): string {
    return `${this.work(topic)}.dead`;
  }

  workArgs(topic: string): Options.AssertQueue {
    // Messages that keep coming back without ever being settled (a consumer that crashes the process
    // on them) end in the dead letters instead of looping; 4.x brokers default to 20 anyway.
    return quorum({ 'x-delivery-limit': DELIVERY_LIMIT, 'x-dead-letter-exchange': '', 'x-dead-letter-routing-key': this.dead(topic) });
  }

  retryArgs(topic: string, delayMs: number): Options.AssertQueue {
    // One fixed delay per queue: a per-message TTL only expires at the head, so mixed delays would wait
    // for each other. At-least-once dead-lettering (which needs reject-publish) never drops a retry.
    return quorum({
      'x-message-ttl': delayMs,
      'x-dead-letter-exchange': '',
      'x-dead-letter-routing-key': this.work(topic),
      'x-dead-letter-strategy': 'at-least-once',
      'x-overflow': 'reject-publish',
    });
  }

  deadArgs(): Options.AssertQueue {
    // Listing dead letters reads them and puts them back, which counts deliveries: no practical limit here.
    return quorum({ 'x-delivery-limit': 1_000_000 });
  }
}

const DELIVERY_LIMIT = 20;

function quorum(args: Record<string, unknown>): Options.AssertQueue {
  return { durable: true, arguments: { 'x-queue-type': 'quorum', ...args } };
}

/** Declares each queue once per connection (declaring is idempotent but costs a round trip). */
export class Declarations {
  private readonly done = new Set<string>();
  private readonly ever = new Set<string>();

  async ensure(channel: Channel, name: string, opts: Options.AssertQueue): Promise<void> {
    if (this.done.has(name)) return;
    await channel.assertQueue(name, opts);
    this.done.add(name);
    this.ever.add(name);
  }

  /** Every queue this instance declared (tests delete them afterwards). */
  names(): string[] {
    return [...this.ever];
  }

  reset(): void {
    this.done.clear();
  }
}
