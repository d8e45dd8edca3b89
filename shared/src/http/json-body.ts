import { InvalidRequestError } from '../errors.js';

/**
 * A parsed JSON body that must be an object. No body at all is an empty object (a `json` route
 * reads a body-less request as undefined); an array, a string or any other JSON value is refused.
 * (Nothing sets `req.body`: routes receive their body from their descriptor, register-routes.ts.)
 */
export function jsonObject(body: unknown): Record<string, unknown> {
  if (body === undefined) return {};
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new InvalidRequestError('The request body must be a JSON object.', null, 'invalid_body');
  }
  return body as Record<string, unknown>;
}
