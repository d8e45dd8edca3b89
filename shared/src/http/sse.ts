import type { ServerResponse } from 'node:http';
import { once } from 'node:events';

export const SSE_HEADERS = {
  'content-type': 'text/event-stream; charset=utf-8',
  'cache-control': 'no-cache, no-transform',
  'x-accel-buffering': 'no',
  connection: 'keep-alive',
} as const;

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
    const payload = typeof data === 'string' ? data : JSON.stringify(data);
    const text = event ? `event: ${event}\ndata: ${payload}\n\n` : `data: ${payload}\n\n`;
    if (!this.res.write(text)) await Promise.race([once(this.res, 'drain'), once(this.res, 'close')]);
  }

  end(): void {
    if (!this.closed) this.res.end();
  }
}
