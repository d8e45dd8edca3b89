/**
 * Runs the distributed topology on one machine for development: every service of the manifest as its
 * own process on its default port, and the gateway (PORT, default 8321) proxying to them. Needs
 * DATABASE_URL, REDIS_URL and AMQP_URL. In production each runs as its own container
 * (docker-compose.yml, deploy/helm). When one process exits, the others are stopped.
 */
import { startDistributedTopology } from './launcher.js';

const missing = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL'].filter((name) => !process.env[name]);
if (missing.length) {
  console.error(`distributed mode needs ${missing.join(', ')} (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres)`);
  process.exit(2);
}

const gatewayPort = process.env.PORT ? Number(process.env.PORT) : undefined;
// PORT is the gateway's; each service gets its own from the manifest.
const { PORT: _gatewayPort, ...env } = process.env as Record<string, string>;
const topology = await startDistributedTopology(env, { ports: 'default', gatewayPort, nodeArgs: [] }).catch((err: Error) => {
  console.error(err.message);
  process.exit(1);
});
console.error(`distributed platform up: ${topology.url} (${topology.processes.map((p) => `${p.name} ${p.url}`).join(', ')})`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  void topology.stop().then(() => process.exit(0));
};
for (const p of topology.processes) {
  p.child.once('exit', (code) => {
    if (!stopping) console.error(`${p.name} exited with ${code}; stopping the rest`);
    stop();
  });
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
