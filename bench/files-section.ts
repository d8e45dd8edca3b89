import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { once } from 'node:events';
import { DiskObjectStore } from '../shared/src/objects/disk-object-store.js';
import { REPO_ROOT } from '../test/support/process-harness.js';
import { processCpuSeconds } from './load.js';
import { startEmbedded } from './processes.js';
import { SETTINGS } from './settings.js';
import { median } from './stats.js';
import { rawDownload, rawUpload } from './raw-http-client.js';
import type { Section } from './report.js';

const MB = 1024 * 1024;
const num = (name: string, fallback: number) => (process.env[name] ? Number(process.env[name]) : fallback);
/** Size of the throughput transfers, and of the upload whose memory is watched. */
const SIZE_MB = num('BENCH_FILES_MB', 256);
const RSS_MB = num('BENCH_FILES_RSS_MB', 1024);
const ROUNDS = num('BENCH_FILES_ROUNDS', 5);

/** The same 1 MB block over and over: generating the bytes must cost the bench nothing. */
const BLOCK = randomBytes(MB);
function* blocks(total: number): Generator<Buffer> {
  for (let sent = 0; sent < total; sent += MB) yield total - sent >= MB ? BLOCK : BLOCK.subarray(0, total - sent);
}

/** Resident memory of a process, from /proc (Linux), in MB. */
function rssMb(pid: number): number {
  const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('VmRSS:'));
  return Number(line?.replace(/\D+/g, '') ?? NaN) / 1024;
}

/** POST /v1/files with a multipart body streamed from `blocks` (write backpressure honoured); resolves with the file id. */
async function uploadThroughGateway(origin: string, total: number): Promise<string> {
  const boundary = `bench${randomBytes(8).toString('hex')}`;
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="purpose"\r\n\r\nassistants\r\n--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="bench.bin"\r\nContent-Type: application/octet-stream\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const req = http.request(`${origin}/v1/files`, { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, 'content-length': head.length + total + tail.length } });
  const reply = once(req, 'response') as Promise<[http.IncomingMessage]>;
  req.write(head);
  for (const chunk of blocks(total)) if (!req.write(chunk)) await Promise.race([once(req, 'drain'), reply]);
  req.end(tail);
  const [res] = await reply;
  let text = '';
  for await (const c of res) text += c;
  if (res.statusCode !== 200) throw new Error(`upload failed: ${res.statusCode} ${text.slice(0, 300)}`);
  return (JSON.parse(text) as { id: string }).id;
}

/** GET the content with node:http (no web-stream layer in the client), counting the bytes. */
async function downloadThroughGateway(origin: string, id: string): Promise<number> {
  const req = http.get(`${origin}/v1/files/${id}/content`);
  const [res] = (await once(req, 'response')) as [http.IncomingMessage];
  let bytes = 0;
  for await (const c of res) bytes += (c as Buffer).length;
  if (res.statusCode !== 200) throw new Error(`download failed: ${res.statusCode}`);
  return bytes;
}

/** Wall time of `fn` in seconds, and the CPU seconds each of `cpus` counted meanwhile. */
async function measured(fn: () => Promise<unknown>, cpus: (() => number)[]): Promise<{ seconds: number; cpu: number[] }> {
  const c0 = cpus.map((c) => c());
  const t0 = performance.now();
  await fn();
  return { seconds: (performance.now() - t0) / 1000, cpu: cpus.map((c, i) => c() - c0[i]!) };
}

/** CPU seconds of this process (all threads: the direct side's file I/O runs in the thread pool). */
const benchCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const spread = (xs: number[], digits = 0) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

interface Direction {
  /** MB/s of each run. */
  rates: number[];
  /** CPU ms per MB of the process doing the work: the bench for direct, the gateway otherwise. */
  cpu: number[];
  /** CPU ms per MB of the bench process while it was the client (gateway sides only). */
  client: number[];
}
const direction = (): Direction => ({ rates: [], cpu: [], client: [] });

