import type { ResponseStreamEvent, UnsequencedEvent } from '../wire/response-types.js';

/**
 * The one place `sequence_number` is assigned: a numberer giving consecutive integers from `start`
 * (0 for a new response), set on the event itself (each is a fresh object of the engine's): no copy.
 */
export function sequencer(start = 0): (event: UnsequencedEvent) => ResponseStreamEvent {
  let next = start;
  return (event) => {
    const sequenced = event as ResponseStreamEvent;
    sequenced.sequence_number = next++;
    return sequenced;
  };
}

/** `events` numbered by a sequencer, as a stream of their own. */
export async function* withSequenceNumbers(events: AsyncIterable<UnsequencedEvent>, start = 0): AsyncGenerator<ResponseStreamEvent> {
  const number = sequencer(start);
  for await (const event of events) yield number(event);
}
