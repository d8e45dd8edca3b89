/**
 * The image's HEALTHCHECK: GET /readyz of the process in this container. Its port is PORT, else
 * the role's default (the role from ROLE or from PID 1's command line, as `start-role.js <role>`).
 * Exit 0 healthy, 1 not, as Docker expects.
 */
import { readFileSync } from 'node:fs';
// The manifest module alone (it imports nothing): the whole shared library would cost every probe a second of CPU.
import { GATEWAY_DEFAULT_PORT, SERVICE_MANIFEST } from '../../shared/src/service-manifest.js';

function role(): string {
  if (process.env.ROLE) return process.env.ROLE;
  try {
    const args = readFileSync('/proc/1/cmdline', 'utf8').split('\0').filter(Boolean);
    const at = args.findIndex((a) => a.endsWith('start-role.js'));
    if (at !== -1 && args[at + 1]) return args[at + 1]!;
  } catch {
    // Not Linux, or no /proc: the gateway's default port.
  }
  return 'gateway';
}

const port = process.env.PORT || String(SERVICE_MANIFEST.find((s) => s.name === role())?.defaultPort ?? GATEWAY_DEFAULT_PORT);
try {
  const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
