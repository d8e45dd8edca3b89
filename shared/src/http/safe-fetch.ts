import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import ipaddr from 'ipaddr.js';
import { InvalidRequestError } from '../errors.js';

/**
 * Fetching URLs that users give us (input_file.file_url, input_image.image_url) without letting them
 * reach what only we can reach: loopback, private networks, link-local (cloud metadata at
 * 169.254.169.254), CGNAT, multicast... The name is resolved here and the connection is made to the
 * address that was checked (a pinned `lookup`), so a DNS answer that changes between check and
 * connect (rebinding) cannot slip through; every redirect is checked the same way.
 */

/** Why a URL was refused: the rule's name travels in the error (and its message). */
export type UrlRule =
  | 'scheme'
  | 'malformed_url'
  | 'credentials'
  | 'blocked_hostname'
  | 'dns_failure'
  | 'loopback'
  | 'private'
  | 'link_local'
  | 'carrier_grade_nat'
  | 'unspecified'
  | 'multicast'
  | 'broadcast'
  | 'reserved'
  | 'too_many_redirects'
  | 'too_large'
  | 'timeout'
  | 'http_status'
  | 'unreachable';

/** A URL we will not fetch (400 naming the param), with the rule that refused it. */
export class UrlRefusedError extends InvalidRequestError {
  constructor(
    readonly rule: UrlRule,
    message: string,
    param: string | null,
  ) {
    super(`${message} (rule: ${rule})`, param, 'invalid_url');
  }
}

export interface SafeFetchPolicy {
  /** Allow every private/loopback/link-local address (tests and development only). */
  allowPrivate: boolean;
  /** Host names, IP addresses or CIDR ranges allowed even though a rule would refuse them. */
  allowList: readonly string[];
  maxBytes: number;
  timeoutMs: number;
  maxRedirects: number;
}

export const DEFAULT_SAFE_FETCH_POLICY: SafeFetchPolicy = { allowPrivate: false, allowList: [], maxBytes: 20 * 1024 * 1024, timeoutMs: 15_000, maxRedirects: 5 };

