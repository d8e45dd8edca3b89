import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { metricsRegistry } from './registry.js';
import { watchQueueDepth } from './queue-depth.js';
import { cleanUp, queueAdapters } from '../queue/queue-test-support.js';

afterAll(cleanUp);

const depthOf = async (topic: string) => {
  const text = await metricsRegistry.metrics();
  const line = text.split('\n').find((l) => l.startsWith(`rgw_queue_depth{topic="${topic}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
};

describe('rgw_queue_depth', async () => {
  const adapters = await queueAdapters();

  it.each(adapters.map((a) => [a.name, a] as const))('counts jobs published with no consumer running (%s)', async (_name, adapter) => {
    const q = await adapter.open();
    const topic = `depth-${randomBytes(3).toString('hex')}`;
    expect(await depthOf(topic)).toBeUndefined();
    await q.publish(topic, { n: 1 });
    await q.publish(topic, { n: 2 });
    await q.publish(topic, { n: 3 });
    expect(await depthOf(topic)).toBe(3);
    // Consumed, the jobs no longer wait.
    const seen: unknown[] = [];
    await q.consume(topic, async (p) => void seen.push(p), { concurrency: 1 });
    const deadline = Date.now() + 10_000;
    while (seen.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(seen).toHaveLength(3);
    let depth: number | undefined;
    for (let i = 0; i < 40 && (depth = await depthOf(topic)) !== 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(depth).toBe(0);
    await q.close();
  });

  it('keeps the last reading when a queue errs or hangs, and never fails the scrape', async () => {
    let mode: 'ok' | 'throw' | 'hang' = 'ok';
    const unwatch = watchQueueDepth({
      depths: async () => {
        if (mode === 'throw') throw new Error('broker gone');
        if (mode === 'hang') return new Promise(() => {});
        return new Map([['flaky', 7]]);
      },
    });
    expect(await depthOf('flaky')).toBe(7);
    mode = 'throw';
    expect(await depthOf('flaky')).toBe(7);
    mode = 'hang';
    const started = Date.now();
    expect(await depthOf('flaky')).toBe(7);
    expect(Date.now() - started).toBeLessThan(3000);
    unwatch();
    expect(await depthOf('flaky')).toBeUndefined();
  });
});
