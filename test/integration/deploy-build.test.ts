import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, REPO_ROOT } from '../support/process-harness.js';
import { samplePdf, sampleDocx, samplePptx, sampleHtml } from '../../services/vector-stores/src/ingest/test-samples.js';
import { available, freshPostgres, TEST_AMQP_URL, TEST_REDIS_URL } from '../support/backing-services.js';
import { run } from './deploy-support.js';

// The image's build commands, run here since no Docker engine is: `npm run build` compiles the
// TypeScript into a workspace tree of plain JavaScript, which then starts with plain `node` (no tsx
// loader; Node 20 cannot load a .ts file on its own, so anything left uncompiled fails to start).
const OUT = join(REPO_ROOT, '.tmp', 'build-test');
const started: ChildProcess[] = [];

function filesUnder(dir: string, skip: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.name === skip ? [] : e.isDirectory() ? filesUnder(join(dir, e.name), skip) : [join(dir, e.name)],
  );
}

/** CPU time (user + system) the process has used so far, from /proc (Linux), in ms. */
function cpuMs(pid: number): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return undefined;
  }
}

async function startCompiled(args: string[], env: Record<string, string>): Promise<{ origin: string; child: ChildProcess; readyMs: number; cpuMs?: number }> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'rgw-build-'));
  const t0 = Date.now();
  // Plain node, and an environment without the test runner's loaders.
  const child = spawn(process.execPath, args, {
    cwd: OUT,
    env: { PATH: process.env.PATH, PORT: String(port), DATA_DIR: dataDir, LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  started.push(child);
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr += d));
  const origin = `http://127.0.0.1:${port}`;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${args.join(' ')} exited with ${child.exitCode}: ${stderr}`);
    if (Date.now() - t0 > 120_000) throw new Error(`${args.join(' ')} did not get ready in 120 s: ${stderr}`);
    const ok = await fetch(`${origin}/readyz`).then((r) => r.ok, () => false);
    if (ok) return { origin, child, readyMs: Date.now() - t0, cpuMs: cpuMs(child.pid!) };
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('the production build (npm run build)', () => {
  beforeAll(async () => {
    const res = await run('npm', ['run', 'build', '--', '--out', OUT, '--link']);
    if (res.code !== 0) throw new Error(`npm run build failed:\n${res.stdout}\n${res.stderr}`);
  }, 600_000);
  afterAll(() => {
    for (const child of started) child.kill('SIGTERM');
  });

  it('bundles each entry point: the compiled entry files load their bundle', () => {
    expect(readFileSync(join(OUT, 'gateway/src/main.js'), 'utf8')).toContain("import('../../bundle/gateway.js')");
    expect(readFileSync(join(OUT, 'services/prompts/src/main.js'), 'utf8')).toContain("import('../../../bundle/prompts.js')");
    expect(readFileSync(join(OUT, 'services/vector-stores/src/ingest/chunk-thread-worker.js'), 'utf8')).toContain('bundle/chunk-thread-worker.js');
  });

  it('emits JavaScript only, with every package pointing at it', () => {
    const files = filesUnder(OUT, 'node_modules');
    expect(files.filter((f) => /\.ts$/.test(f))).toEqual([]);
    expect(files.filter((f) => /\.test\.js$/.test(f))).toEqual([]);
    const shared = JSON.parse(readFileSync(join(OUT, 'shared/package.json'), 'utf8'));
    expect(shared.exports['.']).toBe('./src/index.js');
    // The checkout's own package files still point at the TypeScript (tests and tsx keep working).
    expect(JSON.parse(readFileSync(join(REPO_ROOT, 'shared/package.json'), 'utf8')).exports['.']).toBe('./src/index.ts');
  });

  it('starts the compiled gateway with plain node (embedded): /readyz, /v1/models and /metrics answer 200', async () => {
    const { origin, readyMs, cpuMs } = await startCompiled(['gateway/src/main.js'], {});
    console.log(`compiled gateway: ready in ${readyMs} ms wall, ${cpuMs ?? '?'} ms CPU`);
    expect((await fetch(`${origin}/readyz`)).status).toBe(200);
    const models = await fetch(`${origin}/v1/models`);
    expect(models.status).toBe(200);
    expect(((await models.json()) as { object: string }).object).toBe('list');
    const metrics = await fetch(`${origin}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toMatch(/rgw_http_requests_total\{route="\/v1\/models",method="GET",status="200"\} 1/);
  }, 180_000);

  it('ingests PDF, DOCX, PPTX and HTML in the bundle (lazily loaded extractors, the chunker thread) and serves /docs', async () => {
    const { origin } = await startCompiled(['gateway/src/main.js'], {});
    const files: [string, Buffer | string][] = [
      ['report.pdf', await samplePdf(['Quarterly llama census'])],
      ['notes.docx', await sampleDocx(['Alpaca grooming notes'])],
      ['deck.pptx', await samplePptx([{ paragraphs: ['Vicuna roadmap', 'Ship it'] }])],
      ['page.html', sampleHtml],
    ];
    const ids: string[] = [];
    for (const [name, bytes] of files) {
      const form = new FormData();
      form.set('purpose', 'assistants');
      form.set('file', new Blob([bytes]), name);
      const res = await fetch(`${origin}/v1/files`, { method: 'POST', body: form });
      expect(res.status, name).toBe(200);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const created = await fetch(`${origin}/v1/vector_stores`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ file_ids: ids }) });
    const store = (await created.json()) as { id: string };
    let counts = { total: 1, completed: 0, failed: 0 };
    for (let i = 0; i < 600 && counts.total !== counts.completed + counts.failed; i++) {
      await new Promise((r) => setTimeout(r, 100));
      counts = ((await (await fetch(`${origin}/v1/vector_stores/${store.id}`)).json()) as { file_counts: typeof counts }).file_counts;
    }
    expect(counts).toMatchObject({ completed: 4, failed: 0 });
    for (const word of ['llama', 'Alpaca', 'Vicuna']) {
      const res = await fetch(`${origin}/v1/vector_stores/${store.id}/search`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ query: word, search_mode: 'keyword' }) });
      expect(((await res.json()) as { data: unknown[] }).data.length, word).toBeGreaterThan(0);
    }
    expect((await fetch(`${origin}/docs/swagger-ui-bundle.js`)).status).toBe(200);
  }, 180_000);

  it('starts the gRPC ExtProc server in the bundle (the .proto files are found)', async () => {
    const grpcPort = await freePort();
    const { child } = await startCompiled(['gateway/src/main.js'], { EXTPROC_PORT: String(grpcPort) });
    expect(child.exitCode).toBeNull();
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(grpcPort, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.on('error', () => resolve(false));
    });
    expect(open).toBe(true);
  }, 180_000);

  it('starts a service by its role through the image entry point (deploy/bin/start-role.js)', async () => {
    const { origin } = await startCompiled(['deploy/bin/start-role.js', 'prompts'], { GATEWAY_URL: 'http://127.0.0.1:9' });
    const ready = (await (await fetch(`${origin}/readyz`)).json()) as { service: string };
    expect(ready.service).toBe('prompts');
    expect((await fetch(`${origin}/metrics`)).status).toBe(200);
  }, 180_000);

  it('starts a distributed role from the bundle: Postgres, Redis and RabbitMQ clients load on demand', async () => {
    const up = await Promise.all((['postgres', 'redis', 'rabbitmq'] as const).map((s) => available(s, 'bundled distributed role')));
    if (up.includes(false)) return;
    const pg = await freshPostgres('rgw_build');
    try {
      const { origin } = await startCompiled(['deploy/bin/start-role.js', 'responses'], {
        GATEWAY_URL: 'http://127.0.0.1:9',
        INTERNAL_TOKEN: 'build-test-token',
        DATABASE_URL: pg.url,
        REDIS_URL: TEST_REDIS_URL,
        AMQP_URL: TEST_AMQP_URL,
        KEY_PREFIX: `build${process.pid}`,
      });
      const health = (await (await fetch(`${origin}/health`)).json()) as { dependencies: Record<string, { status: string; kind: string }> };
      expect(health.dependencies).toMatchObject({ database: { status: 'OK', kind: 'postgres' }, cache: { status: 'OK', kind: 'redis' }, queue: { status: 'OK', kind: 'amqp' } });
    } finally {
      for (const child of started.splice(0)) child.kill('SIGTERM');
      await pg.drop().catch(() => {});
    }
  }, 180_000);

  it('refuses an unknown role', async () => {
    const res = await run(process.execPath, ['deploy/bin/start-role.js', 'frontend'], { cwd: OUT, env: { PATH: process.env.PATH } });
    expect(res.code).toBe(2);
    expect(res.stderr).toContain("unknown role 'frontend'");
  }, 120_000);
});
