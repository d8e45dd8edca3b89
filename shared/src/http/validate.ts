import type { z } from 'zod';
import { InvalidRequestError } from '../errors.js';

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
  const param = paramPath(path);
  const message =
    issue.code === 'unrecognized_keys'
      ? `Unrecognized request argument supplied: ${issue.keys.join(', ')}`
      : param
        ? `Invalid '${param}': ${issue.message}`
        : issue.message;
  const unknownParam = issue.code === 'unrecognized_keys' ? paramPath([...path, issue.keys[0]!]) : param;
  return throwInvalid(message, unknownParam, issue.code === 'unrecognized_keys' ? 'unknown_parameter' : 'invalid_value');
}

function throwInvalid(message: string, param: string | null, code: string): never {
  throw new InvalidRequestError(message, param, code);
}
