import type { ResponseStreamEvent, UnsequencedEvent } from '../wire/response-types.js';

/** The one place `sequence_number` is assigned: consecutive integers from `start` (0 for a new response). */
export async function* withSequenceNumbers(events: AsyncIterable<UnsequencedEvent>, start = 0): AsyncGenerator<ResponseStreamEvent> {
  let next = start;
  for await (const event of events) yield { ...event, sequence_number: next++ };
}
