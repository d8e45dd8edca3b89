import { InvalidRequestError } from '../errors.js';
import { paramPath } from './validate.js';

/** Deepest nesting of arrays and objects a request body may have (OpenAI's own bodies need a dozen). */
export const MAX_JSON_DEPTH = 64;

export interface SafeJsonOptions {
  /** Default MAX_JSON_DEPTH. */
  maxDepth?: number;
  /**
   * Refuse strings that contain U+0000. Postgres text cannot hold it and SQLite can, so bodies that
   * reach a store are refused in both modes alike; pure pass-through bodies may allow it.
   */
  rejectNul?: boolean;
}

/**
 * The one JSON parser for request bodies. A single pass over the raw bytes checks the nesting depth
 * (and NUL escapes) before JSON.parse, so a body nested thousands deep is a 400 here rather than a
 * stack overflow later in JSON.stringify, structuredClone or a store.
 */
export function parseJsonBody(raw: Buffer | string, opts: SafeJsonOptions = {}): unknown {
  const bytes = typeof raw === 'string' ? Buffer.from(raw, 'utf8') : raw;
  const sawNul = checkJsonShape(bytes, opts.maxDepth ?? MAX_JSON_DEPTH);
  let value: unknown;
  try {
    value = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new InvalidRequestError(`We could not parse the JSON body of your request. (${truncate((err as Error).message, 200)})`, null, 'invalid_json');
  }
  if (sawNul && opts.rejectNul) {
    const path = nulPath(value, []);
    if (path) throw nulRefused(paramPath(path));
  }
  return value;
}

/** Where the first string (key or value) holding a NUL is, as a param path; undefined if none. */
function nulPath(value: unknown, path: (string | number)[]): (string | number)[] | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = nulPath(value[i], [...path, i]);
      if (found) return found;
    }
    return undefined;
  }
  if (value && typeof value === 'object') {
    for (const [key, child] of Object.entries(value)) {
      if (key.includes('\u0000')) return [...path, key];
      const found = nulPath(child, [...path, key]);
      if (found) return found;
    }
  }
  return undefined;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Throws a 400 for nesting deeper than `maxDepth`; tells whether a string holds a `\u0000` escape. */
export function checkJsonShape(bytes: Buffer, maxDepth: number): boolean {
  let depth = 0;
  let sawNul = false;
  let inString = false;
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (inString) {
      if (b === BACKSLASH) {
        // `\u0000` is the only way a NUL can appear in valid JSON text.
        if (bytes[i + 1] === 0x75 && isNulEscape(bytes, i + 2)) sawNul = true;
        i++;
      } else if (b === QUOTE) inString = false;
      continue;
    }
    if (b === QUOTE) inString = true;
    else if (b === OPEN_BRACE || b === OPEN_BRACKET) {
      if (++depth > maxDepth) {
        throw new InvalidRequestError(`The JSON body is nested deeper than the limit of ${maxDepth} levels.`, null, 'json_too_deep');
      }
    } else if (b === CLOSE_BRACE || b === CLOSE_BRACKET) depth--;
  }
  return sawNul;
}

function isNulEscape(bytes: Buffer, at: number): boolean {
  return bytes[at] === 0x30 && bytes[at + 1] === 0x30 && bytes[at + 2] === 0x30 && bytes[at + 3] === 0x30;
}

function nulRefused(param: string | null): InvalidRequestError {
  const where = param ? `Invalid '${truncate(param, 100)}': strings` : 'Strings in the request';
  return new InvalidRequestError(`${where} may not contain the NUL character (\\u0000).`, param, 'invalid_value');
}

/** Refuses a query or path value that holds a NUL character (a `%00` in the URL). */
export function rejectNulText(value: string, param: string): void {
  if (value.includes('\u0000')) {
    throw new InvalidRequestError(`Invalid '${param}': it may not contain the NUL character.`, param, 'invalid_value');
  }
}

/** Cuts a client-supplied string for an error message, so errors never echo unbounded input. */
export function truncate(text: string, max = 256): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}
