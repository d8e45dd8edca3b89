import { join } from 'node:path';
import { REPO_ROOT } from '../scripts/launcher.js';
import { closeAgent, interleavedLatency, probe, processCpuSeconds, throughput, warm, type Probe } from './load.js';
import { median } from './stats.js';
import { spawnEntry, startBuiltEmbedded, startDistributed, startEmbedded, waitReady, type BenchPlatform } from './processes.js';

// Section 4's concurrency phase alone, for working on the Responses hot path (issue 13): one kind of
// request at a time against one platform, printing the platform's CPU per request, so a profile
// (RCPU_PROF=1) holds one kind only and a change can be judged in a minute.
//   RCPU_MODE=embedded|distributed  RCPU_KINDS=stored,unstored,stream,chat  RCPU_SECONDS=4  RCPU_ROUNDS=2
//   RCPU_COMPARE_ROOT=<another checkout with node_modules>: its platform (of RCPU_MODE) too, the kinds taking
//   turns between the two (an A/B of a change in one run, under the same load)
//   RCPU_BUILD=<dir> RCPU_COMPARE_BUILD=<dir>: the embedded gateways of compiled trees instead
//   (`npm run build -- --out <dir> --link`, in each checkout): what production runs
//   RCPU_LATENCY=<n>: first, n requests per side at concurrency 1 (sides and the direct call taking
//   turns), the p50 of a stored response and of a stream's first output_text.delta, added to direct
//   npx tsx bench/responses-cpu.ts

const mode = (process.env.RCPU_MODE ?? 'embedded') as 'embedded' | 'distributed';
const kinds = (process.env.RCPU_KINDS ?? 'stored,unstored,chat').split(',');
const seconds = Number(process.env.RCPU_SECONDS ?? 4);
const rounds = Number(process.env.RCPU_ROUNDS ?? 2);
const concurrency = Number(process.env.RCPU_CONCURRENCY ?? 32);
const profDir = join(REPO_ROOT, '.tmp', 'rcpu-prof', mode);
const nodeArgs = process.env.RCPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${profDir}`] : [];

const BODIES: Record<string, [string, unknown]> = {
  stored: ['/v1/responses', { model: 'mock-model', input: 'hi' }],
  unstored: ['/v1/responses', { model: 'mock-model', input: 'hi', store: false }],
  stream: ['/v1/responses', { model: 'mock-model', input: 'hi', stream: true }],
  chat: ['/v1/chat/completions', { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] }],
};

const mock = await spawnEntry('mock', 'bench/mock-server-main.ts', {});
const platforms: BenchPlatform[] = [];
try {
  await waitReady(mock, '/v1/models');
  const env = { BACKEND_BASE_URL: `${mock.url}/v1`, BACKEND_API_KEY: 'bench-key', LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info' };
  const build = process.env.RCPU_BUILD;
  platforms.push(build ? await startBuiltEmbedded(build, 'built-0', env, nodeArgs) : mode === 'embedded' ? await startEmbedded(env, nodeArgs) : await startDistributed(env, nodeArgs));
  if (process.env.RCPU_COMPARE_BUILD) platforms.push(await startBuiltEmbedded(process.env.RCPU_COMPARE_BUILD, 'built-1', env, []));
  else if (process.env.RCPU_COMPARE_ROOT) {
    const root = process.env.RCPU_COMPARE_ROOT;
    platforms.push(mode === 'distributed' ? await startDistributed(env, [], root) : await startEmbedded(env, [], root));
  }
  const sides = platforms.map((pf, i) => ({
    label: i === 0 ? mode : 'compared',
    pids: pf.processes.filter((p) => pf.mode === 'embedded' || /gateway|responses/.test(p.name)).map((p) => p.child.pid!),
    probes: new Map<string, Probe>(kinds.map((k) => [k, probe(pf.url, BODIES[k]![0], BODIES[k]![1])])),
  }));
  for (const side of sides) for (const p of side.probes.values()) await warm(p, 8, 400);
  const latencySamples = Number(process.env.RCPU_LATENCY ?? 0);
  if (latencySamples > 0) await addedLatency(mock.url, platforms.map((pf, i) => [sides[i]!.label, pf.url] as const), latencySamples);
  const cpu = new Map<string, { cpu: number; n: number; per: number }>();
  for (let r = 0; r < rounds; r++) {
    for (const [k, p, pids] of kinds.flatMap((k) => (r % 2 ? [...sides].reverse() : sides).map((s) => [`${s.label} ${k}`, s.probes.get(k)!, s.pids] as const))) {
      const t = await throughput(p, concurrency, seconds, pids);
      const c = cpu.get(k) ?? { cpu: 0, n: 0, per: 0 };
      c.cpu += [...t.cpu.values()].reduce((a, b) => a + b, 0);
      c.n += t.requests;
      c.per += t.perSecond / rounds;
      cpu.set(k, c);
      if (t.errors) console.log(`${k}: ${t.errors} errors`);
    }
  }
  for (const [k, c] of [...cpu].sort()) console.log(`${k.padEnd(20)} ${((c.cpu / c.n) * 1e3).toFixed(3)} ms CPU/request  ${c.per.toFixed(0)} req/s  (${c.n} requests)`);
  console.log(`mock pid CPU so far: ${processCpuSeconds(mock.child.pid)?.toFixed(1)} s`);
} finally {
  closeAgent();
  for (const pf of platforms) await pf.stop();
  await mock.stop();
}

/** p50 at concurrency 1, added to the direct call's: a stored response, and a stream's first delta. */
async function addedLatency(mockUrl: string, sides: (readonly [string, string])[], samples: number): Promise<void> {
  const chat = { model: 'mock-model', messages: [{ role: 'user', content: 'hi' }] };
  const chatDelta = (t: string) => /"content":"[^"]/.test(t);
  const outputDelta = (t: string) => t.includes('response.output_text.delta');
  const stored = sides.map(([, url]) => probe(url, '/v1/responses', { model: 'mock-model', input: 'hi' }));
  const streams = sides.map(([, url]) => probe(url, '/v1/responses', { model: 'mock-model', input: 'hi', stream: true }, outputDelta));
  for (const p of streams) await warm(p, 8, 400);
  const [direct, ...s] = await interleavedLatency([probe(mockUrl, '/v1/chat/completions', chat), ...stored], 50, samples);
  const [directStream, ...f] = await interleavedLatency([probe(mockUrl, '/v1/chat/completions', { ...chat, stream: true }, chatDelta), ...streams], 50, samples);
  const p50 = (ts: { totalMs: number; ttfdMs?: number }[], key: 'totalMs' | 'ttfdMs') => median(ts.map((t) => t[key]!));
  sides.forEach(([label], i) => {
    const addedStored = p50(s[i]!, 'totalMs') - p50(direct!, 'totalMs');
    const addedDelta = p50(f[i]!, 'ttfdMs') - p50(directStream!, 'ttfdMs');
    console.log(`${label.padEnd(9)} c=1: stored p50 +${addedStored.toFixed(2)} ms, first delta p50 +${addedDelta.toFixed(2)} ms (${samples} each)`);
  });
}
