import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ApiError, MemoryCache, createLogger, loadConfig, migrate, openDatabase } from '@rgw/shared';
import { AUTH_MIGRATIONS } from './auth-migrations.js';
import { AuthStore } from './auth-store.js';
import { KeyRegistry } from './key-registry.js';
import { hashKey, newSecret, presentedKey, redactKey } from './keys.js';
import { RateLimiter, formatDuration } from './rate-limiter.js';
import { parseUsage, UsageTap } from './usage-tap.js';

const logger = createLogger('auth-test', 'silent');

describe('usage tap', () => {
  it('reads a plain reply, the final usage chunk of a stream, and skips a null usage', () => {
    expect(parseUsage('{"id":"x","usage":{"prompt_tokens":11,"completion_tokens":7,"prompt_tokens_details":{"cached_tokens":1}}}')).toEqual({ input_tokens: 11, output_tokens: 7 });
    const tap = new UsageTap(true);
    tap.push(Buffer.from('data: {"choices":[{"delta":{"content":"\\"usage\\":{"}}],"usage":null}\n\n'.repeat(2000)));
    tap.push(Buffer.from('data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":4}}\n\ndata: [DONE]\n\n'));
    expect(tap.result()).toEqual({ input_tokens: 3, output_tokens: 4 });
    expect(parseUsage('data: {"usage":null}\n\n')).toBeUndefined();
    expect(parseUsage('{"usage":{"input_tokens":5,"output_tokens":2}}')).toEqual({ input_tokens: 5, output_tokens: 2 });
  });
});

describe('keys', () => {
  it('reads Bearer or x-api-key, and redacts', () => {
    expect(presentedKey({ authorization: 'Bearer abc' })).toBe('abc');
    expect(presentedKey({ 'x-api-key': 'def' })).toBe('def');
    expect(presentedKey({})).toBeUndefined();
    expect(newSecret()).toMatch(/^sk-rgw-[\w-]{43}$/);
    expect(redactKey('sk-abcdefghcd')).toBe('sk-ab***cd');
  });
});

describe('rate limiter', () => {
  it('counts requests and tokens per fixed minute, with OpenAI headers and a 429 carrying retry-after', async () => {
    let now = 120_000 + 10_000; // 50 s before the window ends
    const limiter = new RateLimiter(new MemoryCache(() => now), () => now);
    const principal = { projectId: 'p', keyId: 'k', keyLimits: { rpm: 2, tpm: 100 } };
    expect(await limiter.admit(principal, 10)).toMatchObject({
      'x-ratelimit-limit-requests': '2',
      'x-ratelimit-remaining-requests': '1',
      'x-ratelimit-reset-requests': '50s',
      'x-ratelimit-limit-tokens': '100',
      'x-ratelimit-remaining-tokens': '90',
    });
    await limiter.admit(principal, 10);
    const err = await limiter.admit(principal, 10).catch((e: ApiError) => e);
    expect(err).toBeInstanceOf(ApiError);
    expect(err).toMatchObject({ status: 429, type: 'requests', code: 'rate_limit_exceeded' });
    expect((err as ApiError).headers['retry-after']).toBe('50');
    now += 50_000; // next window
    await limiter.admit(principal, 10);
    await limiter.settle(principal, 200); // the real count came back much larger
    const tokens = await limiter.admit(principal, 10).catch((e: ApiError) => e);
    expect(tokens).toMatchObject({ status: 429, type: 'tokens' });
    expect(formatDuration(360_000)).toBe('6m0s');
    expect(formatDuration(20)).toBe('20ms');
  });

  it('admits everything for a principal without limits', async () => {
    expect(await new RateLimiter(new MemoryCache()).admit({ projectId: 'p' }, 1e9)).toEqual({});
  });
});

describe('key registry', () => {
  const database = openDatabase({ dataDir: mkdtempSync(join(tmpdir(), 'auth-')) });
  afterAll(() => database.close());

  it('resolves static and managed keys; a revocation made by another process is seen within a second', async () => {
    await migrate(database, 'auth', AUTH_MIGRATIONS);
    const store = new AuthStore(database);
    const shared = new MemoryCache(); // stands for Redis: one counter seen by both "processes"
    const config = { ...loadConfig({}), apiKeys: ['static-key-1'], defaultKeyLimits: { rpm: 5 } };
    let now = 1_000_000;
    const a = new KeyRegistry(config, store, shared, logger, () => now);
    const b = new KeyRegistry(config, store, shared, logger, () => now);
    expect(await a.resolve('static-key-1')).toMatchObject({ projectId: expect.stringMatching(/^proj_[0-9a-f]{24}$/), keyLimits: { rpm: 5 } });

    await store.createProject({ project_id: 'proj_t', name: 't', rpm: 10, tpm: null, created_at: 1 });
    const secret = newSecret();
    await store.createKey({ key_id: 'key_t', project_id: 'proj_t', key_hash: hashKey(secret), name: 'k', redacted_value: redactKey(secret), models: ['m'], rpm: null, tpm: 50, created_at: 1, revoked_at: null });
    expect(await b.resolve(secret)).toEqual({ projectId: 'proj_t', keyId: 'key_t', allowedModels: ['m'], keyLimits: { rpm: 5, tpm: 50 }, projectLimits: { rpm: 10 } });
    expect(await b.resolve('unknown-key')).toBeUndefined();

    await store.revokeKey('proj_t', 'key_t', 2);
    await a.changed();
    expect(await a.resolve(secret)).toBeUndefined(); // at once where it was revoked
    now += 1000;
    expect(await b.resolve(secret)).toBeUndefined(); // within a second elsewhere
  });
});
