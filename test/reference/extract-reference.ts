/**
 * Copies the parts of the public reference specs the conformance suite needs into this folder (so
 * CI on a fresh clone has them): the paths we also serve, every component they reach, and the stream
 * event schemas. Run when a reference spec is updated:
 *   npx tsx test/reference/extract-reference.ts [reference dir, default ../shared/reference beside the repo]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

const from = process.argv[2] ?? join(import.meta.dirname, '../../../shared/reference');
const ours = JSON.parse(readFileSync(join(import.meta.dirname, '../../docs/openapi.json'), 'utf8')) as { paths: Record<string, unknown> };

type Spec = { openapi: string; info: unknown; paths: Record<string, unknown>; components: Record<string, Record<string, unknown>> };

/** The spec with only `paths` (by their key in it) and `extraSchemas`, plus every component they reference. */
function subset(spec: Spec, paths: string[], extraSchemas: string[]): Spec {
  const keep: Record<string, Set<string>> = {};
  const pending: unknown[] = [...paths.map((p) => spec.paths[p]), ...extraSchemas.map((s) => ({ $ref: `#/components/schemas/${s}` }))];
  while (pending.length) {
    const node = pending.pop();
    if (Array.isArray(node)) pending.push(...node);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if (key === '$ref' && typeof value === 'string' && value.startsWith('#/components/')) {
          const [, , kind, name] = value.split('/') as [string, string, string, string];
          const set = (keep[kind] ??= new Set());
          if (!set.has(name)) {
            set.add(name);
            pending.push(spec.components[kind]![name]);
          }
        } else pending.push(value);
      }
    }
  }
  const components = Object.fromEntries(Object.entries(keep).map(([kind, names]) => [kind, Object.fromEntries([...names].sort().map((n) => [n, spec.components[kind]![n]]))]));
  return { openapi: spec.openapi, info: spec.info, paths: Object.fromEntries(paths.map((p) => [p, spec.paths[p]])), components };
}

const openai = JSON.parse(readFileSync(join(from, 'openai-openapi.json'), 'utf8')) as Spec;
// OpenAI's paths are relative to its /v1 server URL.
const shared = Object.keys(ours.paths).map((p) => p.replace(/^\/v1/, '')).filter((p) => p in openai.paths);
writeFileSync(join(import.meta.dirname, 'openai-openapi.json'), JSON.stringify(subset(openai, shared, ['ResponseStreamEvent', 'CreateChatCompletionStreamResponse', 'Error']), null, 1) + '\n');

const ogx = parse(readFileSync(join(from, 'ogx-openapi.yml'), 'utf8')) as Spec;
const ogxPaths = Object.keys(ogx.paths).filter((p) => p.startsWith('/v1/prompts') || p === '/v1/version' || p === '/v1/inspect/routes');
writeFileSync(join(import.meta.dirname, 'ogx-openapi.json'), JSON.stringify(subset(ogx, ogxPaths, []), null, 1) + '\n');
console.log(`openai: ${shared.length} paths; ogx: ${ogxPaths.length} paths`);
