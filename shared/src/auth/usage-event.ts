import { z } from 'zod';

/**
 * What a process that called a model server on a client's behalf reports, so usage per key and model
 * is recorded (and tokens-per-minute limits settled) in one place, the gateway, whichever process
 * made the call: published on the queue topic USAGE_TOPIC.
 */
export const USAGE_TOPIC = 'usage.recorded';

export const usageEventSchema = z.object({
  projectId: z.string().min(1),
  keyId: z.string().min(1).optional(),
  model: z.string().min(1),
  requests: z.number().int().min(0),
  input_tokens: z.number().int().min(0),
  output_tokens: z.number().int().min(0),
  /** When the call finished (ms since the epoch). */
  at: z.number().int(),
});
export type UsageEvent = z.infer<typeof usageEventSchema>;

/** Defines the usage topic on a queue; the publisher (responses) and the consumer (gateway) share one definition. */
export function defineUsageTopic(queue: { defineTopic(name: string, opts: { schema: typeof usageEventSchema; concurrency?: number }): unknown }): void {
  queue.defineTopic(USAGE_TOPIC, { schema: usageEventSchema, concurrency: 8 });
}
