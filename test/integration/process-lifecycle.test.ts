import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, describe, expect, it } from 'vitest';
import { MockModelServer } from '../support/mock-model-server.js';
import { REPO_ROOT, spawnTs, waitHealthy, type ManagedProcess } from '../support/process-harness.js';

// These start their own gateway processes: what is tested is the process itself (start-up without
// a provider, SIGTERM), which the shared platforms cannot show.
const logDir = join(REPO_ROOT, '.tmp', 'test-logs');
const started: ManagedProcess[] = [];
afterAll(async () => {
  await Promise.all(started.map((p) => p.stop(2000)));
});

async function gateway(name: string, env: Record<string, string>): Promise<ManagedProcess> {
  const proc = await spawnTs(name, 'gateway/src/main.ts', { DATA_DIR: mkdtempSync(join(tmpdir(), 'rgw-life-')), BACKEND_BASE_URL: '', CONFIG_FILE: '', ...env }, logDir);
  started.push(proc);
  await waitHealthy(proc);
  return proc;
}

describe('process lifecycle (embedded)', () => {
  it('starts with no provider configured and names the setting in a 503', async () => {
    const proc = await gateway('no-provider', {});
    const client = new OpenAI({ baseURL: `${proc.url}/v1`, apiKey: 'x', maxRetries: 0 });
    expect((await client.models.list()).data).toEqual([]);
    const err = await client.chat.completions.create({ model: 'any', messages: [{ role: 'user', content: 'x' }] }).catch((e) => e);
    expect(err.status).toBe(503);
    expect(err.code).toBe('no_provider_configured');
    expect(err.message).toContain('BACKEND_BASE_URL');
  });

  it('on SIGTERM stops accepting, lets an in-flight stream finish, and exits 0', async () => {
    const slow = await MockModelServer.start({ chunkDelayMs: 150 });
    try {
      const proc = await gateway('shutdown', { BACKEND_BASE_URL: slow.url, SHUTDOWN_TIMEOUT_MS: '10000' });
      const client = new OpenAI({ baseURL: `${proc.url}/v1`, apiKey: 'x', maxRetries: 0 });
      slow.enqueue({ type: 'text', text: 'a b c d e f' });
      const stream = await client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }], stream: true });
      const iterator = stream[Symbol.asyncIterator]();
      await iterator.next(); // the stream is under way
      const exited = proc.stop(15_000);
      await new Promise((r) => setTimeout(r, 100));
      await expect(fetch(`${proc.url}/health`)).rejects.toThrow();
      let text = '';
      for (let r = await iterator.next(); !r.done; r = await iterator.next()) text += r.value.choices[0]?.delta.content ?? '';
      expect(text).toBe('a b c d e f');
      expect(await exited).toBe(0);
    } finally {
      await slow.close();
    }
  });

  it('on SIGTERM cuts a stream that outlives SHUTDOWN_TIMEOUT_MS and still exits', async () => {
    const hung = await MockModelServer.start();
    try {
      const proc = await gateway('shutdown-bounded', { BACKEND_BASE_URL: hung.url, SHUTDOWN_TIMEOUT_MS: '1000' });
      hung.enqueue({ type: 'hang' });
      const client = new OpenAI({ baseURL: `${proc.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const pending = client.chat.completions.create({ model: 'mock-model', messages: [{ role: 'user', content: 'x' }], stream: true }).catch((e) => e);
      await new Promise((r) => setTimeout(r, 300));
      const started = Date.now();
      const code = await proc.stop(20_000);
      expect(Date.now() - started).toBeLessThan(8000);
      expect(code).not.toBeNull(); // exited by itself, not killed by the harness
      await pending;
    } finally {
      await hung.close();
    }
  });

  it('serves /livez without looking at dependencies', async () => {
    const proc = await gateway('livez', {});
    const res = await fetch(`${proc.url}/livez`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'OK' });
  });
});