/** The policy from the environment: URL_FETCH_ALLOW_PRIVATE=1, URL_FETCH_ALLOW_LIST=host,10.0.0.0/8, URL_FETCH_MAX_BYTES, URL_FETCH_TIMEOUT_MS. */
export function safeFetchPolicyFromEnv(env: NodeJS.ProcessEnv = process.env): SafeFetchPolicy {
  const num = (v: string | undefined, fallback: number) => (v && Number.isFinite(Number(v)) && Number(v) > 0 ? Number(v) : fallback);
  return {
    allowPrivate: env.URL_FETCH_ALLOW_PRIVATE === '1' || env.URL_FETCH_ALLOW_PRIVATE === 'true',
    allowList: (env.URL_FETCH_ALLOW_LIST ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    maxBytes: num(env.URL_FETCH_MAX_BYTES, DEFAULT_SAFE_FETCH_POLICY.maxBytes),
    timeoutMs: num(env.URL_FETCH_TIMEOUT_MS, DEFAULT_SAFE_FETCH_POLICY.timeoutMs),
    maxRedirects: DEFAULT_SAFE_FETCH_POLICY.maxRedirects,
  };
}

export interface ResolvedAddress {
  address: string;
  family: 4 | 6;
}
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const systemResolver: Resolver = async (hostname) => (await dnsLookup(hostname, { all: true, verbatim: true })).map((a) => ({ address: a.address, family: a.family === 6 ? 6 : 4 }));

/** Names that point at cloud metadata services (or only exist inside a cloud's network). */
const BLOCKED_NAMES = [/^metadata$/, /^metadata\.google\.internal$/, /^metadata\.goog$/, /\.internal$/, /^instance-data(\.ec2\.internal)?$/, /^localhost$/, /\.localhost$/];

/** ipaddr.js range names → our rule; only `unicast` is fetched. */
const RANGE_RULES: Record<string, UrlRule> = {
  loopback: 'loopback',
  private: 'private',
  uniqueLocal: 'private',
  linkLocal: 'link_local',
  carrierGradeNat: 'carrier_grade_nat',
  unspecified: 'unspecified',
  multicast: 'multicast',
  broadcast: 'broadcast',
};

export interface SafeFetchOptions {
  /** The request param the URL came from, named in a refusal. */
  param: string;
  policy?: SafeFetchPolicy;
  /** Injected in tests; the system resolver otherwise. */
  resolve?: Resolver;
  /** Checked per hop: lets a test allow its local server for the first hop only. */
  allowAddress?: (address: string, hop: number) => boolean;
  signal?: AbortSignal;
}

export interface FetchedUrl {
  url: string;
  status: number;
  contentType: string | null;
  body: Buffer;
}

/** GETs a user-given http(s) URL behind the SSRF rules; any refusal is a UrlRefusedError naming `param`. */
export async function safeFetch(rawUrl: string, opts: SafeFetchOptions): Promise<FetchedUrl> {
  const policy = opts.policy ?? DEFAULT_SAFE_FETCH_POLICY;
  const timeout = AbortSignal.timeout(policy.timeoutMs);
  const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
  let url = parseUrl(rawUrl, opts.param);
  for (let hop = 0; ; hop++) {
    const pinned = await checkUrl(url, { ...opts, policy }, hop);
    const res = await request(url, pinned, policy, signal, opts.param);
    if (res.location !== undefined) {
      if (hop >= policy.maxRedirects) throw new UrlRefusedError('too_many_redirects', `The URL redirected more than ${policy.maxRedirects} times.`, opts.param);
      url = parseUrl(new URL(res.location, url).toString(), opts.param);
      continue;
    }
    if (res.status < 200 || res.status >= 300) throw new UrlRefusedError('http_status', `The URL answered HTTP ${res.status}.`, opts.param);
    return { url: url.toString(), status: res.status, contentType: res.contentType, body: res.body! };
  }
}

/** A user-given URL as we accept it: http(s), no credentials; a 400 naming `param` otherwise. */
export function parseUrl(raw: string, param: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new UrlRefusedError('malformed_url', 'The URL is not valid.', param);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UrlRefusedError('scheme', `Only http and https URLs are fetched, not '${url.protocol.replace(/:$/, '')}'.`, param);
  if (url.username || url.password) throw new UrlRefusedError('credentials', 'URLs with credentials are not fetched.', param);
  return url;
}

/** Checks one hop's host and returns the address to connect to. */
export async function checkUrl(url: URL, opts: SafeFetchOptions & { policy: SafeFetchPolicy }, hop = 0): Promise<ResolvedAddress> {
  const host = url.hostname.replace(/^\[|\]$/g, '').toLowerCase().replace(/\.$/, '');
  const allowedName = opts.policy.allowPrivate || opts.policy.allowList.includes(host);
  if (!allowedName && !ipaddr.isValid(host) && BLOCKED_NAMES.some((re) => re.test(host))) {
    throw new UrlRefusedError('blocked_hostname', `The host '${host}' is not fetched (cloud metadata or internal name).`, opts.param);
  }
  let addresses: ResolvedAddress[];
  if (ipaddr.isValid(host)) {
    addresses = [{ address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 }];
  } else {
    try {
      addresses = await (opts.resolve ?? systemResolver)(host);
    } catch {
      addresses = [];
    }
    if (addresses.length === 0) throw new UrlRefusedError('dns_failure', `The host '${host}' could not be resolved.`, opts.param);
  }
  // Every address must pass: a name that resolves to one public and one private address is refused.
  for (const a of addresses) {
    if (allowedName || opts.allowAddress?.(a.address, hop) || inAllowList(a.address, opts.policy.allowList)) continue;
    const rule = addressRule(a.address);
    if (rule) throw new UrlRefusedError(rule, `The URL's host resolves to a ${rule.replace(/_/g, '-')} address, which is not fetched.`, opts.param);
  }
  return addresses[0]!;
}

/** The rule refusing an address, or null for an ordinary public unicast address. */
export function addressRule(address: string): UrlRule | null {
  let ip: ipaddr.IPv4 | ipaddr.IPv6;
  try {
    ip = ipaddr.process(address); // IPv4-mapped IPv6 (::ffff:127.0.0.1) becomes the IPv4 it maps to
  } catch {
    return 'reserved';
  }
  const range = ip.range();
  if (range === 'unicast') {
    // 0.0.0.0/8 ("this network") is not all caught as `unspecified` by ipaddr.js.
    if (ip.kind() === 'ipv4' && (ip as ipaddr.IPv4).octets[0] === 0) return 'unspecified';
    return null;
  }
  return RANGE_RULES[range] ?? 'reserved';
}

function inAllowList(address: string, list: readonly string[]): boolean {
  if (list.length === 0) return false;
  const ip = ipaddr.process(address);
  return list.some((entry) => {
    try {
      if (entry.includes('/')) {
        const [net, bits] = ipaddr.parseCIDR(entry);
        return net.kind() === ip.kind() && ip.match([net, bits] as never);
      }
      return ipaddr.isValid(entry) && ipaddr.process(entry).toString() === ip.toString();
    } catch {
      return false;
    }
  });
}

interface HopResult {
  status: number;
  location?: string;
  contentType: string | null;
  body?: Buffer;
}

function request(url: URL, pinned: ResolvedAddress, policy: SafeFetchPolicy, signal: AbortSignal, param: string): Promise<HopResult> {
  // The connection goes to the checked address whatever the name resolves to now; TLS still
  // verifies the certificate against the URL's host name.
  const lookup: LookupFunction = (_host, options, cb) => {
    if ((options as { all?: boolean }).all) (cb as (e: null, a: ResolvedAddress[]) => void)(null, [pinned]);
    else cb(null, pinned.address, pinned.family);
  };
  const lib = url.protocol === 'https:' ? https : http;
  return new Promise<HopResult>((resolve, reject) => {
    const fail = (err: unknown) => {
      if (err instanceof UrlRefusedError) return reject(err);
      if (signal.aborted) return reject(new UrlRefusedError('timeout', `The URL did not answer within ${policy.timeoutMs} ms.`, param));
      reject(new UrlRefusedError('unreachable', `The URL could not be fetched (${(err as Error).message}).`, param));
    };
    const req = lib.get(url, { lookup, signal, headers: { accept: '*/*', 'user-agent': 'responses-gateway' } }, (res) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        return resolve({ status, location: res.headers.location, contentType: null });
      }
      const tooLarge = () => new UrlRefusedError('too_large', `The URL's content is larger than ${policy.maxBytes} bytes.`, param);
      if (Number(res.headers['content-length'] ?? 0) > policy.maxBytes) {
        res.destroy();
        return reject(tooLarge());
      }
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > policy.maxBytes) {
          res.destroy();
          req.destroy();
          reject(tooLarge());
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => resolve({ status, contentType: res.headers['content-type'] ?? null, body: Buffer.concat(chunks) }));
      res.on('error', fail);
    });
    req.on('error', fail);
  });
}
