import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_SAFE_FETCH_POLICY, UrlRefusedError, addressRule, safeFetch, safeFetchPolicyFromEnv, type Resolver } from './safe-fetch.js';

async function refusal(p: Promise<unknown>): Promise<UrlRefusedError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(UrlRefusedError);
    return err as UrlRefusedError;
  }
  throw new Error('expected a refusal');
}

const resolveTo = (address: string): Resolver => async () => [{ address, family: address.includes(':') ? 6 : 4 }];

describe('addressRule', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.9.9.9', 'loopback'],
    ['::1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456::1', 'private'],
    ['169.254.169.254', 'link_local'],
    ['169.254.0.1', 'link_local'],
    ['fe80::1', 'link_local'],
    ['100.64.0.1', 'carrier_grade_nat'],
    ['100.127.255.254', 'carrier_grade_nat'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['ff02::1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'link_local'],
    ['::ffff:10.0.0.1', 'private'],
    ['240.0.0.1', 'reserved'],
  ])('%s is refused as %s', (address, rule) => {
    expect(addressRule(address)).toBe(rule);
  });

  it.each(['8.8.8.8', '1.1.1.1', '172.32.0.1', '100.128.0.1', '2606:4700:4700::1111', '::ffff:8.8.8.8'])('%s is public', (address) => {
    expect(addressRule(address)).toBeNull();
  });
});

