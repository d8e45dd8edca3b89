import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { TopicRegistry } from './topics.js';

describe('TopicRegistry', () => {
  it('grows retry delays by the factor up to the cap', () => {
    const topics = new TopicRegistry();
    const t = topics.define('ingest', { maxAttempts: 6, backoff: { initialMs: 100, factor: 3, maxMs: 2000 } });
    expect([1, 2, 3, 4, 5].map((a) => t.retryDelay(a))).toEqual([100, 300, 900, 2000, 2000]);
  });

  it('gives topics never defined the defaults: three attempts, 1 s then 2 s', () => {
    const t = new TopicRegistry().get('anything');
    expect(t.maxAttempts).toBe(3);
    expect([t.retryDelay(1), t.retryDelay(2)]).toEqual([1000, 2000]);
  });

  it('refuses nonsense options and names that would clash with dead-letter queues', () => {
    const topics = new TopicRegistry();
    expect(() => topics.define('a', { maxAttempts: 0 })).toThrow(/maxAttempts/);
    expect(() => topics.define('a', { backoff: { factor: Number.NaN } })).toThrow(/backoff.factor/);
    expect(() => topics.define('a.dead', {})).toThrow(/topic name/);
  });

  it('checks payloads on publish against the schema', () => {
    const topics = new TopicRegistry();
    topics.define('files', { schema: z.object({ fileId: z.string() }) });
    expect(() => topics.checkPublish('files', { fileId: 'f' })).not.toThrow();
    expect(() => topics.checkPublish('files', { fileId: 1 })).toThrow(/schema of queue topic files/);
    expect(() => topics.checkPublish('other', undefined)).toThrow(/undefined/);
  });
});
