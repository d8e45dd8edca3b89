import type { z } from 'zod';
import { InvalidRequestError } from '../errors.js';
import { truncate } from './safe-json.js';

/** Dotted/bracketed param path as OpenAI writes it: `input[0].content`. */
export function paramPath(path: readonly PropertyKey[]): string | null {
  if (path.length === 0) return null;
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out;
}

/** Parses `data` with `schema`, or throws a 400 naming the first offending param. */
export function validate<S extends z.ZodType>(schema: S, data: unknown, root?: string): z.output<S> {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = root ? [root, ...issue.path] : issue.path;
  // Keys come from the client: a 10 MB key must not come back whole as `param`.
  const param = boundedParam(paramPath(path));
  const message =
    issue.code === 'unrecognized_keys'
      ? `Unrecognized request argument supplied: ${truncate(issue.keys.join(', '), 256)}`
      : param
        ? `Invalid '${param}': ${issue.message}`
        : issue.message;
  const unknownParam = issue.code === 'unrecognized_keys' ? boundedParam(paramPath([...path, issue.keys[0]!])) : param;
  return throwInvalid(message, unknownParam, issue.code === 'unrecognized_keys' ? 'unknown_parameter' : 'invalid_value');
}

function boundedParam(param: string | null): string | null {
  return param === null ? null : truncate(param, 256);
}

function throwInvalid(message: string, param: string | null, code: string): never {
  throw new InvalidRequestError(message, param, code);
}
