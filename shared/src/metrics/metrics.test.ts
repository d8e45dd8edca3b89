import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { metricsRegistry } from './registry.js';
import { observeModelCall } from './model-metrics.js';
import { observeJob } from './queue-metrics.js';
import { instrumentIngest } from './ingest-metrics.js';
// Every metric of the module registered (the dashboard test checks names against them all).
import './index.js';

const value = async (name: string, labels: Record<string, string>) =>
  (await metricsRegistry.getSingleMetric(name)!.get()).values.find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))?.value ?? 0;

describe('metrics hooks', () => {
  it('observes a model call without consuming its reply, and the time to its first byte', async () => {
    const server = http.createServer((_req, res) => {
      res.writeHead(200);
      res.write('first');
      setTimeout(() => res.end(' second'), 20);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const before = await value('rgw_model_time_to_first_token_seconds', { model: 'm-ttft' });
    const reply = new Promise<http.IncomingMessage>((resolve) => http.get(`http://127.0.0.1:${(server.address() as AddressInfo).port}`, resolve));
    observeModelCall(reply, 'p', 'm-ttft', '/chat/completions');
    const msg = await reply;
    // The consumer attaches after the observer and still reads the whole body.
    await new Promise((r) => setTimeout(r, 5));
    let body = '';
    for await (const chunk of msg) body += chunk;
    expect(body).toBe('first second');
    server.close();
    const text = await metricsRegistry.metrics();
    expect(text).toMatch(/rgw_model_requests_total\{provider="p",model="m-ttft",endpoint="\/chat\/completions",status="200"\} 1/);
    expect(text).toMatch(/rgw_model_time_to_first_token_seconds_count\{provider="p",model="m-ttft",endpoint="\/chat\/completions"\} 1/);
    expect(before).toBe(0);
  });

  it('counts an unreachable model server as an error, an aborted call as aborted', async () => {
    observeModelCall(Promise.reject(Object.assign(new Error('down'), { code: 'upstream_unreachable' })), 'p', 'm-err', '/embeddings');
    observeModelCall(Promise.reject(Object.assign(new Error('aborted'), { name: 'AbortError' })), 'p', 'm-err', '/embeddings');
    await new Promise((r) => setTimeout(r, 1));
    expect(await value('rgw_model_errors_total', { model: 'm-err', kind: 'unreachable' })).toBe(1);
    expect(await value('rgw_model_requests_total', { model: 'm-err', status: 'aborted' })).toBe(1);
  });

  it('tracks jobs in flight and counts retries and dead letters by topic', async () => {
    let finish!: (o: { kind: string }) => void;
    const run = observeJob('t-metrics', new Promise<{ kind: string }>((r) => (finish = r)));
    expect(await value('rgw_queue_jobs_in_flight', { topic: 't-metrics' })).toBe(1);
    finish({ kind: 'retry' });
    await run;
    await observeJob('t-metrics', Promise.resolve({ kind: 'dead' }));
    expect(await value('rgw_queue_jobs_in_flight', { topic: 't-metrics' })).toBe(0);
    expect(await value('rgw_queue_retries_total', { topic: 't-metrics' })).toBe(1);
    expect(await value('rgw_queue_dead_letters_total', { topic: 't-metrics' })).toBe(1);
  });

  it('counts ingested chunks and finished files through the wrapped dependencies', async () => {
    const deps = instrumentIngest({
      index: { kind: 'x', upsert: async (_records: readonly unknown[]) => undefined },
      files: { finish: async (_s: string, _f: string, _a: string, _r: { status: string }) => true },
      log: 'kept',
    });
    const chunks = await value('rgw_ingest_chunks_total', {});
    const done = await value('rgw_ingest_files_total', { status: 'completed' });
    await deps.index.upsert([1, 2, 3]);
    await deps.files.finish('vs', 'file', 'att', { status: 'completed' });
    expect(await value('rgw_ingest_chunks_total', {})).toBe(chunks + 3);
    expect(await value('rgw_ingest_files_total', { status: 'completed' })).toBe(done + 1);
    expect(deps.index.kind).toBe('x');
    expect(deps.log).toBe('kept');
  });
});

describe('the example Grafana dashboard (deploy/grafana)', () => {
  it('queries only metrics this code exports', async () => {
    const { readFileSync } = await import('node:fs');
    const dashboard = readFileSync(new URL('../../../deploy/grafana/responses-gateway.json', import.meta.url), 'utf8');
    const used = new Set([...dashboard.matchAll(/\b(rgw_[a-z_]+)/g)].map((m) => m[1]!.replace(/_(bucket|count|sum)$/, '')));
    const exported = new Set((await metricsRegistry.getMetricsAsJSON()).map((m) => m.name));
    expect(used.size).toBeGreaterThan(10);
    for (const name of used) expect(exported.has(name), name).toBe(true);
  });
});
