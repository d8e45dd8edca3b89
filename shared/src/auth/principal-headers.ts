import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import type { Principal } from '../request-context.js';

/**
 * How the gateway tells a service who is calling, and how services prove to each other (and to the
 * gateway) that a call is internal: the principal travels in headers signed with the internal token
 * (INTERNAL_TOKEN; a random one per process when embedded). A client can never set these: the
 * gateway strips every `x-rgw-` header it receives from outside before it authenticates.
 */
export const INTERNAL_HEADER_PREFIX = 'x-rgw-';
export const PRINCIPAL_HEADER = 'x-rgw-principal';
export const SIGNATURE_HEADER = 'x-rgw-signature';
export const SIGNED_AT_HEADER = 'x-rgw-signed-at';

/** How far a signature's time may be from ours (clock skew between hosts, slow queues). */
const MAX_SKEW_MS = 5 * 60_000;

/** Signatures verified lately (oldest out first), with what they were verified against. */
const VERIFIED_KEPT = 1000;
const verified = new Map<string, { secret: string; at: string; encoded: string; principal: Principal }>();

/** Headers that carry `principal`, signed with `secret`. */
export function signPrincipal(principal: Principal, secret: string, now = Date.now()): Record<string, string> {
  const encoded = Buffer.from(JSON.stringify(principal)).toString('base64url');
  const at = String(now);
  return { [PRINCIPAL_HEADER]: encoded, [SIGNED_AT_HEADER]: at, [SIGNATURE_HEADER]: mac(secret, encoded, at) };
}

/**
 * The principal of a request signed by `signPrincipal` with the same secret; undefined when the
 * headers are absent, malformed, stale or signed with another secret.
 */
export function verifyPrincipal(headers: IncomingHttpHeaders, secret: string, now = Date.now()): Principal | undefined {
  const encoded = one(headers[PRINCIPAL_HEADER]);
  const at = one(headers[SIGNED_AT_HEADER]);
  const signature = one(headers[SIGNATURE_HEADER]);
  if (!encoded || !at || !signature) return undefined;
  if (!(Math.abs(now - Number(at)) <= MAX_SKEW_MS)) return undefined;
  // The gateway reuses one signature per principal for a few seconds: the same headers verified once
  // need no second HMAC (the skew check above still runs every time).
  const seen = verified.get(signature);
  if (seen && seen.secret === secret && seen.at === at && seen.encoded === encoded) return seen.principal;
  const expected = Buffer.from(mac(secret, encoded, at));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
  try {
    const principal = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as Principal;
    if (typeof principal?.projectId !== 'string') return undefined;
    if (verified.size >= VERIFIED_KEPT) verified.delete(verified.keys().next().value!);
    verified.set(signature, { secret, at, encoded, principal });
    return principal;
  } catch {
    return undefined;
  }
}

/** Removes every internal header a client sent (they are only ever set by us). */
export function stripInternalHeaders(headers: IncomingHttpHeaders): void {
  for (const name of Object.keys(headers)) if (name.startsWith(INTERNAL_HEADER_PREFIX)) delete headers[name];
}

function mac(secret: string, encoded: string, at: string): string {
  return createHmac('sha256', secret).update(`${at}.${encoded}`).digest('base64url');
}

function one(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
