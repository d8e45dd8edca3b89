import { interleavedLatency, probe, processCpuSeconds, send, throughput, warm, type Probe } from './load.js';
import type { BenchPlatform } from './processes.js';
import type { Row, Section } from './report.js';
import { chatDelta, SETTINGS } from './settings.js';
import { p50, p99 } from './chat-sections.js';

const HI_CHAT = { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] };
const RESPONSE = { model: 'mock-model', input: 'hi' };
const outputTextDelta = (text: string) => text.includes('response.output_text.delta');

/** Issue 13's targets per mode: added p50 and first delta (ms), throughput share of direct at concurrency 32. */
const TARGETS = {
  embedded: { p50: 1.5, firstDelta: 1, share: 0.25, cpuMs: 0.6 },
  distributed: { p50: 3, firstDelta: 2, share: 0.15, cpuMs: undefined },
} as const;

/**
 * Section 4: a stored Responses API call against the same prompt sent straight to the mock as a chat
 * completion, i.e. everything the platform adds over one model call (validation, storage, events);
 * then the same at concurrency 32 with the platform's CPU per response, stored and `store: false`.
 */
export async function responsesSection(mock: { url: string; pid?: number }, platform: BenchPlatform, print: (s: Section) => void): Promise<void> {
  const title = `4. Responses API (${platform.mode}), concurrency 1`;
  const targets = TARGETS[platform.mode];
  const stored = probe(platform.url, '/v1/responses', RESPONSE);
  const first = await send(stored).catch(() => ({ status: 0 }));
  if (first.status !== 200) {
    print({ title, rows: [], skipped: `POST /v1/responses not available (HTTP ${first.status})` });
    return;
  }
  const unstored = probe(platform.url, '/v1/responses', { ...RESPONSE, store: false });
  const direct = probe(mock.url, '/v1/chat/completions', HI_CHAT);
  const viaChat = probe(platform.url, '/v1/chat/completions', HI_CHAT);
  const directStream = probe(mock.url, '/v1/chat/completions', { ...HI_CHAT, stream: true }, chatDelta);
  const streamed = probe(platform.url, '/v1/responses', { ...RESPONSE, stream: true }, outputTextDelta);
  const warmup = Math.min(SETTINGS.warmup, 100);
  // Pools and JIT of every process (the distributed gateway's pool to the responses service too).
  for (const p of [direct, stored, unstored, viaChat, streamed]) await warm(p, 8, 400);
  const [d, g, u] = await interleavedLatency([direct, stored, unstored], warmup, SETTINGS.responsesSamples);
  const [ds, gs] = await interleavedLatency([directStream, streamed], warmup, SETTINGS.responsesSamples);
  print({
    title,
    note: `${SETTINGS.responsesSamples} requests each; direct = the same prompt sent straight to the mock as a chat completion`,
    rows: [
      { metric: 'stored, p50 latency', unit: 'ms', direct: p50(d!), gateway: p50(g!), kind: 'added', target: targets.p50 },
      { metric: 'stored, p99 latency', unit: 'ms', direct: p99(d!), gateway: p99(g!), kind: 'added' },
      { metric: 'store:false, p50 latency', unit: 'ms', direct: p50(d!), gateway: p50(u!), kind: 'added' },
      { metric: 'stream, p50 to first output_text.delta', unit: 'ms', direct: p50(ds!, 'ttfdMs'), gateway: p50(gs!, 'ttfdMs'), kind: 'added', target: targets.firstDelta },
    ],
  });
  await concurrencySection(mock, platform, { direct, stored, unstored, viaChat }, print);
}

/** Throughput at concurrency N and the platform's CPU per request: stored, store:false, a plain chat completion. */
async function concurrencySection(m: { pid?: number }, pf: BenchPlatform, probes: Record<'direct' | 'stored' | 'unstored' | 'viaChat', Probe>, print: (s: Section) => void) {
  const targets = TARGETS[pf.mode];
  const platformPids = pf.processes.filter((p) => pf.mode === 'embedded' || /gateway|responses/.test(p.name)).map((p) => p.child.pid!);
  const order = ['direct', 'viaChat', 'stored', 'unstored'] as const;
  const rate = { direct: 0, viaChat: 0, stored: 0, unstored: 0 };
  const cpu = { direct: 0, viaChat: 0, stored: 0, unstored: 0 };
  const count = { direct: 0, viaChat: 0, stored: 0, unstored: 0 };
  let errors = 0;
  for (let round = 0; round < SETTINGS.rounds; round++) {
    for (let i = 0; i < order.length; i++) {
      const k = order[(i + round) % order.length]!;
      const watch = k === 'direct' ? [m.pid!] : platformPids;
      const t = await throughput(probes[k], SETTINGS.concurrency, SETTINGS.seconds, watch.filter((p) => processCpuSeconds(p) !== undefined));
      errors += t.errors;
      rate[k] += t.perSecond / SETTINGS.rounds;
      cpu[k] += [...t.cpu.values()].reduce((a, b) => a + b, 0);
      count[k] += t.requests;
    }
  }
  // Milliseconds of CPU per request: the platform's processes (the mock's for direct).
  const ms = (k: keyof typeof cpu) => (cpu[k] / count[k]) * 1e3;
  const who = pf.mode === 'embedded' ? 'the gateway process' : 'the gateway and responses processes (Postgres not counted)';
  const rows: Row[] = [
    { metric: 'stored, throughput', unit: 'req/s', direct: rate.direct, gateway: rate.stored, kind: 'ratio', target: targets.share },
    { metric: 'store:false, throughput', unit: 'req/s', direct: rate.direct, gateway: rate.unstored, kind: 'ratio' },
    { metric: 'chat completion, throughput', unit: 'req/s', direct: rate.direct, gateway: rate.viaChat, kind: 'ratio' },
    // CPU rows: direct = 0, so "added" is the platform's CPU per request itself.
    { metric: 'stored, platform CPU per response', unit: 'ms', direct: 0, gateway: ms('stored'), kind: 'added', target: targets.cpuMs },
    { metric: 'store:false, platform CPU per response', unit: 'ms', direct: 0, gateway: ms('unstored'), kind: 'added' },
    { metric: 'chat completion, platform CPU per request', unit: 'ms', direct: 0, gateway: ms('viaChat'), kind: 'added' },
    // On a crowded machine CPU per request inflates too; against a chat completion in the same process and run it holds better.
    { metric: 'stored CPU against a chat completion', unit: 'ms', direct: ms('viaChat'), gateway: ms('stored'), kind: 'ratio' },
    { metric: 'store:false CPU against a chat completion', unit: 'ms', direct: ms('viaChat'), gateway: ms('unstored'), kind: 'ratio' },
    // Issue 13: store:false at most half the cost of a stored response (CPU, the steady figure here).
    { metric: 'store:false CPU minus half the stored', unit: 'ms', direct: ms('stored') / 2, gateway: ms('unstored'), kind: 'added', target: 0 },
  ];
  print({
    title: `4. Responses API (${pf.mode}), concurrency ${SETTINGS.concurrency}`,
    note:
      `${SETTINGS.rounds} rounds x ${SETTINGS.seconds} s per side, mean requests/s${errors ? `; ${errors} failed requests` : ''}; ` +
      `direct = chat completions straight to the mock (its CPU ${ms('direct').toFixed(3)} ms/request)\n` +
      `CPU = user+system of ${who} from /proc, divided by completed requests`,
    rows,
  });
}
