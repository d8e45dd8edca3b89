/**
 * The bundling step of `npm run build` (issue 15: the image starts in under 2 seconds). Loading the
 * runtime module by module (thousands of files: express, kysely, zod, ...) was most of a start;
 * esbuild puts each entry point's code into DIR/bundle/ as ES modules, with `splitting` so the code
 * the entry points share is one chunk and what is imported dynamically (S3, Qdrant, gRPC, the
 * document extractors, ...) stays a lazy chunk loaded on first use.
 *
 * The compiled tree (tsc) stays as it is, so every path that names a file keeps working: each entry
 * point's compiled file (`gateway/src/main.js`, `services/<dir>/src/main.js`, the worker thread's
 * file) becomes a one-line module importing its bundle, and `import.meta.url` in our sources is
 * rewritten to the URL of the file's compiled copy, so what it finds relative to itself (the .proto
 * files, the root package.json, the worker thread's file, createRequire's node_modules) is found.
 */
import { cpSync, existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, sep } from 'node:path';
import * as esbuild from 'esbuild';
import { GATEWAY_ENTRY, SERVICE_MANIFEST, serviceEntry } from '../shared/src/service-manifest.js';

export const BUNDLE_DIR = 'bundle';

/**
 * Not bundled: native addons (their .node files are found relative to the package), and optional
 * modules a dependency tries to load (pg's `pg-native`).
 */
const EXTERNAL = ['better-sqlite3', 'pg-native'];

/** Entry points: the gateway, each role of the manifest, and the worker threads (a thread starts from a file of its own). */
export function entryPoints(): Record<string, string> {
  const entries: Record<string, string> = { gateway: GATEWAY_ENTRY };
  for (const spec of SERVICE_MANIFEST) entries[spec.name] = serviceEntry(spec);
  entries['chunk-thread-worker'] = 'services/vector-stores/src/ingest/chunk-thread-worker.ts';
  entries['embedded-writer-thread'] = 'services/vector-stores/src/index/embedded-writer-thread.ts';
  return entries;
}

// Every output file is in DIR/bundle/, so DIR is one level up from any of them. `require` for the
// CommonJS dependencies inside the bundle that load Node's built-ins (esbuild's ESM output has none).
const BANNER = [
  "import { createRequire as __rgwCreateRequire } from 'node:module';",
  "import { fileURLToPath as __rgwFileURLToPath } from 'node:url';",
  'const require = __rgwCreateRequire(import.meta.url);',
  "const __rgwRoot = new URL('../', import.meta.url);",
].join('\n');

/** `import.meta.url`, `.filename`, `.dirname` of a repository source: those of its compiled copy in DIR. */
function rewriteImportMeta(repo: string): esbuild.Plugin {
  return {
    name: 'rgw-import-meta',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        if (args.path.includes(`${sep}node_modules${sep}`)) return undefined;
        const source = readFileSync(args.path, 'utf8');
        if (!source.includes('import.meta.')) return { contents: source, loader: 'ts' };
        const rel = relative(repo, args.path).split(sep).join('/').replace(/\.ts$/, '.js');
        const url = `new URL(${JSON.stringify(rel)}, __rgwRoot)`;
        const dir = `new URL(${JSON.stringify(`${dirname(rel)}/`)}, __rgwRoot)`;
        const contents = source
          .replace(/\bimport\.meta\.url\b/g, `${url}.href`)
          .replace(/\bimport\.meta\.filename\b/g, `__rgwFileURLToPath(${url})`)
          .replace(/\bimport\.meta\.dirname\b/g, `__rgwFileURLToPath(${dir}).replace(/[\\\\/]$/, '')`);
        return { contents, loader: 'ts' };
      });
    },
  };
}

/**
 * The compiled entry file: turns on Node's on-disk compile cache where the runtime has it (22.1+;
 * the OS temp dir, or NODE_COMPILE_CACHE), so a restart skips compiling the bundle, then loads the
 * bundle. A dynamic import, since a static one would be compiled before this line runs.
 */
function entryStub(bundlePath: string): string {
  return [
    '// The bundle of this entry point (scripts/build-bundle.ts).',
    "import module from 'node:module';",
    'module.enableCompileCache?.();',
    `await import('${bundlePath}');`,
    '',
  ].join('\n');
}

/** esbuild's options for the bundle of `entries` into `out` (also what a size analysis can rerun). */
export function bundleOptions(repo: string, out: string, entries = entryPoints()) {
  return {
    absWorkingDir: repo,
    entryPoints: entries,
    outdir: out,
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    // The production conditions: no `development` builds of dependencies.
    conditions: ['production'],
    external: EXTERNAL,
    banner: { js: BANNER },
    plugins: [rewriteImportMeta(repo), iconvTablesOutside],
    sourcemap: 'linked',
    // Whitespace and syntax only (about a third less to read and parse at every start); identifiers
    // keep their names, so stack traces stay readable without the source maps.
    minifyWhitespace: true,
    minifySyntax: true,
    // Function and class `.name` as written, even where the bundle renamed a clashing binding.
    keepNames: true,
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  } satisfies esbuild.BuildOptions;
}

/**
 * iconv-lite's encoding tables (half a megabyte, a fifth of a service's bundle) stay in node_modules:
 * iconv-lite requires them on the first non-UTF-8 body only, and every start would parse them.
 */
const iconvTablesOutside: esbuild.Plugin = {
  name: 'rgw-iconv-tables',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/encodings$/ }, (args) =>
      /[\\/]node_modules[\\/]iconv-lite[\\/]lib[\\/]/.test(args.importer) ? { path: 'iconv-lite/encodings/index.js', external: true } : undefined,
    );
  },
};

/** Bundles the runtime into DIR/bundle and points the compiled entry files at it. */
export async function bundle(repo: string, target: string): Promise<esbuild.Metafile> {
  const out = join(target, BUNDLE_DIR);
  rmSync(out, { recursive: true, force: true });
  const entries = entryPoints();
  const result = await esbuild.build(bundleOptions(repo, out, entries));
  for (const [name, source] of Object.entries(entries)) {
    const compiled = join(target, source.replace(/\.ts$/, '.js'));
    if (!existsSync(compiled)) throw new Error(`bundle: ${compiled} was not compiled`);
    const to = relative(dirname(compiled), join(out, `${name}.js`)).split(sep).join('/');
    writeFileSync(compiled, entryStub(to.startsWith('.') ? to : `./${to}`));
    rmSync(`${compiled}.map`, { force: true });
  }
  // Files the runtime reads beside its code: the ExtProc service definition.
  cpSync(join(repo, 'gateway/proto'), join(target, 'gateway/proto'), { recursive: true });
  return result.metafile;
}
