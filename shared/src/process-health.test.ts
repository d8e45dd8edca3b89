import { describe, expect, it } from 'vitest';
import { processHealth, type Platform } from './platform.js';

/** A platform whose parts answer pings as told; only what processHealth touches. */
function fakePlatform(down: Partial<Record<'database' | 'cache' | 'queue', boolean>>): Platform {
  const part = (kind: string, isDown?: boolean) => ({ kind, dialect: kind, ping: async () => { if (isDown) throw new Error(`${kind} is down`); } });
  return { database: part('postgres', down.database), cache: part('redis', down.cache), queue: part('amqp', down.queue), objects: part('disk') } as unknown as Platform;
}

describe('processHealth', () => {
  it('stays healthy when a part its services do not use is down, and reports that part as not required', async () => {
    const { ok, dependencies } = await processHealth(fakePlatform({ queue: true }), ['database']);
    expect(ok).toBe(true);
    expect(dependencies.queue).toMatchObject({ status: 'Error', kind: 'amqp', required: false, error: 'amqp is down' });
    expect(dependencies.database).toEqual({ status: 'OK', kind: 'postgres' });
  });

  it('is unhealthy when a part it uses is down', async () => {
    const { ok, dependencies } = await processHealth(fakePlatform({ queue: true }), ['database', 'cache', 'queue']);
    expect(ok).toBe(false);
    expect(dependencies.queue).toMatchObject({ status: 'Error' });
    expect(dependencies.queue.required).toBeUndefined();
  });

  it('is healthy with every part up', async () => {
    expect((await processHealth(fakePlatform({}), ['database', 'cache', 'queue'])).ok).toBe(true);
  });
});
