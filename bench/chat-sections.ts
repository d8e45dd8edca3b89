import { interleavedLatency, probe, throughput, warm, type Timing } from './load.js';
import { percentile, type Row, type Section } from './report.js';
import { CHAT, CHAT_STREAM, chatDelta, SETTINGS } from './settings.js';

/** Something that relays chat completions to the mock: the gateway, or a reference beside it. */
export interface Relay {
  label: string;
  url: string;
  pid?: number;
  /** The gateway under test: its rows carry the targets; the others are reported for reference. */
  primary: boolean;
}

export const p50 = (ts: Timing[], key: 'totalMs' | 'ttfdMs' = 'totalMs') => percentile(ts.map((t) => t[key]!), 50);
export const p99 = (ts: Timing[], key: 'totalMs' | 'ttfdMs' = 'totalMs') => percentile(ts.map((t) => t[key]!), 99);

const suffix = (r: Relay) => (r.primary ? '' : `, ${r.label}`);

/** Sections 1–3: chat completions straight to the mock against the same through each relay. */
export async function chatSections(mock: { url: string; pid?: number }, relays: Relay[], print: (s: Section) => void): Promise<void> {
  const direct = probe(mock.url, '/v1/chat/completions', CHAT);
  const directStream = probe(mock.url, '/v1/chat/completions', CHAT_STREAM, chatDelta);
  const plain = relays.map((r) => probe(r.url, '/v1/chat/completions', CHAT));
  const streams = relays.map((r) => probe(r.url, '/v1/chat/completions', CHAT_STREAM, chatDelta));
  // JIT and connection pools of every process, before anything is recorded.
  for (const p of [direct, directStream, ...plain, ...streams]) await warm(p, 8, 1500);
  const others = relays.filter((r) => !r.primary).map((r) => `"${r.label}"`);
  const note = others.length ? `; rows marked ${others.join(', ')} put that relay in the gateway column, for reference` : '';

  if (SETTINGS.only.includes('1')) {
    const [d, ...via] = await interleavedLatency([direct, ...plain], SETTINGS.warmup, SETTINGS.samples);
    const rows: Row[] = [];
    relays.forEach((r, i) => {
      rows.push({ metric: `p50 latency${suffix(r)}`, unit: 'ms', direct: p50(d!), gateway: p50(via[i]!), kind: 'added', target: r.primary ? 0.6 : undefined });
      if (r.primary) rows.push({ metric: 'p99 latency', unit: 'ms', direct: p99(d!), gateway: p99(via[i]!), kind: 'added' });
    });
    print({
      title: '1. Non-streaming chat completions, concurrency 1',
      note: `${SETTINGS.samples} requests each after ${SETTINGS.warmup} warm-up rounds, taking turns request by request${note}`,
      rows,
    });
  }

  if (SETTINGS.only.includes('2')) {
    const targets = [direct, ...plain];
    // The process doing the work for each target: the mock itself for direct, else the relay in front of it.
    const pids = [mock.pid, ...relays.map((r) => r.pid)];
    const rate = targets.map(() => 0);
    const cpu = targets.map(() => ({ relay: 0, mock: 0, generator: 0, requests: 0 }));
    let errors = 0;
    for (let round = 0; round < SETTINGS.rounds; round++) {
      // Rotate who goes first, so a drift in background load does not favour one side.
      for (let i = 0; i < targets.length; i++) {
        const k = (i + round) % targets.length;
        const watch = [pids[0], pids[k]].filter((p): p is number => p !== undefined);
        const t = await throughput(targets[k]!, SETTINGS.concurrency, SETTINGS.seconds, watch);
        errors += t.errors;
        rate[k]! += t.perSecond / SETTINGS.rounds;
        const c = cpu[k]!;
        c.mock += t.cpu.get(pids[0]!) ?? NaN;
        if (k > 0) c.relay += t.cpu.get(pids[k]!) ?? NaN;
        c.generator += t.generatorCpu;
        c.requests += t.requests;
      }
    }
    const us = (seconds: number, requests: number) => `${((seconds / requests) * 1e6).toFixed(0)} µs`;
    const cpuNote = cpu
      .map((c, k) => `${k === 0 ? 'direct' : relays[k - 1]!.label}: ${k === 0 ? '' : `relay ${us(c.relay, c.requests)}, `}mock ${us(c.mock, c.requests)}, generator ${us(c.generator, c.requests)}`)
      .join('; ');
    print({
      title: `2. Non-streaming chat completions, concurrency ${SETTINGS.concurrency}`,
      note: `${SETTINGS.rounds} rounds x ${SETTINGS.seconds} s per side, mean requests/s${errors ? `; ${errors} failed requests` : ''}${note}\nCPU per request (user+system, all threads): ${cpuNote}`,
      rows: relays.map((r, i) => ({ metric: `throughput${suffix(r)}`, unit: 'req/s', direct: rate[0]!, gateway: rate[i + 1]!, kind: 'ratio', target: r.primary ? 0.4 : undefined })),
    });
  }

  if (SETTINGS.only.includes('3')) {
    const [d, ...via] = await interleavedLatency([directStream, ...streams], SETTINGS.warmup, SETTINGS.streamSamples);
    const rows: Row[] = [];
    relays.forEach((r, i) => {
      rows.push({ metric: `p50 TTFD${suffix(r)}`, unit: 'ms', direct: p50(d!, 'ttfdMs'), gateway: p50(via[i]!, 'ttfdMs'), kind: 'added', target: r.primary ? 1 : undefined });
      if (!r.primary) return;
      rows.push({ metric: 'p99 TTFD', unit: 'ms', direct: p99(d!, 'ttfdMs'), gateway: p99(via[i]!, 'ttfdMs'), kind: 'added' });
      rows.push({ metric: 'p50 whole stream', unit: 'ms', direct: p50(d!), gateway: p50(via[i]!), kind: 'added' });
    });
    print({
      title: '3. Streaming chat completions, concurrency 1',
      note: `${SETTINGS.streamSamples} streams each; TTFD = time from sending the request to the first non-empty content delta${note}`,
      rows,
    });
  }
}
