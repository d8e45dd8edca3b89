/**
 * `npm run build [-- --out DIR] [-- --link]`: the production build. Compiles the runtime code
 * (tsconfig.build.json) into DIR (default `dist`) in the repository's own layout, and writes next to
 * it the package files with their entry points moved from `src/*.ts` to `src/*.js`, so that DIR is
 * an npm workspace tree of plain JavaScript: `npm ci --omit=dev` in it, then `node gateway/src/main.js`
 * (or `node deploy/bin/start-role.js <role>`). Then bundles each entry point (scripts/build-bundle.ts:
 * loading one bundle instead of thousands of modules is most of the start time), and the entry
 * files import their bundles. The checkout's own package files are not touched: tests and
 * `npm start` keep running the TypeScript through tsx.
 *
 * --link: instead of an install, links DIR/node_modules to the checkout's (each workspace package
 * to DIR's own copy), for running the build in place (test/integration/deploy-build.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { bundle } from './build-bundle.js';

const REPO = resolve(import.meta.dirname, '..');

export interface BuildOptions {
  out: string;
  link?: boolean;
}

type PackageJson = { name: string; main?: string; exports?: unknown; scripts?: Record<string, string>; workspaces?: string[] };

export async function build({ out, link = false }: BuildOptions): Promise<void> {
  const target = resolve(REPO, out);
  if (!relative(target, REPO).startsWith('..')) throw new Error(`refusing to build into ${target}: it holds the checkout`);
  rmSync(target, { recursive: true, force: true });
  const tsc = createRequire(join(REPO, 'package.json')).resolve('typescript/bin/tsc');
  const compiled = spawnSync(process.execPath, [tsc, '-p', join(REPO, 'tsconfig.build.json'), '--outDir', target], { cwd: REPO, stdio: 'inherit' });
  if (compiled.status !== 0) throw new Error(`tsc failed (exit ${compiled.status})`);

  const root = readJson<PackageJson>(join(REPO, 'package.json'));
  // The scripts of the tree: the compiled entry points, no tsx.
  root.scripts = { start: 'node gateway/src/main.js', 'start:role': 'node deploy/bin/start-role.js' };
  writeJson(join(target, 'package.json'), root);
  copyFileSync(join(REPO, 'package-lock.json'), join(target, 'package-lock.json'));
  const workspaces = workspaceDirs(root.workspaces ?? []);
  for (const dir of workspaces) {
    const pkg = readJson<PackageJson>(join(REPO, dir, 'package.json'));
    pkg.main = pkg.main && toJs(pkg.main);
    pkg.exports = mapStrings(pkg.exports, toJs);
    if (pkg.scripts?.start) pkg.scripts.start = pkg.scripts.start.replace(/^tsx (\S+)\.ts$/, 'node $1.js');
    mkdirSync(join(target, dir), { recursive: true });
    writeJson(join(target, dir, 'package.json'), pkg);
  }
  await bundle(REPO, target);
  if (link) linkModules(target, workspaces);
}

/** `./src/index.ts` → `./src/index.js`: what tsc wrote for it. */
function toJs(path: string): string {
  return path.replace(/\.ts$/, '.js');
}

function mapStrings(value: unknown, fn: (s: string) => string): unknown {
  if (typeof value === 'string') return fn(value);
  if (Array.isArray(value)) return value.map((v) => mapStrings(v, fn));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, mapStrings(v, fn)]));
  return value;
}

/** The workspace folders of the root package (`services/*` expanded to the folders holding a package.json). */
function workspaceDirs(patterns: string[]): string[] {
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith('/*')) return [pattern];
    const parent = pattern.slice(0, -2);
    return readdirSync(join(REPO, parent), { withFileTypes: true })
      .filter((d) => d.isDirectory() && existsSync(join(REPO, parent, d.name, 'package.json')))
      .map((d) => `${parent}/${d.name}`);
  });
}

/**
 * DIR/node_modules: every package of the checkout's node_modules linked in, except the workspace
 * packages (@rgw/*), which point at DIR's compiled copies; a workspace's own node_modules is linked too.
 */
function linkModules(target: string, workspaces: string[]): void {
  const modules = join(REPO, 'node_modules');
  const own = join(target, 'node_modules');
  mkdirSync(own, { recursive: true });
  for (const entry of readdirSync(modules)) {
    if (entry === '@rgw' || entry === '.bin') continue;
    symlinkSync(join(modules, entry), join(own, entry));
  }
  for (const dir of workspaces) {
    const name = readJson<PackageJson>(join(REPO, dir, 'package.json')).name;
    const link = join(own, name);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(relative(dirname(link), join(target, dir)), link);
    if (existsSync(join(REPO, dir, 'node_modules'))) symlinkSync(join(REPO, dir, 'node_modules'), join(target, dir, 'node_modules'));
  }
}

function readJson<T>(path: string): T {
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

function writeJson(path: string, value: unknown): void {
  writeFileSync(path, `${JSON.stringify(value, null, 2)}\n`);
}

if (process.argv[1] && resolve(process.argv[1]) === resolve(import.meta.filename)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--out');
  await build({ out: at === -1 ? 'dist' : args[at + 1]!, link: args.includes('--link') });
}
