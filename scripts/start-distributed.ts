/**
 * Runs the distributed topology on one machine for development: every service as its own process
 * on its default port, and the gateway proxying to them. Needs DATABASE_URL, REDIS_URL and AMQP_URL.
 * In production each of these runs as its own container (docker-compose.yml, deploy/helm).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { SERVICE_DEFAULT_PORTS, SERVICE_NAMES } from '@rgw/shared';

const missing = ['DATABASE_URL', 'REDIS_URL', 'AMQP_URL'].filter((name) => !process.env[name]);
if (missing.length) {
  console.error(`distributed mode needs ${missing.join(', ')} (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres)`);
  process.exit(2);
}

const gatewayPort = process.env.PORT ?? '8321';
const children: ChildProcess[] = [];
const run = (entry: string, env: Record<string, string>) => {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { stdio: 'inherit', env: { ...process.env, ...env } });
  child.on('exit', (code) => {
    if (!stopping) {
      console.error(`${entry} exited with ${code}; stopping the rest`);
      stop();
    }
  });
  children.push(child);
};

const serviceUrls: Record<string, string> = {};
for (const name of SERVICE_NAMES) {
  const port = String(SERVICE_DEFAULT_PORTS[name]);
  serviceUrls[`${name.toUpperCase()}_SERVICE_URL`] = `http://127.0.0.1:${port}`;
  run(`services/${name}/src/main.ts`, { PORT: port, GATEWAY_URL: `http://127.0.0.1:${gatewayPort}` });
}
run('gateway/src/main.ts', { PORT: gatewayPort, ...serviceUrls });

let stopping = false;
function stop() {
  stopping = true;
  for (const c of children) c.kill('SIGTERM');
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
