import { readFileSync } from 'node:fs';
import http from 'node:http';

// One keep-alive agent for every target: after warm-up no measured request pays for a TCP handshake.
const agent = new http.Agent({ keepAlive: true, maxSockets: 256, maxFreeSockets: 256 });

/** One kind of request sent to one server, e.g. a streaming chat completion to the gateway. */
export interface Probe {
  url: URL;
  body: Buffer;
  /** For streams: true once the text received so far holds the first content delta. */
  firstDelta?: (received: string) => boolean;
  /** Extra request headers (e.g. the API key). */
  headers?: Record<string, string>;
}

export interface Timing {
  status: number;
  /** Milliseconds from sending the request to the last byte of the reply. */
  totalMs: number;
  /** Milliseconds to the first content delta (streams only). */
  ttfdMs?: number;
}

export function probe(origin: string, path: string, body: unknown, firstDelta?: Probe['firstDelta'], headers?: Record<string, string>): Probe {
  return { url: new URL(path, origin), body: Buffer.from(JSON.stringify(body)), firstDelta, headers };
}

/** Sends one POST and reads the whole reply, timing it (and its first delta when asked). */
export function send(p: Probe): Promise<Timing> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const req = http.request(
      p.url,
      { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': p.body.length, ...p.headers } },
      (res) => {
        let ttfdMs: number | undefined;
        let received = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (!p.firstDelta || ttfdMs !== undefined) return;
          received += chunk;
          if (p.firstDelta(received)) ttfdMs = performance.now() - started;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, totalMs: performance.now() - started, ttfdMs }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(p.body);
  });
}

async function sendOk(p: Probe): Promise<Timing> {
  const t = await send(p);
  if (t.status !== 200) throw new Error(`${p.url.href} answered HTTP ${t.status}`);
  if (p.firstDelta && t.ttfdMs === undefined) throw new Error(`${p.url.href} streamed no content delta`);
  return t;
}

/**
 * Times `samples` requests of each probe at concurrency 1, after `warmup` unrecorded rounds. The
 * probes take turns request by request (in alternating order), so background load on this shared
 * machine hits both sides alike instead of biasing whichever ran second.
 */
export async function interleavedLatency(probes: Probe[], warmup: number, samples: number): Promise<Timing[][]> {
  const out: Timing[][] = probes.map(() => []);
  for (let i = 0; i < warmup + samples; i++) {
    const order = i % 2 === 0 ? probes.map((_, k) => k) : probes.map((_, k) => probes.length - 1 - k);
    for (const k of order) {
      const t = await sendOk(probes[k]!);
      if (i >= warmup) out[k]!.push(t);
    }
  }
  return out;
}

export interface Throughput {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  /** CPU seconds used meanwhile by each watched process (by pid), and by this load generator. */
  cpu: Map<number, number>;
  generatorCpu: number;
}

/**
 * Keeps `concurrency` requests in flight for `seconds` and counts completed 200s. Also records the
 * CPU time the watched processes used meanwhile: on shared cores, CPU per request is the steadier figure.
 */
export async function throughput(p: Probe, concurrency: number, seconds: number, watch: number[] = []): Promise<Throughput> {
  let requests = 0;
  let errors = 0;
  const cpuBefore = watch.map(processCpuSeconds);
  const ownBefore = process.cpuUsage();
  const started = performance.now();
  const deadline = started + seconds * 1000;
  const worker = async () => {
    while (performance.now() < deadline) {
      const t = await send(p).catch(() => ({ status: 0 }));
      if (t.status === 200) requests++;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - started) / 1000;
  const own = process.cpuUsage(ownBefore);
  const cpu = new Map<number, number>();
  watch.forEach((pid, i) => {
    const after = processCpuSeconds(pid);
    if (after !== undefined && cpuBefore[i] !== undefined) cpu.set(pid, after - cpuBefore[i]!);
  });
  return { requests, errors, seconds: elapsed, perSecond: requests / elapsed, cpu, generatorCpu: (own.user + own.system) / 1e6 };
}

/** Warms the connection pool (and the server's JIT) with a short burst at the given concurrency. */
export async function warm(p: Probe, concurrency: number, requests: number): Promise<void> {
  let left = requests;
  const worker = async () => {
    while (left-- > 0) await send(p).catch(() => undefined);
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
}

export function closeAgent(): void {
  agent.destroy();
}

/** CPU seconds (user + system, all threads) a process has used so far, from /proc; undefined off Linux. */
export function processCpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
// USER_HZ: 100 on every mainstream Linux build.
const CLOCK_TICKS = 100;