describe('safeFetch refusals', () => {
  const opts = { param: 'input[0].content[0].file_url' };

  it('refuses other schemes', async () => {
    for (const url of ['file:///etc/passwd', 'ftp://example.com/x', 'gopher://x', 'data:text/plain,hi']) {
      const err = await refusal(safeFetch(url, opts));
      expect(err.rule).toBe('scheme');
      expect(err.param).toBe(opts.param);
      expect(err.status).toBe(400);
    }
  });

  it('refuses loopback, private and metadata IP literals, also in odd spellings', async () => {
    const cases: [string, string][] = [
      ['http://127.0.0.1/', 'loopback'],
      ['http://2130706433/', 'loopback'],
      ['http://0x7f.1/', 'loopback'],
      ['http://[::1]:8080/', 'loopback'],
      ['http://[::ffff:127.0.0.1]/', 'loopback'],
      ['http://10.0.0.5/', 'private'],
      ['http://192.168.0.10/', 'private'],
      ['http://169.254.169.254/latest/meta-data/', 'link_local'],
      ['http://100.64.1.1/', 'carrier_grade_nat'],
      ['http://0.0.0.0/', 'unspecified'],
    ];
    for (const [url, rule] of cases) expect((await refusal(safeFetch(url, opts))).rule, url).toBe(rule);
  });

  it('refuses metadata and internal names before resolving them', async () => {
    let resolved = 0;
    const resolve: Resolver = async () => {
      resolved++;
      return [{ address: '8.8.8.8', family: 4 }];
    };
    for (const url of ['http://metadata.google.internal/computeMetadata/v1/', 'http://metadata/', 'http://foo.internal/', 'http://localhost:3000/', 'http://METADATA.GOOGLE.INTERNAL./']) {
      expect((await refusal(safeFetch(url, { ...opts, resolve }))).rule, url).toBe('blocked_hostname');
    }
    expect(resolved).toBe(0);
  });

  it('checks the resolved address: a public name that resolves to a private address is refused', async () => {
    expect((await refusal(safeFetch('http://evil.example/', { ...opts, resolve: resolveTo('10.0.0.1') }))).rule).toBe('private');
    expect((await refusal(safeFetch('http://evil.example/', { ...opts, resolve: resolveTo('169.254.169.254') }))).rule).toBe('link_local');
    const mixed: Resolver = async () => [
      { address: '8.8.8.8', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    expect((await refusal(safeFetch('http://evil.example/', { ...opts, resolve: mixed }))).rule).toBe('loopback');
  });

  it('refuses names that do not resolve', async () => {
    const none: Resolver = async () => {
      throw new Error('ENOTFOUND');
    };
    expect((await refusal(safeFetch('http://nowhere.example/', { ...opts, resolve: none }))).rule).toBe('dns_failure');
  });

  it('refuses URLs with credentials', async () => {
    expect((await refusal(safeFetch('http://user:pw@example.com/', opts))).rule).toBe('credentials');
  });

  it('names the rule in the message', async () => {
    const err = await refusal(safeFetch('http://127.0.0.1/', opts));
    expect(err.message).toContain('loopback');
  });
});

describe('safeFetch against a local server', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      if (req.url === '/ok') return res.end('hello');
      if (req.url === '/to-loopback') {
        res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` });
        return res.end();
      }
      if (req.url === '/to-metadata') {
        res.writeHead(301, { location: 'http://169.254.169.254/latest/meta-data/' });
        return res.end();
      }
      if (req.url === '/loop') {
        res.writeHead(302, { location: '/loop' });
        return res.end();
      }
      if (req.url === '/big') return res.end(Buffer.alloc(2048, 97));
      if (req.url === '/slow') return setTimeout(() => res.end('late'), 500);
      if (req.url === '/missing') {
        res.writeHead(404);
        return res.end();
      }
      res.end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  // "public.test" stands for a public host: it resolves to the local server, allowed on the first hop only.
  const base = () => ({ param: 'input[0].content[0].image_url', resolve: resolveTo('127.0.0.1'), allowAddress: (_a: string, hop: number) => hop === 0 });

  it('fetches an allowed URL, connecting to the pinned address', async () => {
    const got = await safeFetch(`http://public.test:${port}/ok`, base());
    expect(got.body.toString()).toBe('hello');
    expect(got.status).toBe(200);
  });

  it('refuses a redirect from an allowed host to a loopback one', async () => {
    const err = await refusal(safeFetch(`http://public.test:${port}/to-loopback`, base()));
    expect(err.rule).toBe('loopback');
    expect(err.param).toBe('input[0].content[0].image_url');
  });

  it('refuses a redirect to the metadata address', async () => {
    expect((await refusal(safeFetch(`http://public.test:${port}/to-metadata`, base()))).rule).toBe('link_local');
  });

  it('stops after 5 redirects', async () => {
    const err = await refusal(safeFetch(`http://public.test:${port}/loop`, { ...base(), allowAddress: () => true }));
    expect(err.rule).toBe('too_many_redirects');
  });

  it('caps the size', async () => {
    const err = await refusal(safeFetch(`http://public.test:${port}/big`, { ...base(), policy: { ...DEFAULT_SAFE_FETCH_POLICY, maxBytes: 1024 } }));
    expect(err.rule).toBe('too_large');
  });

  it('times out', async () => {
    const err = await refusal(safeFetch(`http://public.test:${port}/slow`, { ...base(), policy: { ...DEFAULT_SAFE_FETCH_POLICY, timeoutMs: 100 } }));
    expect(err.rule).toBe('timeout');
  });

  it('refuses an error status', async () => {
    expect((await refusal(safeFetch(`http://public.test:${port}/missing`, base()))).rule).toBe('http_status');
  });

  it('allows private addresses when the policy says so (tests, development)', async () => {
    const policy = { ...DEFAULT_SAFE_FETCH_POLICY, allowPrivate: true };
    expect((await safeFetch(`http://127.0.0.1:${port}/ok`, { param: 'p', policy })).body.toString()).toBe('hello');
  });

  it('allows listed ranges only', async () => {
    const policy = { ...DEFAULT_SAFE_FETCH_POLICY, allowList: ['127.0.0.0/8'] };
    expect((await safeFetch(`http://127.0.0.1:${port}/ok`, { param: 'p', policy })).body.toString()).toBe('hello');
    expect((await refusal(safeFetch('http://10.0.0.1/', { param: 'p', policy }))).rule).toBe('private');
  });
});

describe('safeFetchPolicyFromEnv', () => {
  it('reads the settings', () => {
    const p = safeFetchPolicyFromEnv({ URL_FETCH_ALLOW_PRIVATE: '1', URL_FETCH_ALLOW_LIST: 'files.local, 10.0.0.0/8', URL_FETCH_MAX_BYTES: '100' });
    expect(p).toMatchObject({ allowPrivate: true, allowList: ['files.local', '10.0.0.0/8'], maxBytes: 100 });
    expect(safeFetchPolicyFromEnv({}).allowPrivate).toBe(false);
  });
});
