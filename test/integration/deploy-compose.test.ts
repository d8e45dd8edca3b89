import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../support/process-harness.js';
import { run } from './deploy-support.js';

// `docker-compose config` (Debian's docker-compose package; .ci/run installs it) validates the file
// against the Compose schema and interpolates it as `docker compose up` would; no engine is needed.
const BACKING_STATE: Record<string, string> = {
  postgres: '/var/lib/postgresql/data',
  redis: '/data',
  rabbitmq: '/var/lib/rabbitmq',
  minio: '/data',
  qdrant: '/qdrant/storage',
};

function composeBinary(): string | undefined {
  try {
    execFileSync('docker-compose', ['version'], { stdio: 'ignore' });
    return 'docker-compose';
  } catch {
    return undefined;
  }
}

describe('docker-compose.yml', { timeout: 120_000 }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'rgw-compose-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const bin = composeBinary();
  const envFile = (extra: string) => {
    const file = join(dir, `env-${Math.random().toString(36).slice(2)}`);
    writeFileSync(file, readFileSync(join(REPO_ROOT, '.env.example'), 'utf8') + extra);
    return file;
  };
  const config = (env: string) => run(bin!, ['--project-directory', REPO_ROOT, '-f', join(REPO_ROOT, 'docker-compose.yml'), '--env-file', env, 'config'], { env: { PATH: process.env.PATH } });

  if (!bin) {
    console.warn('SKIPPED: docker-compose config checks, because the docker-compose binary is missing (.ci/run installs it: apt-get install docker-compose)');
    it('is valid YAML with services (docker-compose missing)', () => {
      expect(parse(readFileSync(join(REPO_ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }).services.gateway).toBeDefined();
    });
    return;
  }

  it('refuses to start without INTERNAL_TOKEN (the .env.example as shipped), naming it', async () => {
    const res = await config(envFile(''));
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('INTERNAL_TOKEN');
  });

  it('passes docker-compose config with .env.example filled in, with a healthcheck and healthy dependencies everywhere', async () => {
    const res = await config(envFile('\nINTERNAL_TOKEN=0123456789abcdef\nAPI_KEYS=sk-test-1\n'));
    expect(res.code, res.stderr).toBe(0);
    const resolved = parse(res.stdout) as {
      services: Record<string, { image?: string; build?: unknown; profiles?: string[]; healthcheck?: { test: unknown }; depends_on?: Record<string, { condition: string }>; volumes?: unknown[]; environment?: Record<string, string> }>;
      volumes: Record<string, unknown>;
    };
    const services = Object.entries(resolved.services);
    for (const [name, s] of services) {
      expect(s.healthcheck?.test, `${name} healthcheck`).toBeTruthy();
      for (const [dep, d] of Object.entries(s.depends_on ?? {})) expect(d.condition, `${name} -> ${dep}`).toBe('service_healthy');
    }
    // One image built once: only the gateway builds it, every app container runs the same tag.
    // Envoy (profile extproc) runs its own image and keeps no state.
    expect(resolved.services.envoy).toMatchObject({ profiles: ['extproc'] });
    const apps = services.filter(([name]) => !(name in BACKING_STATE) && name !== 'envoy');
    expect(apps.filter(([, s]) => s.build).map(([n]) => n)).toEqual(['gateway']);
    expect(new Set(apps.map(([, s]) => s.image)).size).toBe(1);
    expect(resolved.services.gateway!.environment!.INTERNAL_TOKEN).toBe('0123456789abcdef');
    // Every piece of state on a named volume (RabbitMQ included).
    for (const [name, path] of Object.entries(BACKING_STATE)) {
      const volumes = JSON.stringify(resolved.services[name]!.volumes);
      expect(volumes, name).toContain(path);
      const named = Object.keys(resolved.volumes).filter((v) => volumes.includes(v));
      expect(named.length, `${name} uses a named volume`).toBe(1);
    }
  });
});
