/** One line of a section's table: a baseline, the same thing through the gateway, and the verdict. */
export interface Row {
  metric: string;
  direct: number;
  gateway: number;
  /** `added` = gateway − direct (in `unit`); `ratio` = gateway ÷ direct. */
  kind: 'added' | 'ratio';
  /** Upper bound for `added`, lower bound for `ratio`; none = reported only. */
  target?: number;
  unit: string;
}

export interface Section {
  title: string;
  note?: string;
  rows: Row[];
  skipped?: string;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function delta(row: Row): number {
  return row.kind === 'added' ? row.gateway - row.direct : row.gateway / row.direct;
}

export function verdict(row: Row): 'PASS' | 'MISS' | '-' {
  if (row.target === undefined) return '-';
  const d = delta(row);
  return (row.kind === 'added' ? d <= row.target : d >= row.target) ? 'PASS' : 'MISS';
}

const fmt = (n: number, unit: string) => (unit === 'req/s' ? n.toFixed(0) : n.toFixed(3));

export function renderSection(s: Section): string {
  const lines = [`\n## ${s.title}`];
  if (s.note) lines.push(s.note);
  if (s.skipped) {
    lines.push(`skipped: ${s.skipped}`);
    return lines.join('\n');
  }
  const header = ['metric', 'direct', 'gateway', 'added / ratio', 'target', 'result'];
  const body = s.rows.map((r) => {
    const d = delta(r);
    const shown = r.kind === 'added' ? `${d >= 0 ? '+' : ''}${d.toFixed(3)} ${r.unit}` : `${(d * 100).toFixed(1)} %`;
    const target = r.target === undefined ? '' : r.kind === 'added' ? `<= ${r.target} ${r.unit}` : `>= ${(r.target * 100).toFixed(0)} %`;
    return [`${r.metric} (${r.unit})`, fmt(r.direct, r.unit), fmt(r.gateway, r.unit), shown, target, verdict(r)];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
  lines.push(line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line));
  return lines.join('\n');
}

/** Machine-readable form of a run, for taking medians over several runs. */
export function toJson(sections: Section[], machine: Record<string, unknown>) {
  return {
    machine,
    sections: sections.map((s) => ({
      title: s.title,
      skipped: s.skipped,
      rows: s.rows.map((r) => ({ ...r, delta: delta(r), result: verdict(r) })),
    })),
  };
}
