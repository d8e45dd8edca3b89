/**
 * `npx tsx scripts/measure-start.ts [--runs N] [--dir DIR] [--no-build] [--also DIR2 ...] [--env K=V]`: how fast
 * the production build starts (issue 15: "starts in under 2 seconds"). Builds once (`npm run build --
 * --link` into DIR, default .tmp/measure-start), then takes turns, N rounds: the runtime's own start
 * (`node -e 0`, spawn → exit), the compiled gateway (embedded, fresh DATA_DIR) and one service role
 * through the image entry point (`deploy/bin/start-role.js prompts`), each spawn → first 200 from
 * /readyz. Reports the medians of wall time and of the child's CPU time (user + system, /proc) at
 * that moment: on a loaded machine the baseline row says how slow "nothing" is right now, and CPU
 * time is what the load hardly changes. `--also DIR2` adds the same two rows for another build tree
 * (e.g. one built from an older commit), measured in the same rounds; `--env K=V` sets K for every start.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { median } from '../bench/stats.js';
import { processCpuSeconds } from '../bench/load.js';
import { build } from './build.js';
import { freePort } from './launcher.js';

const REPO = resolve(import.meta.dirname, '..');

interface Sample {
  wallMs: number;
  cpuMs: number;
}

interface Target {
  name: string;
  dir?: string;
  args: string[];
  env?: Record<string, string>;
  /** Ready when the process exits 0 (the baseline) instead of when /readyz answers 200. */
  exits?: boolean;
}

// Prints its own CPU time so far, which is all of it: the runtime's start and nothing else.
const BASELINE: Target = { name: 'node -e 0 (baseline: the runtime alone)', args: ['-e', 'const u = process.cpuUsage(); process.stdout.write(String((u.user + u.system) / 1000))'], exits: true };

const EXTRA_ENV: Record<string, string> = {};

function targetsOf(dir: string, label: string): Target[] {
  return [
    { name: `gateway (embedded, fresh DATA_DIR)${label}`, dir, args: ['gateway/src/main.js'] },
    { name: `role: start-role.js prompts${label}`, dir, args: ['deploy/bin/start-role.js', 'prompts'], env: { GATEWAY_URL: 'http://127.0.0.1:9' } },
  ];
}

async function startOnce(target: Target): Promise<Sample> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'rgw-start-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, target.args, {
    cwd: target.dir ?? REPO,
    env: { PATH: process.env.PATH, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...EXTRA_ENV, ...target.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  try {
    if (target.exits) {
      const code = await new Promise<number | null>((ok) => child.once('exit', ok));
      if (code !== 0) throw new Error(`${target.name} exited with ${code}: ${stderr}`);
      return { wallMs: performance.now() - t0, cpuMs: Number(stdout) };
    }
    const url = `http://127.0.0.1:${port}/readyz`;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`${target.name} exited with ${child.exitCode}: ${stderr}`);
      if (performance.now() - t0 > 60_000) throw new Error(`${target.name}: no 200 from /readyz in 60 s: ${stderr}`);
      const ok = await fetch(url).then((r) => r.ok, () => false);
      if (ok) return { wallMs: performance.now() - t0, cpuMs: (processCpuSeconds(child.pid) ?? Number.NaN) * 1000 };
      // Polling costs the child little (a refused connect); 10 ms bounds the error of the figure.
      await new Promise((r) => setTimeout(r, 10));
    }
  } finally {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
  } catch {
    return '?';
  }
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const opt = (name: string) => {
    const at = args.indexOf(name);
    return at === -1 ? undefined : args[at + 1];
  };
  const runs = Number(opt('--runs') ?? 9);
  const also = args.flatMap((a, i) => (args[i - 1] === '--also' ? [resolve(REPO, a)] : []));
  // --env K=V: set for every start (e.g. INGEST_CHUNK_THREADS=0).
  Object.assign(EXTRA_ENV, Object.fromEntries(args.flatMap((a, i) => (args[i - 1] === '--env' ? [a.split(/=(.*)/s).slice(0, 2)] : []))));
  const dir = resolve(REPO, opt('--dir') ?? '.tmp/measure-start');
  if (!args.includes('--no-build')) {
    const t0 = performance.now();
    await build({ out: dir, link: true });
    console.log(`built ${dir} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  }
  console.log(`node ${process.version}, load average at start: ${loadAverage()}`);
  const targets = [BASELINE, ...targetsOf(dir, ''), ...also.flatMap((d) => targetsOf(d, ` [${relative(REPO, d)}]`))];
  const samples = new Map<string, Sample[]>(targets.map((t) => [t.name, []]));
  // A first start of each, not counted: it warms the page cache (and, on Node 22, the compile cache).
  for (const target of targets) await startOnce(target);
  for (let round = 0; round < runs; round++) {
    // Taking turns: whatever the machine's load does, it does to every row alike.
    for (const target of targets) samples.get(target.name)!.push(await startOnce(target));
  }
  const base = median(samples.get(BASELINE.name)!.map((s) => s.wallMs));
  console.log(`\nmedian of ${runs} starts each, spawn → ready (load average now: ${loadAverage()})`);
  console.log(`${'what'.padEnd(60)} ${'wall ms'.padStart(8)} ${'min–max'.padStart(12)} ${'− baseline'.padStart(11)} ${'CPU ms'.padStart(8)}`);
  for (const target of targets) {
    const list = samples.get(target.name)!;
    const wall = list.map((s) => s.wallMs);
    const cpu = median(list.map((s) => s.cpuMs));
    const range = `${Math.round(Math.min(...wall))}–${Math.round(Math.max(...wall))}`;
    console.log(
      `${target.name.padEnd(60)} ${median(wall).toFixed(0).padStart(8)} ${range.padStart(12)} ${(median(wall) - base).toFixed(0).padStart(11)} ${(Number.isNaN(cpu) ? '–' : cpu.toFixed(0)).padStart(8)}`,
    );
  }
}

await main();
