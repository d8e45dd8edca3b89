import type { Request } from 'express';
import { InvalidRequestError } from '../errors.js';

/**
 * The parsed JSON body of a request whose body must be an object. A request without a body is an
 * empty object (the service app's parser leaves `req.body` undefined then); an array, a string or
 * any other JSON value is refused.
 */
export function jsonObjectBody(req: Request): Record<string, unknown> {
  const body: unknown = req.body;
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object.', null, 'invalid_body');
  }
  return body as Record<string, unknown>;
}
