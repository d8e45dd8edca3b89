import { readFileSync } from 'node:fs';

// Summarises a V8 .cpuprofile (from BENCH_CPU_PROF=1): the functions with the most self time, and
// self time grouped by source file, which is usually enough to see where a request's time goes.
// Usage: npx tsx bench/profile-summary.ts <file.cpuprofile> [top] [window seconds] [skip seconds]
// With a window, only the busiest stretch of that length counts (the load phase, not start-up or idle);
// with a skip, only after that many seconds from the start (a light load is less busy than start-up).

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

const [file, topArg, windowArg, skipArg] = process.argv.slice(2);
if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile> [top] [window seconds]');
const top = Number(topArg ?? 40);
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
const idle = new Set(profile.nodes.filter((n) => n.callFrame.functionName === '(idle)').map((n) => n.id));

// Sample timestamps, then the window [from, to) holding the most non-idle time.
const times: number[] = [];
let t = profile.startTime;
for (const d of profile.timeDeltas) times.push((t += d));
let from = profile.startTime + Number(skipArg ?? 0) * 1e6;
let to = Infinity;
if (windowArg) {
  const width = Number(windowArg) * 1e6;
  let best = -1;
  let busy = 0;
  let lo = times.findIndex((at) => at >= from);
  if (lo === -1) lo = times.length;
  for (let hi = lo; hi < times.length; hi++) {
    if (!idle.has(profile.samples[hi]!)) busy += profile.timeDeltas[hi]!;
    while (times[hi]! - times[lo]! > width) if (!idle.has(profile.samples[lo++]!)) busy -= profile.timeDeltas[lo - 1]!;
    if (busy > best) [best, from, to] = [busy, times[lo]!, times[hi]!];
  }
}
const self = new Map<number, number>();
profile.samples.forEach((id, i) => {
  if (times[i]! >= from && times[i]! <= to) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
});
const total = [...self.values()].reduce((a, b) => a + b, 0);

const shortUrl = (url: string) => url.replace(/^file:\/\/.*?node_modules\//, '').replace(/^file:\/\/\/work\/main\//, '');
const tally = (key: (n: ProfileNode) => string) => {
  const out = new Map<string, number>();
  for (const [id, us] of self) {
    const k = key(byId.get(id)!);
    out.set(k, (out.get(k) ?? 0) + us);
  }
  return [...out.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
};
const show = (rows: [string, number][]) => rows.forEach(([k, us]) => console.log(`${((100 * us) / total).toFixed(1).padStart(5)} %  ${k}`));

// Inclusive time of our own functions (those in this repository, outside node_modules).
const parent = new Map<number, number>();
for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const inclusive = new Map<string, number>();
for (const [id, us] of self) {
  const seen = new Set<string>();
  for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
    const f = byId.get(at)!.callFrame;
    if (!f.url.startsWith('file:///') || f.url.includes('node_modules')) continue;
    const key = `${f.functionName || '(anonymous)'}  ${shortUrl(f.url)}:${f.lineNumber + 1}`;
    if (seen.has(key)) continue;
    seen.add(key);
    inclusive.set(key, (inclusive.get(key) ?? 0) + us);
  }
}

console.log(`total sampled: ${(total / 1e6).toFixed(2)} s`);
console.log('\n# self time by function');
show(tally((n) => `${n.callFrame.functionName || '(anonymous)'}  ${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}`));
console.log('\n# inclusive time of our own functions');
show([...inclusive.entries()].sort((a, b) => b[1] - a[1]).slice(0, top));
console.log('\n# self time by file');
show(tally((n) => shortUrl(n.callFrame.url) || n.callFrame.functionName));
