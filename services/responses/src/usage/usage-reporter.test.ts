import { USAGE_TOPIC, createLogger, usageEventSchema } from '@rgw/shared';
import { describe, expect, it } from 'vitest';
import { newResponseObject } from '../response/response-object.js';
import { UsageReporter } from './usage-reporter.js';

const log = createLogger('test', 'silent');

function finished() {
  const response = newResponseObject('resp_u', { model: 'mock-model' } as never, 1, 'completed');
  response.usage = { input_tokens: 11, input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 }, output_tokens: 7, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: 18 };
  return response;
}

describe('UsageReporter', () => {
  it('publishes one event per response, for its principal (the open default without one), valid against the topic schema', async () => {
    const published: [string, unknown][] = [];
    const defined: string[] = [];
    const reporter = new UsageReporter({ defineTopic: (t) => void defined.push(t), publish: async (t, p) => void published.push([t, p]) }, log);
    expect(defined).toEqual([USAGE_TOPIC]);
    reporter.report(finished(), { projectId: 'proj_a', keyId: 'key_1' });
    reporter.report({ ...finished(), usage: null }, undefined);
    reporter.flush();
    await new Promise((r) => setImmediate(r));
    expect(published.map(([t]) => t)).toEqual([USAGE_TOPIC, USAGE_TOPIC]);
    const [first, second] = published.map(([, p]) => usageEventSchema.parse(p));
    expect(first).toMatchObject({ projectId: 'proj_a', keyId: 'key_1', model: 'mock-model', requests: 1, input_tokens: 11, output_tokens: 7 });
    expect(second).toMatchObject({ projectId: 'proj_default', requests: 1, input_tokens: 0, output_tokens: 0 });
    expect(second).not.toHaveProperty('keyId');
  });

  it('never throws nor waits when the queue cannot take the event', async () => {
    let settle: () => void = () => {};
    const reporter = new UsageReporter({ defineTopic: () => {}, publish: () => new Promise<void>((_, reject) => (settle = () => reject(new Error('queue down')))) }, log);
    expect(reporter.report(finished(), undefined)).toBeUndefined();
    expect(reporter.flush()).toBeUndefined();
    settle();
    await new Promise((r) => setImmediate(r));
    const throwing = new UsageReporter({ defineTopic: () => {}, publish: () => { throw new Error('sync failure'); } }, log);
    expect(() => throwing.report(finished(), undefined)).not.toThrow();
    expect(() => throwing.flush()).not.toThrow();
  });

  it('sums the responses of one key and model that end within the window into one event, and publishes it by itself', async () => {
    const published: unknown[] = [];
    const reporter = new UsageReporter({ defineTopic: () => {}, publish: async (_t, p) => void published.push(p) }, log, 20);
    const key = { projectId: 'proj_a', keyId: 'key_1' };
    reporter.report(finished(), key);
    reporter.report(finished(), key);
    reporter.report({ ...finished(), model: 'other-model' }, key);
    expect(published).toEqual([]);
    await new Promise((r) => setTimeout(r, 60));
    expect(published).toHaveLength(2);
    expect(published[0]).toMatchObject({ projectId: 'proj_a', keyId: 'key_1', model: 'mock-model', requests: 2, input_tokens: 22, output_tokens: 14 });
    expect(published[1]).toMatchObject({ model: 'other-model', requests: 1, input_tokens: 11 });
  });
});
