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

/** Wall time of `fn` in seconds, and the CPU seconds `cpu()` counted meanwhile. */
async function measured(fn: () => Promise<unknown>, cpu: () => number): Promise<{ seconds: number; cpu: number }> {
  const c0 = cpu();
  const t0 = performance.now();
  await fn();
  return { seconds: (performance.now() - t0) / 1000, cpu: cpu() - c0 };
}

/** CPU seconds of this process (all threads: the direct side's file I/O runs in the thread pool). */
const benchCpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

const spread = (xs: number[], digits = 0) => `${Math.min(...xs).toFixed(digits)}–${Math.max(...xs).toFixed(digits)}`;

interface Side {
  /** MB/s of each run. */
  rates: number[];
  /** CPU ms per MB of each run: the bench process for direct, the gateway process for gateway. */
  cpu: number[];
}
const side = (): Side => ({ rates: [], cpu: [] });

/**
 * Section 6: the Files API on the embedded platform (disk store). Upload and download throughput
 * through the gateway, as a ratio of writing and reading the same bytes with the same disk adapter
 * in this process (same disk, same run), and how much the gateway's resident memory grows while a
 * 1 GB file streams in. Direct and gateway runs take turns (the order flips every round), so load
 * from other processes falls on both alike; medians and ranges are reported, and the CPU time per MB
 * of each side, which a busy machine disturbs much less than wall time.
 */
export async function filesSection(env: Record<string, string>, print: (s: Section) => void): Promise<void> {
  const prof = SETTINGS.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(REPO_ROOT, '.tmp', 'bench-prof', 'files-gateway')}`] : [];
  const platform = await startEmbedded({ ...env, FILES_MAX_BYTES: `${Math.max(SIZE_MB, RSS_MB) + 1}mb`, FILES_SWEEP_INTERVAL_MS: '0' }, prof);
  const directDir = mkdtempSync(join(tmpdir(), 'rgw-bench-objects-'));
  try {
    const pid = platform.processes[0]!.child.pid!;
    const gatewayCpu = () => processCpuSeconds(pid) ?? NaN;
    const store = new DiskObjectStore(directDir);
    await store.ensureReady();
    const total = SIZE_MB * MB;
    const up = { direct: side(), gateway: side() };
    const down = { direct: side(), gateway: side() };
    const record = (s: Side, m: { seconds: number; cpu: number }) => {
      s.rates.push(SIZE_MB / m.seconds);
      s.cpu.push((m.cpu * 1000) / SIZE_MB);
    };
    await uploadThroughGateway(platform.url, 4 * MB); // warm: routes, database, folders
    for (let round = 0; round < ROUNDS; round++) {
      const key = `bench/${round}`;
      let id = '';
      const directUp = async () => record(up.direct, await measured(() => store.put(key, Readable.from(blocks(total))), benchCpu));
      const gatewayUp = async () => record(up.gateway, await measured(async () => (id = await uploadThroughGateway(platform.url, total)), gatewayCpu));
      const directDown = async () =>
        record(down.direct, await measured(async () => {
          for await (const _ of (await store.get(key)).body);
        }, benchCpu));
      const gatewayDown = async () => record(down.gateway, await measured(() => downloadThroughGateway(platform.url, id), gatewayCpu));
      const turns = round % 2 === 0 ? [directUp, gatewayUp, directDown, gatewayDown] : [gatewayUp, directUp, gatewayDown, directDown];
      for (const turn of turns) await turn();
      await store.delete(key);
      await fetch(`${platform.url}/v1/files/${id}`, { method: 'DELETE' });
    }

    // Memory: resident set of the gateway before, and its peak while a 1 GB upload streams in.
    const before = rssMb(pid);
    let peak = before;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 25);
    const id = await uploadThroughGateway(platform.url, RSS_MB * MB).finally(() => clearInterval(sampler));
    peak = Math.max(peak, rssMb(pid));
    await fetch(`${platform.url}/v1/files/${id}`, { method: 'DELETE' });

    const ratios = (d: { direct: Side; gateway: Side }) => d.gateway.rates.map((g, i) => (100 * g) / d.direct.rates[i]!);
    const detail = (name: string, d: { direct: Side; gateway: Side }) =>
      `${name}: MB/s direct ${spread(d.direct.rates)}, gateway ${spread(d.gateway.rates)}; per-round ratio median ${median(ratios(d)).toFixed(0)} % (${spread(ratios(d))} %)`;
    print({
      title: '6. Files API (embedded, disk store)',
      note:
        `${SIZE_MB} MB per transfer, ${ROUNDS} runs a side taking turns, medians; "direct" = the same disk adapter writing/reading the same bytes in the bench process. ` +
        `CPU = user+system time per MB of the process doing the work (direct: the bench; gateway: the gateway, not counting the client's own sending or reading). ` +
        `${detail('upload', up)}. ${detail('download', down)}. ` +
        `Memory: the gateway's RSS before and at its peak during one ${RSS_MB} MB upload (growth target <= 64 MB, the "added" column, in MB)`,
      rows: [
        { metric: 'upload throughput', unit: 'MB/s', direct: median(up.direct.rates), gateway: median(up.gateway.rates), kind: 'ratio', target: 0.5 },
        { metric: 'download throughput', unit: 'MB/s', direct: median(down.direct.rates), gateway: median(down.gateway.rates), kind: 'ratio', target: 0.5 },
        { metric: 'upload CPU per MB', unit: 'ms/MB', direct: median(up.direct.cpu), gateway: median(up.gateway.cpu), kind: 'added' },
        { metric: 'download CPU per MB', unit: 'ms/MB', direct: median(down.direct.cpu), gateway: median(down.gateway.cpu), kind: 'added' },
        { metric: `RSS during a ${RSS_MB} MB upload`, unit: 'MB', direct: before, gateway: peak, kind: 'added', target: 64 },
      ],
    });
  } finally {
    await platform.stop();
    rmSync(directDir, { recursive: true, force: true });
  }
}
