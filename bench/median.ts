import { readFileSync } from 'node:fs';
import { renderSection, type Row, type Section } from './report.js';
import { median } from './stats.js';

// Medians over several runs (each written with BENCH_JSON=<file>): one run on shared cores is noise.
// Usage: npx tsx bench/median.ts run1.json run2.json run3.json

interface RunJson {
  machine: { loadavg: string };
  sections: { title: string; skipped?: string; rows: Row[] }[];
}

const files = process.argv.slice(2);
if (files.length === 0) throw new Error('usage: median.ts <run.json>...');
const runs = files.map((f) => JSON.parse(readFileSync(f, 'utf8')) as RunJson);

const titles = [...new Set(runs.flatMap((r) => r.sections.map((s) => s.title)))];
console.log(`# Medians of ${runs.length} runs (load averages at start: ${runs.map((r) => r.machine.loadavg.split(' ')[0]).join(', ')})`);
for (const title of titles) {
  const found = runs.map((r) => r.sections.find((s) => s.title === title)).filter((s) => s !== undefined);
  const measured = found.filter((s) => !s.skipped);
  if (measured.length === 0) {
    console.log(renderSection({ title, rows: [], skipped: found[0]?.skipped }));
    continue;
  }
  const metrics = [...new Set(measured.flatMap((s) => s.rows.map((r) => r.metric)))];
  const rows = metrics.map((metric) => {
    const all = measured.map((s) => s.rows.find((r) => r.metric === metric)).filter((r) => r !== undefined);
    // The median of each column; for `added` rows the median difference is shown, not the difference of medians.
    const ref = all[0]!;
    const direct = median(all.map((r) => r.direct));
    const delta = median(all.map((r) => (r.kind === 'added' ? r.gateway - r.direct : r.gateway / r.direct)));
    return { ...ref, direct, gateway: ref.kind === 'added' ? direct + delta : direct * delta };
  });
  const section: Section = { title, note: `${measured.length} of ${runs.length} runs; per row: median direct and median added/ratio`, rows };
  console.log(renderSection(section));
}
