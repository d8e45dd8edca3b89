import { freePort } from '../scripts/launcher.js';
import { ExtProcClient, type EnvoyRequest } from '../test/support/extproc-client.js';
import { p50, p99 } from './chat-sections.js';
import { probe, processCpuSeconds, send, type Probe, type Timing } from './load.js';
import { startEmbedded } from './processes.js';
import type { Section } from './report.js';
import { CHAT, SETTINGS } from './settings.js';

const RESPONSE = { model: 'mock-model', input: 'hi', store: true };

/**
 * Section 10: ExtProc mode's cost. The same non-streaming chat completion and stored response sent
 * to one embedded gateway over HTTP ("direct") and through its external processor the way Envoy's
 * ext_proc filter sends it ("gateway": a gRPC stream with the headers, then the buffered body, the
 * answer an immediate response), taking turns request by request. Plus the gateway's CPU per
 * request each way (from /proc: steadier than wall-clock time on a busy machine).
 */
export async function extprocSection(env: Record<string, string>, print: (s: Section) => void): Promise<void> {
  const port = await freePort();
  const platform = await startEmbedded({ ...env, EXTPROC_PORT: String(port) }, []);
  const ext = new ExtProcClient(`127.0.0.1:${port}`);
  try {
    const pid = platform.processes[0]!.child.pid;
    const samples = SETTINGS.responsesSamples;
    const warmup = Math.min(SETTINGS.warmup, 100);
    const rows: Section['rows'] = [];
    for (const [label, path, body] of [['chat completion', '/v1/chat/completions', CHAT], ['stored response', '/v1/responses', RESPONSE]] as const) {
      const http = probe(platform.url, path, body);
      const viaExt: EnvoyRequest = { method: 'POST', path, body };
      const [h, e] = await interleaved(http, ext, viaExt, warmup, samples);
      const [cpuHttp, cpuExt] = [await cpuPerRequest(pid, () => sendOk(http)), await cpuPerRequest(pid, () => exchangeOk(ext, viaExt))];
      rows.push(
        { metric: `${label}, p50 latency`, unit: 'ms', direct: p50(h), gateway: p50(e), kind: 'added' },
        { metric: `${label}, p99 latency`, unit: 'ms', direct: p99(h), gateway: p99(e), kind: 'added' },
        { metric: `${label}, gateway CPU per request`, unit: 'ms', direct: cpuHttp, gateway: cpuExt, kind: 'added' },
      );
    }
    print({
      title: '10. ExtProc mode (embedded), non-streaming, concurrency 1',
      note: `${samples} requests each; direct = HTTP to the gateway, gateway = the same request as an ext_proc stream (headers, buffered body, immediate response)`,
      rows,
    });
  } finally {
    ext.close();
    await platform.stop();
  }
}

async function sendOk(p: Probe): Promise<Timing> {
  const t = await send(p);
  if (t.status !== 200) throw new Error(`${p.url.href} answered HTTP ${t.status}`);
  return t;
}

async function exchangeOk(ext: ExtProcClient, req: EnvoyRequest): Promise<Timing> {
  const started = performance.now();
  const o = await ext.exchange(req);
  if (o.kind !== 'immediate' || o.status !== 200) throw new Error(`ext_proc ${req.path} did not answer 200: ${JSON.stringify(o).slice(0, 300)}`);
  return { status: 200, totalMs: performance.now() - started };
}

/** Alternating order request by request, so background load hits both sides alike. */
async function interleaved(http: Probe, ext: ExtProcClient, req: EnvoyRequest, warmup: number, samples: number): Promise<[Timing[], Timing[]]> {
  const h: Timing[] = [];
  const e: Timing[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const pair = i % 2 ? [() => sendOk(http).then((t) => i >= warmup && h.push(t)), () => exchangeOk(ext, req).then((t) => i >= warmup && e.push(t))] : [() => exchangeOk(ext, req).then((t) => i >= warmup && e.push(t)), () => sendOk(http).then((t) => i >= warmup && h.push(t))];
    for (const run of pair) await run();
  }
  return [h, e];
}

/** The gateway's CPU milliseconds per request over a run of requests of one kind. */
async function cpuPerRequest(pid: number | undefined, one: () => Promise<unknown>, n = 200): Promise<number> {
  const before = processCpuSeconds(pid);
  for (let i = 0; i < n; i++) await one();
  const after = processCpuSeconds(pid);
  return before === undefined || after === undefined ? NaN : ((after - before) * 1000) / n;
}