/** One way of moving the bytes: the store called directly, or a gateway through one of the clients. */
interface Side {
  label: string;
  up: Direction;
  down: Direction;
  /** Uploads `total` bytes; resolves with what `download` needs (the file id or the key). */
  upload(round: number, total: number): Promise<string>;
  download(ref: string): Promise<unknown>;
  remove(ref: string): Promise<unknown>;
  cpus: (() => number)[];
}

/**
 * Section 6: the Files API on the embedded platform (disk store). Upload and download throughput
 * through the gateway, as a ratio of writing and reading the same bytes with the same disk adapter
 * in this process (same disk, same run), and how much the gateway's resident memory grows while a
 * 1 GB file streams in. The gateway is driven by two clients: node:http, and a raw node:net client
 * that costs the bench far less CPU per MB (raw-http-client.ts); the targets are read on the raw one,
 * since both share the machine's cores with the gateway. Every side takes its turn each round (the
 * order flips every round), so load from other processes falls on all alike; medians and ranges are
 * reported, with the CPU time per MB of the gateway and of the client, which a busy machine disturbs
 * much less than wall time. BENCH_COMPARE_ROOT adds another checkout's gateway (raw client), for A/B.
 */
export async function filesSection(env: Record<string, string>, print: (s: Section) => void): Promise<void> {
  const prof = SETTINGS.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(REPO_ROOT, '.tmp', 'bench-prof', 'files-gateway')}`] : [];
  const gatewayEnv = { ...env, FILES_MAX_BYTES: `${Math.max(SIZE_MB, RSS_MB) + 1}mb`, FILES_SWEEP_INTERVAL_MS: '0' };
  const platform = await startEmbedded(gatewayEnv, prof);
  const compared = SETTINGS.compareRoot ? await startEmbedded(gatewayEnv, [], SETTINGS.compareRoot).catch(async (err) => (await platform.stop(), Promise.reject(err))) : undefined;
  const directDir = mkdtempSync(join(tmpdir(), 'rgw-bench-objects-'));
  try {
    const pid = platform.processes[0]!.child.pid!;
    const store = new DiskObjectStore(directDir);
    await store.ensureReady();
    const total = SIZE_MB * MB;
    const direct: Side = {
      label: 'direct',
      up: direction(),
      down: direction(),
      upload: async (round) => (await store.put(`bench/${round}`, Readable.from(blocks(total))), `bench/${round}`),
      download: async (key) => {
        for await (const _ of (await store.get(key)).body);
      },
      remove: (key) => store.delete(key),
      cpus: [benchCpu],
    };
    const through = (label: string, p: typeof platform, client: 'node:http' | 'raw'): Side => ({
      label,
      up: direction(),
      down: direction(),
      upload: (_, n) => (client === 'raw' ? rawUpload(p.url, n, BLOCK) : uploadThroughGateway(p.url, n)),
      download: (id) => (client === 'raw' ? rawDownload(p.url, id) : downloadThroughGateway(p.url, id)),
      remove: (id) => fetch(`${p.url}/v1/files/${id}`, { method: 'DELETE' }),
      cpus: [() => processCpuSeconds(p.processes[0]!.child.pid!) ?? NaN, benchCpu],
    });
    const raw = through('gateway, raw client', platform, 'raw');
    const http = through('gateway, node:http client', platform, 'node:http');
    const other = compared && through('compared tree, raw client', compared, 'raw');
    const sides = [direct, raw, http, ...(other ? [other] : [])];
    const record = (d: Direction, m: { seconds: number; cpu: number[] }) => {
      d.rates.push(SIZE_MB / m.seconds);
      d.cpu.push((m.cpu[0]! * 1000) / SIZE_MB);
      if (m.cpu.length > 1) d.client.push((m.cpu[1]! * 1000) / SIZE_MB);
    };
    for (const p of [platform, ...(compared ? [compared] : [])]) {
      for (const upload of [uploadThroughGateway, (url: string, n: number) => rawUpload(url, n, BLOCK)]) await upload(p.url, 4 * MB); // warm: routes, database, folders
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = round % 2 === 0 ? sides : [...sides].reverse();
      const refs = new Map<Side, string>();
      for (const s of order) record(s.up, await measured(async () => refs.set(s, await s.upload(round, total)), s.cpus));
      for (const s of order) record(s.down, await measured(() => s.download(refs.get(s)!), s.cpus));
      for (const s of order) await s.remove(refs.get(s)!);
    }

    // Memory: resident set of the gateway before, and its peak while a 1 GB upload streams in (raw client: the fastest sender).
    const before = rssMb(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 25);
    const id = await rawUpload(platform.url, RSS_MB * MB, BLOCK).finally(() => clearInterval(sampler));
    peak = Math.max(peak, rssMb(pid));
    await fetch(`${platform.url}/v1/files/${id}`, { method: 'DELETE' });

    const way = (s: Side, w: 'up' | 'down') => s[w];
    const ratios = (s: Side, w: 'up' | 'down') => way(s, w).rates.map((g, i) => (100 * g) / way(direct, w).rates[i]!);
    const detail = (s: Side, w: 'up' | 'down') => {
      const d = way(s, w);
      const client = d.client.length ? `, client ${median(d.client).toFixed(2)} (${spread(d.client, 2)})` : '';
      const ratio = s === direct ? '' : `, per-round ratio median ${median(ratios(s, w)).toFixed(0)} % (${spread(ratios(s, w))} %)`;
      return `${s.label}: ${median(d.rates).toFixed(0)} MB/s (${spread(d.rates)})${ratio}; CPU ms/MB ${s === direct ? 'bench' : 'gateway'} ${median(d.cpu).toFixed(2)} (${spread(d.cpu, 2)})${client}`;
    };
    const lines = (['up', 'down'] as const).flatMap((w) => sides.map((s) => `${w}load ${detail(s, w)}`));
    const throughput = (s: Side, w: 'up' | 'down', target?: number) => ({
      metric: `${w}load throughput, ${s.label.replace('gateway, ', '')}`,
      unit: 'MB/s',
      direct: median(direct[w].rates),
      gateway: median(s[w].rates),
      kind: 'ratio' as const,
      target,
    });
    const ab = (w: 'up' | 'down') => [
      { metric: `${w}load MB/s, this tree vs compared (raw client)`, unit: 'MB/s', direct: median(other![w].rates), gateway: median(raw[w].rates), kind: 'ratio' as const },
      { metric: `${w}load gateway CPU, this tree vs compared`, unit: 'ms/MB', direct: median(other![w].cpu), gateway: median(raw[w].cpu), kind: 'added' as const },
    ];
    print({
      title: '6. Files API (embedded, disk store)',
      note:
        `${SIZE_MB} MB per transfer, ${ROUNDS} rounds, every side each round (the order flips every round), medians; "direct" = the same disk adapter writing/reading the same bytes in the bench process. ` +
        `Targets read on the raw node:net client (bench/raw-http-client.ts): node:http's client costs the bench more CPU per MB than the gateway spends, on the same cores; its figures are shown too. ` +
        `CPU = user+system time per MB: "bench" for direct, "gateway" = the gateway process, "client" = the bench process while it was the client.\n` +
        lines.join('\n') +
        `\nMemory: the gateway's RSS before and at its peak during one ${RSS_MB} MB upload (raw client; growth target <= 64 MB, the "added" column)`,
      rows: [
        throughput(raw, 'up', 0.5),
        throughput(raw, 'down', 0.5),
        throughput(http, 'up'),
        throughput(http, 'down'),
        { metric: 'upload CPU per MB (bench direct; gateway, raw client)', unit: 'ms/MB', direct: median(direct.up.cpu), gateway: median(raw.up.cpu), kind: 'added' },
        { metric: 'download CPU per MB (bench direct; gateway, raw client)', unit: 'ms/MB', direct: median(direct.down.cpu), gateway: median(raw.down.cpu), kind: 'added' },
        { metric: `RSS during a ${RSS_MB} MB upload`, unit: 'MB', direct: before, gateway: peak, kind: 'added', target: 64 },
        ...(other ? [...ab('up'), ...ab('down')] : []),
      ],
    });
  } finally {
    await platform.stop();
    await compared?.stop();
    rmSync(directDir, { recursive: true, force: true });
  }
}
