import type { ResponseStreamEvent, UnsequencedEvent } from '../wire/response-types.js';

/** The one place `sequence_number` is assigned: consecutive integers from `start` (0 for a new response). */
export async function* withSequenceNumbers(events: AsyncIterable<UnsequencedEvent>, start = 0): AsyncGenerator<ResponseStreamEvent> {
  let next = start;
  // Set on the event itself (each is a fresh object of the engine's): no copy per event.
  for await (const event of events) {
    const sequenced = event as ResponseStreamEvent;
    sequenced.sequence_number = next++;
    yield sequenced;
  }
}
