/**
 * The image's entry point: one image for every role. The role is the first argument
 * (`docker run IMAGE responses`) or ROLE, else the gateway; it maps to the entry point the service
 * manifest names, compiled (`.js`, the image) or not (`.ts`, a checkout run with tsx).
 */
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
// The manifest module alone: an unknown role is refused before the whole library loads.
import { GATEWAY_ENTRY, SERVICE_MANIFEST, serviceEntry } from '../../shared/src/service-manifest.js';

const role = process.argv[2] || process.env.ROLE || 'gateway';
const spec = SERVICE_MANIFEST.find((s) => s.name === role);
if (role !== 'gateway' && !spec) {
  console.error(`unknown role '${role}': use gateway or one of ${SERVICE_MANIFEST.map((s) => s.name).join(', ')}`);
  process.exit(2);
}
const entry = spec ? serviceEntry(spec) : GATEWAY_ENTRY;
const root = resolve(import.meta.dirname, '../..');
const compiled = resolve(root, entry.replace(/\.ts$/, '.js'));
await import(pathToFileURL(existsSync(compiled) ? compiled : resolve(root, entry)).href);
