import type { ServerResponse } from 'node:http';
import { once } from 'node:events';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
} as const;

/** One server-sent event: an `event:` line (when named) and a `data:` line. */
export function sseFrame(event: string | null, data: unknown): string {
  const payload = typeof data === 'string' ? data : JSON.stringify(data);
  return event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`;
}

/** The data of a bare Responses-stream `error` event (spec ResponseErrorEvent), numbered when the number is known. */
export function errorEventData(err: { code: string | null; message: string; param: string | null }, sequenceNumber?: number): Record<string, unknown> {
  const event: Record<string, unknown> = { type: 'error', code: err.code ?? 'server_error', message: err.message, param: err.param };
  if (sequenceNumber !== undefined) event.sequence_number = sequenceNumber;
  return event;
}

/** Writes server-sent events with `event:` and `data:` lines, honouring write() backpressure. */
export class SseWriter {
  private started = false;
  constructor(private readonly res: ServerResponse) {}

  get closed(): boolean {
    return this.res.destroyed || this.res.writableEnded;
  }

  start(status = 200): void {
    if (this.started) return;
    this.started = true;
    this.res.writeHead(status, SSE_HEADERS);
    this.res.flushHeaders();
  }

  /** Resolves once the chunk is handed to the socket, or at once when the socket has room. */
  async send(event: string | null, data: unknown): Promise<void> {
    this.start();
    if (this.closed) return;
    if (!this.res.write(sseFrame(event, data))) await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
  }

  end(): void {
    if (!this.closed) this.res.end();
  }
}
