import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SERVICE_MANIFEST } from '@rgw/shared';
import { REPO_ROOT } from '../support/process-harness.js';

// No Docker engine in CI: the Dockerfile is parsed and held to what the image must be. Its build
// commands themselves run in deploy-build.test.ts (npm run build, then the compiled gateway).
interface Instruction {
  op: string;
  args: string;
  stage: number;
}

function parseDockerfile(text: string): Instruction[] {
  // As Docker does: comment lines go first (also inside a continued instruction), then continuations join.
  const joined = text
    .split(/\r?\n/)
    .filter((line) => !line.trim().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ');
  let stage = -1;
  const out: Instruction[] = [];
  for (const raw of joined.split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`unparsable Dockerfile line: ${line}`);
    const op = m[1]!.toUpperCase();
    if (op === 'FROM') stage++;
    out.push({ op, args: m[2]!.replace(/\s+#.*$/, ''), stage });
  }
  return out;
}

const dockerfile = parseDockerfile(readFileSync(join(REPO_ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(REPO_ROOT, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
const last = Math.max(...dockerfile.map((i) => i.stage));
const final = dockerfile.filter((i) => i.stage === last);
const of = (op: string, list = dockerfile) => list.filter((i) => i.op === op);

describe('the Dockerfile', () => {
  it('builds every stage FROM Node 22 (the current LTS)', () => {
    for (const from of of('FROM')) expect(from.args).toMatch(/^node:22[-.\w]*( AS \w+)?$/i);
  });

  it('runs as a non-root user, with DATA_DIR on a /data volume that user owns', () => {
    const user = of('USER', final).at(-1);
    expect(user?.args).toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
    expect(of('VOLUME', final).map((i) => i.args)).toContainEqual(expect.stringMatching(/\/data\b/));
    expect(of('ENV', final).map((i) => i.args).join(' ')).toMatch(/DATA_DIR=\/data/);
    expect(of('RUN', final).map((i) => i.args).join(' ')).toMatch(/chown [\w:]+ \/data/);
  });

  it('has a HEALTHCHECK, and starts compiled JavaScript with plain node (no tsx at start)', () => {
    const health = of('HEALTHCHECK', final);
    expect(health).toHaveLength(1);
    const [entry] = of('ENTRYPOINT', final);
    const command = JSON.parse(entry!.args) as string[];
    expect(command[0]).toBe('node');
    expect(command.join(' ')).not.toMatch(/tsx|\.ts\b/);
    expect(health[0]!.args).not.toMatch(/tsx|\.ts\b/);
    // The scripts the final stage starts exist in the build output (deploy/bin is compiled by tsconfig.build.json).
    for (const script of [...command.slice(1), ...health[0]!.args.match(/[\w/]+\.js/g)!]) {
      expect(existsSync(join(REPO_ROOT, script.replace(/\.js$/, '.ts'))), script).toBe(true);
    }
  });

  it('compiles at build time and installs production dependencies only', () => {
    const runs = of('RUN').map((i) => i.args);
    expect(runs).toContainEqual(expect.stringMatching(/npm run build/));
    expect(runs).toContainEqual(expect.stringMatching(/npm ci --omit=dev/));
    const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
    expect(pkg.scripts.build).toBeDefined();
  });

  it('COPYs only sources that exist and that .dockerignore does not exclude', () => {
    for (const copy of of('COPY')) {
      if (/--from=/.test(copy.args)) continue;
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) {
        expect(existsSync(join(REPO_ROOT, source)), `COPY ${source}`).toBe(true);
        const top = source.split('/')[0]!;
        expect(dockerignore.some((rule) => rule === top || rule === source), `${source} is ignored by .dockerignore`).toBe(false);
      }
    }
  });

  it('copies the package.json of every workspace before npm ci (the dependency layer)', () => {
    const copies = of('COPY').map((i) => i.args);
    const copied = copies.map((c) => /^(\S+)\/package\.json /.exec(c)?.[1]).filter(Boolean);
    expect(copied.sort()).toEqual(['gateway', 'shared', ...new Set(SERVICE_MANIFEST.map((s) => s.dir))].sort());
    const firstCi = dockerfile.findIndex((i) => i.op === 'RUN' && /npm ci/.test(i.args));
    const lastPackageCopy = dockerfile.findLastIndex((i) => i.op === 'COPY' && /package\.json/.test(i.args) && !/--from/.test(i.args));
    expect(lastPackageCopy).toBeLessThan(firstCi);
  });
});
