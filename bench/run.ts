import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { distributedUnavailable } from '../test/support/platform-harness.js';
import { REPO_ROOT } from '../test/support/process-harness.js';
import { authSection, KEYED_ENV } from './auth-section.js';
import { chatSections, type Relay } from './chat-sections.js';
import { closeAgent } from './load.js';
import { startDistributed, startEmbedded, spawnEntry, waitReady, LOG_DIR } from './processes.js';
import { renderSection, toJson, type Section } from './report.js';
import { responsesSection } from './responses-section.js';
import { SETTINGS } from './settings.js';
import { filesSection } from './files-section.js';
import { ingestSection } from './ingest-section.js';
import { fileSearchSection } from './file-search-section.js';
import { vectorIndexSection } from './vector-index-section.js';
import { extprocSection } from './extproc-section.js';

// The gateway's added cost over calling the model server directly; see bench/README.md.

const sections: Section[] = [];
const cleanup: (() => Promise<void>)[] = [];

function print(section: Section) {
  sections.push(section);
  console.log(renderSection(section));
}

/** Starts something and registers how to stop it, so that an error or Ctrl-C leaves nothing behind. */
async function started<T extends { stop(): Promise<unknown> }>(thing: Promise<T>): Promise<T> {
  const t = await thing;
  cleanup.push(async () => {
    await t.stop();
  });
  return t;
}

const loadavg = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');

async function main() {
  const began = performance.now();
  const cpus = os.cpus();
  const machine = { cores: cpus.length, cpu: cpus[0]?.model.trim(), node: process.version, platform: `${os.platform()} ${os.release()}`, loadavg: loadavg() };
  console.log('# Responses Gateway benchmark');
  console.log(`machine: ${machine.cores} cores (${machine.cpu}), node ${machine.node}, ${machine.platform}, load average ${machine.loadavg}`);
  console.log(`gateway LOG_LEVEL=${SETTINGS.logLevel} (the production default is info: its log line per request is part of the cost)`);
  console.log(`logs of the processes: ${LOG_DIR}`);
  if (SETTINGS.only.includes('7') || !process.env.BENCH_ONLY) await vectorIndexSection(print); // before any server runs: it measures CPU and RSS

  const mock = await started(spawnEntry('mock', 'bench/mock-server-main.ts', {}));
  await waitReady(mock, '/v1/models');
  const env = { BACKEND_BASE_URL: `${mock.url}/v1`, BACKEND_API_KEY: 'bench-key', LOG_LEVEL: SETTINGS.logLevel };
  const profDir = join(REPO_ROOT, '.tmp', 'bench-prof');
  const prof = (name: string) => (SETTINGS.cpuProf ? ['--cpu-prof', `--cpu-prof-dir=${join(profDir, name)}`] : []);

  const embedded = await started(startEmbedded(env, prof('gateway')));
  const relays: Relay[] = [{ label: 'gateway', url: embedded.url, pid: embedded.processes[0]!.child.pid, primary: true }];
  if (SETTINGS.only.some((s) => ['1', '2', '3'].includes(s))) {
    if (SETTINGS.bare) {
      const bare = await started(spawnEntry('bare-proxy', 'bench/bare-proxy-main.ts', { UPSTREAM: mock.url }, prof('bare-proxy')));
      await waitReady(bare);
      relays.push({ label: 'bare proxy', url: bare.url, pid: bare.child.pid, primary: false });
    }
    if (SETTINGS.compareRoot) {
      const other = await started(startEmbedded(env, prof('compare-gateway'), SETTINGS.compareRoot));
      relays.push({ label: 'compared tree', url: other.url, pid: other.processes[0]!.child.pid, primary: false });
      console.log(`compared tree: the gateway of ${SETTINGS.compareRoot}`);
    }
    console.log(`pids: bench ${process.pid}, mock ${mock.child.pid}, ${relays.map((r) => `${r.label} ${r.pid}`).join(', ')}`);
    await chatSections({ url: mock.url, pid: mock.child.pid }, relays, print);
  }
  if (SETTINGS.only.includes('4')) await responsesSection({ url: mock.url, pid: mock.child.pid }, embedded, print);
  if (SETTINGS.only.includes('5')) {
    const keyed = await started(startEmbedded({ ...env, ...KEYED_ENV }, prof('keyed-gateway')));
    await authSection(embedded, keyed, print);
  }
  if (SETTINGS.only.includes('6') || !process.env.BENCH_ONLY) await filesSection(env, print);
  if (SETTINGS.only.includes('8') || !process.env.BENCH_ONLY) await ingestSection(env, print, prof('ingest-gateway'));
  if (SETTINGS.only.includes('9') || !process.env.BENCH_ONLY) await fileSearchSection(mock, env, print);
  if (SETTINGS.only.includes('10') || !process.env.BENCH_ONLY) await extprocSection(env, print);
  // Everything but the mock goes before distributed mode starts: spare CPU is scarce on a small machine.
  while (cleanup.length > 1) await cleanup.pop()!();
  if (SETTINGS.cpuProf) console.log(`\nCPU profiles (main thread = *.0.001.cpuprofile) in ${profDir}; summarise with bench/profile-summary.ts`);

  if (SETTINGS.only.includes('4')) {
    const why = SETTINGS.distributed === '0' ? 'BENCH_DISTRIBUTED=0' : await distributedUnavailable();
    if (why) {
      print({ title: '4. Responses API (distributed), concurrency 1', rows: [], skipped: `distributed mode cannot run: ${why}` });
    } else {
      const distributed = await started(startDistributed(env, prof('distributed')));
      await responsesSection({ url: mock.url, pid: mock.child.pid }, distributed, print);
      await cleanup.pop()!();
    }
  }

  console.log(`\nload average at the end: ${loadavg()}; took ${((performance.now() - began) / 1000).toFixed(0)} s`);
  if (SETTINGS.json) {
    mkdirSync(dirname(SETTINGS.json), { recursive: true });
    writeFileSync(SETTINGS.json, JSON.stringify(toJson(sections, { ...machine, settings: SETTINGS }), null, 1));
  }
}

async function stopAll() {
  closeAgent();
  for (const stop of cleanup.reverse()) await stop().catch(() => {});
  cleanup.length = 0;
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stopAll().finally(() => process.exit(130)));
try {
  await main();
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await stopAll();
}
