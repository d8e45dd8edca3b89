import type { IncomingMessage, ServerResponse } from 'node:http';
import { randomFillSync } from 'node:crypto';

export const REQUEST_ID_HEADER = 'x-request-id';

/** Takes the caller's x-request-id when it is sane, else mints one; echoes it on the response. */
export function assignRequestId(req: IncomingMessage, res: ServerResponse): string {
  const given = req.headers[REQUEST_ID_HEADER];
  const id = typeof given === 'string' && /^[\w.:-]{1,200}$/.test(given) ? given : newRequestId();
  // Stored on the request so that in-process mounts and proxies reuse it instead of minting another.
  req.headers[REQUEST_ID_HEADER] = id;
  res.setHeader(REQUEST_ID_HEADER, id);
  return id;
}

/** A fresh `req_` id, for answers that have no request object to take one from. */
export function newRequestId(): string {
  return `req_${randomHex16()}`;
}

// Random bytes drawn from a pool refilled 4 KiB at a time: a CSPRNG call per request showed up as
// ~25 µs on the inference hot path (bench/).
const pool = Buffer.alloc(4096);
let offset = pool.length;

function randomHex16(): string {
  if (offset + 16 > pool.length) {
    randomFillSync(pool);
    offset = 0;
  }
  const hex = pool.toString('hex', offset, offset + 16);
  offset += 16;
  return hex;
}
