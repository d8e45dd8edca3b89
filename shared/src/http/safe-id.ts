import { InvalidRequestError } from '../errors.js';
import { truncate } from './safe-json.js';

// Every id the platform mints is `<prefix>_<hex>` (ids.ts). Anything outside this alphabet (`.`, `/`,
// `%`, NUL, spaces) can never name a stored object, and inside a URL path it could step out of the
// route (`..`) or into another: such an id is refused before it is put into any URL.
const SAFE_ID = /^[A-Za-z0-9_-]{1,128}$/;

/** Whether `id` can be an id of ours (letters, digits, `_` and `-`, at most 128 characters). */
export function isSafeId(id: unknown): id is string {
  return typeof id === 'string' && SAFE_ID.test(id);
}

/** A 400 naming `param` unless `id` can be an id of ours. */
export function assertSafeId(id: unknown, param: string): asserts id is string {
  if (isSafeId(id)) return;
  const shown = typeof id === 'string' ? `'${truncate(id, 64)}'` : typeof id;
  throw new InvalidRequestError(`Invalid '${param}': ${shown} is not a valid id (ids use only letters, digits, '_' and '-').`, param, 'invalid_value');
}

/** `id` checked by assertSafeId, ready to be one segment of a URL path. */
export function idSegment(id: string, param: string): string {
  assertSafeId(id, param);
  return id;
}
