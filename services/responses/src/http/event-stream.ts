import type { Response } from 'express';
import { SseWriter, errorEventData, toApiError, type Logger } from '@rgw/shared';
import type { ResponseStreamEvent } from '../wire/response-types.js';

const LIFECYCLE_START = new Set(['response.created', 'response.in_progress']);

/** An AbortSignal that fires when the client goes away before the reply was fully written. */
export function abortOnClientGone(res: Response): AbortController {
  const controller = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) controller.abort();
  });
  return controller;
}

/**
 * Writes events as SSE (`event:` + `data:` lines). With `holdStart`, response.created and
 * response.in_progress wait until the first event after them: if the generator throws before that
 * (an upstream error before any output), nothing was written and the error propagates to the error
 * middleware as a proper HTTP status. A failure after the first byte becomes an `error` event.
 */
export async function writeEventStream(res: Response, events: AsyncGenerator<ResponseStreamEvent>, opts: { holdStart: boolean; log: Logger }): Promise<void> {
  const writer = new SseWriter(res);
  const held: ResponseStreamEvent[] = [];
  let started = false;
  let lastSeq = -1;
  let opened = false;
  const send = async (event: ResponseStreamEvent) => {
    if (!opened) {
      // The headers (SseWriter flushes them at once) and the first burst of events leave in one
      // packet: a separate one for the headers costs every hop to the client another wake-up.
      res.cork();
      process.nextTick(() => res.uncork());
    }
    opened = true;
    lastSeq = event.sequence_number;
    await writer.send(event.type, event);
  };
  try {
    for (;;) {
      const step = await events.next();
      if (step.done) break;
      const event = step.value;
      if (!started && opts.holdStart && LIFECYCLE_START.has(event.type)) {
        held.push(event);
        continue;
      }
      if (!started) {
        started = true;
        for (const h of held.splice(0)) await send(h);
      }
      await send(event);
      if (writer.closed) break;
    }
    if (!started) for (const h of held) await send(h);
  } catch (err) {
    if (!started) throw err;
    const apiError = toApiError(err);
    opts.log.error({ err }, 'response stream failed after it started');
    await writer.send('error', errorEventData(apiError, lastSeq + 1));
  } finally {
    await events.return(undefined).catch(() => {});
    if (opened) writer.end();
  }
}
