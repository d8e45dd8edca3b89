import type { Channel, GetMessage } from 'amqplib';
import type { DeadLetter } from './queue.js';

/** Failed attempts so far (work and retry queues); attempts made (dead letters). */
export const ATTEMPT_HEADER = 'x-attempt';
export const ERROR_HEADER = 'x-last-error';
export const FAILED_AT_HEADER = 'x-failed-at';
/** Dead letters looked at in one replay; the rest wait for the next call. */
const MAX_REPLAY_SCAN = 10_000;

/**
 * AMQP cannot browse a queue: listing takes messages without acknowledging them and hands them all
 * back when the caller closes the channel, so the dead letters stay where they were.
 */
export async function listDeadLetters(channel: Channel, queue: string, topic: string, limit: number): Promise<DeadLetter[]> {
  const letters: DeadLetter[] = [];
  while (letters.length < limit) {
    const msg = await channel.get(queue, { noAck: false });
    if (!msg) break;
    letters.push(toDeadLetter(topic, msg));
  }
  channel.nackAll(true);
  return letters;
}

/**
 * Takes dead letters (all, or those with the given ids), republishes each to the work queue with its
 * attempts reset (`requeue`, confirmed) and only then acknowledges it; the others go back untouched.
 */
export async function replayDeadLetters(channel: Channel, queue: string, ids: string[] | undefined, requeue: (msg: GetMessage) => Promise<void>): Promise<number> {
  const wanted = ids ? new Set(ids) : undefined;
  if (wanted?.size === 0) return 0;
  let replayed = 0;
  for (let scanned = 0; scanned < MAX_REPLAY_SCAN; scanned++) {
    const msg = await channel.get(queue, { noAck: false });
    if (!msg) break;
    // A message not asked for stays unacknowledged (so `get` moves past it) until nackAll hands it back.
    if (wanted && !wanted.has(String(msg.properties.messageId))) continue;
    await requeue(msg);
    channel.ack(msg);
    replayed++;
    if (wanted && replayed === wanted.size) break;
  }
  channel.nackAll(true);
  return replayed;
}

function toDeadLetter(topic: string, msg: GetMessage): DeadLetter {
  const headers = msg.properties.headers ?? {};
  let payload: unknown;
  try {
    payload = JSON.parse(msg.content.toString('utf8'));
  } catch {
    payload = msg.content.toString('utf8');
  }
  return {
    id: String(msg.properties.messageId ?? ''),
    topic,
    payload,
    attempts: Number(headers[ATTEMPT_HEADER] ?? 0),
    // Without our header the broker dead-lettered it (redelivered past the work queue's delivery limit).
    lastError: headers[ERROR_HEADER] !== undefined ? String(headers[ERROR_HEADER]) : brokerReason(headers),
    failedAt: Number(headers[FAILED_AT_HEADER] ?? 0) || deathTime(headers),
  };
}

type Death = { reason?: string; time?: unknown; count?: number };

function brokerReason(headers: Record<string, unknown>): string | null {
  const death = (headers['x-death'] as Death[] | undefined)?.[0];
  return death ? `dead-lettered by the broker (${death.reason ?? 'unknown reason'})` : null;
}

function deathTime(headers: Record<string, unknown>): number {
  const time = (headers['x-death'] as Death[] | undefined)?.[0]?.time as { value?: number } | number | undefined;
  // amqplib decodes AMQP timestamps (seconds) either bare or as {'!': 'timestamp', value}.
  const seconds = typeof time === 'number' ? time : Number(time?.value ?? 0);
  return seconds * 1000;
}
