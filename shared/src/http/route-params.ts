import { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import { ID_PREFIX, type IdKind } from '../ids.js';
import { rejectNulText } from './safe-json.js';

// Schemas for what arrives in the URL: path ids, list cursors, free text. Every value from a path or
// a query string is bounded before a store sees it (Postgres refuses NUL with a 500, SQLite keeps it).

/** Longest id or cursor accepted in a URL; our minted ids are ~53 characters. */
export const MAX_ID_LENGTH = 256;
/** Longest value of any other query parameter. */
export const MAX_QUERY_VALUE_LENGTH = 4096;

/** Characters an id or cursor may hold: ours are `<prefix>_<hex>`, clients' item ids `[\w-]`. */
const SAFE_ID = /^[A-Za-z0-9_.:-]+$/;
const CONTROL = /[\u0000-\u001f\u007f]/;

/**
 * An id in a path or cursor: 1..MAX_ID_LENGTH characters of the safe set and, with `kind`, the id
 * prefix of that kind (`conv_...`): a malformed id is a 400 naming the param, a well-formed unknown
 * one is the handler's 404.
 */
export function idSchema(kind?: IdKind, maxLength = MAX_ID_LENGTH) {
  const prefix = kind ? `${ID_PREFIX[kind]}_` : '';
  return z
    .string()
    .min(1, 'Expected a non-empty ID.')
    .max(maxLength, `Expected an ID of at most ${maxLength} characters.`)
    .regex(SAFE_ID, 'Expected an ID made of letters, digits, "_", "-", "." or ":".')
    .refine((v) => v.startsWith(prefix) && v.length > prefix.length, `Expected an ID that begins with '${prefix}'.`);
}

/** A list cursor (`after`, `before`): an id of the listed kind, checked as ids are. */
export const cursorSchema = idSchema();

/** Free text from a URL (model names, ...): no control characters, bounded. */
export function urlTextSchema(maxLength = MAX_ID_LENGTH) {
  return z
    .string()
    .min(1)
    .max(maxLength, `Expected at most ${maxLength} characters.`)
    .refine((v) => !CONTROL.test(v), 'Control characters are not allowed.');
}

/**
 * The generic bound on every query value, before the route's own schema: no NUL (named first, as
 * the most likely attack), no value longer than MAX_QUERY_VALUE_LENGTH. The extended parser may
 * nest (`include[]=a`, `a[b]=c`): every string inside is checked, named by its key.
 */
export function checkUrlValues(values: unknown, param: string | null, maxLength: number): void {
  if (typeof values === 'string') {
    const name = param ?? 'query';
    rejectNulText(values, name);
    if (values.length > maxLength) {
      throw new InvalidRequestError(`Invalid '${name}': expected at most ${maxLength} characters, got ${values.length}.`, name, 'invalid_value');
    }
    return;
  }
  if (Array.isArray(values)) {
    for (const v of values) checkUrlValues(v, param, maxLength);
    return;
  }
  if (values && typeof values === 'object') {
    for (const [key, v] of Object.entries(values)) {
      const name = param ? `${param}.${key}` : key;
      rejectNulText(key, name);
      checkUrlValues(v, name, maxLength);
    }
  }
}

/** A query value given once (`include=a`) or repeated (`include[]=a&include[]=b`), as a list of `item`. */
export function oneOrMany<S extends z.ZodType<unknown, string>>(item: S) {
  return z
    .union([z.string(), z.array(z.string())])
    .transform((v) => (Array.isArray(v) ? v : [v]))
    .pipe(z.array(item));
}
