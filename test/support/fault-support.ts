import { connect, createServer, type Server, type Socket } from 'node:net';
import OpenAI from 'openai';
import { inject } from 'vitest';
import { MockControl, type ChatScript } from './mock-model-server.js';
import { distributedUnavailable, type Mode } from './platform-harness.js';

/** The modes a fault suite runs (TEST_MODES; distributed only where Postgres, Redis and RabbitMQ answer). */
export async function faultModes(): Promise<Mode[]> {
  const modes = (process.env.TEST_MODES ?? 'embedded,distributed').split(',') as Mode[];
  const why = modes.includes('distributed') ? await distributedUnavailable() : undefined;
  if (why) console.warn(`fault suite: distributed mode skipped (${why})`);
  return modes.filter((m) => m === 'embedded' || (m === 'distributed' && !why));
}

export const mockOrigin = inject('mockOrigin');
export const mock = new MockControl(mockOrigin);

/** What every fault platform runs with: the shared mock model server, and short leases so a test waits seconds, not tens. */
export const FAULT_ENV = {
  BACKEND_BASE_URL: `${mockOrigin}/v1`,
  BACKEND_API_KEY: 'mock-key',
  RESPONSE_LEASE_MS: '3000',
  RESPONSE_SWEEP_MS: '1000',
  SHUTDOWN_TIMEOUT_MS: '3000',
};

export function client(baseURL: string): OpenAI {
  return new OpenAI({ baseURL, apiKey: 'test-key', maxRetries: 0 });
}

/** A reply that streams for `seconds`: a reasoning item first (done as soon as the text starts), then slow text. */
export function slowReply(seconds: number, text = 'slow'): ChatScript {
  const words = Math.round((seconds * 1000) / 50);
  return { type: 'text', text, reasoning: 'thinking first', chunks: Array.from({ length: words }, (_, i) => `${text}${i} `), delayMs: 50 };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function waitFor<T>(get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number, what: string): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await get().catch((e: unknown) => e as T);
    if (ok(v)) return v;
    if (Date.now() > until) throw new Error(`${what}: not met within ${timeoutMs} ms (last: ${String(JSON.stringify(v)).slice(0, 300)})`);
    await sleep(100);
  }
}

export const TERMINAL = new Set(['completed', 'failed', 'cancelled', 'incomplete']);

/**
 * A TCP relay to RabbitMQ (as in topology.test.ts) that can be cut and restored on the same port:
 * `cut` destroys every relayed connection and refuses new ones, `restore` lets them through again,
 * so a process pointed at it sees the broker vanish and come back.
 */
export async function cuttableRelay(target: URL): Promise<{ url: string; cut(): void; restore(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  let refusing = false;
  const server: Server = createServer((inbound) => {
    if (refusing) return inbound.destroy();
    const outbound = connect(Number(target.port || 5672), target.hostname);
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => sockets.delete(s));
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const relayed = new URL(target);
  relayed.host = `127.0.0.1:${(server.address() as { port: number }).port}`;
  return {
    url: relayed.toString(),
    cut() {
      refusing = true;
      for (const s of sockets) s.destroy();
    },
    restore() {
      refusing = false;
    },
    close: () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
