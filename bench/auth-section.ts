import { p50, p99 } from './chat-sections.js';
import { interleavedLatency, probe, warm } from './load.js';
import type { BenchPlatform } from './processes.js';
import type { Section } from './report.js';
import { CHAT, SETTINGS } from './settings.js';

export const BENCH_KEY = 'bench-api-key-0123456789';

/** The environment of the keyed gateway: one static key, and limits it never reaches (so they are checked on every request). */
export const KEYED_ENV = { API_KEYS: BENCH_KEY, RATE_LIMIT_RPM: '100000000', RATE_LIMIT_TPM: '1000000000000' };

/**
 * Section 5: what key checking and rate limiting add to non-streaming chat completions. The same
 * request through an open gateway (the "direct" column) and through one that requires a key and
 * counts requests and tokens per minute, taking turns request by request.
 */
export async function authSection(open: BenchPlatform, keyed: BenchPlatform, print: (s: Section) => void): Promise<void> {
  const plain = probe(open.url, '/v1/chat/completions', CHAT);
  const withKey = probe(keyed.url, '/v1/chat/completions', CHAT, undefined, { authorization: `Bearer ${BENCH_KEY}` });
  for (const p of [plain, withKey]) await warm(p, 8, 1500);
  const [o, k] = await interleavedLatency([plain, withKey], SETTINGS.warmup, SETTINGS.samples);
  print({
    title: '5. API key check and rate limits, non-streaming chat completions, concurrency 1',
    note: `${SETTINGS.samples} requests each; "direct" = the open gateway (no key), "gateway" = API_KEYS with RATE_LIMIT_RPM/TPM set (embedded: in-memory counters)`,
    rows: [
      { metric: 'p50 latency', unit: 'ms', direct: p50(o!), gateway: p50(k!), kind: 'added', target: 0.1 },
      { metric: 'p99 latency', unit: 'ms', direct: p99(o!), gateway: p99(k!), kind: 'added' },
    ],
  });
}
