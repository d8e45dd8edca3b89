import type { IncomingHttpHeaders } from 'node:http';

/** Milliseconds since the epoch; injectable so that expiry can be tested without waiting an hour. */
export type Clock = () => number;

export const systemClock: Clock = () => Date.now();

/**
 * An internal header moving the clock that expiry is judged by forward, for this one request (the
 * integration suite's "an hour later"). It is safe to honour: like every `x-rgw-` header the gateway
 * strips it from any caller that is not one of our own services signed with INTERNAL_TOKEN, and our
 * services may act for any project anyway. It only ever hides files and uploads sooner; it never
 * changes what is stored (created_at stays the real time).
 */
export const CLOCK_OFFSET_HEADER = 'x-rgw-clock-offset-ms';
const MAX_OFFSET_MS = 10 * 365 * 24 * 3600 * 1000;

/** Unix seconds at which expiry is judged for a request. */
export function expiryNow(clock: Clock, headers?: IncomingHttpHeaders): number {
  const raw = headers?.[CLOCK_OFFSET_HEADER];
  const offset = typeof raw === 'string' && /^\d{1,15}$/.test(raw) ? Math.min(Number(raw), MAX_OFFSET_MS) : 0;
  return Math.floor((clock() + offset) / 1000);
}

/** Unix seconds, now. */
export function nowSecondsOf(clock: Clock): number {
  return Math.floor(clock() / 1000);
}
