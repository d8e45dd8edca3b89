import type { IncomingMessage } from 'node:http';
import { InvalidRequestError, checkBodyHeaders, parseJsonBody, readRequestBody, truncate } from '@rgw/shared';

/**
 * Reads a JSON request body up to `limit` bytes with the services' body readers (a 413 before the
 * first byte when the declared length is over the limit, else as soon as the bytes received pass it)
 * and parses it with the shared depth cap. The raw bytes are kept: they are relayed as they came.
 * NUL characters are allowed: chat and embeddings bodies go to the model server and are never stored.
 */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<{ raw: Buffer; json: unknown }> {
  checkBodyHeaders(req, limit);
  const raw = await readRequestBody(req, limit);
  return { raw, json: parseJsonBody(raw) };
}

/** Reads and parses the JSON body; a body that says it is not JSON is refused before it is read. */
export async function readBodyFor(req: IncomingMessage, ctx: { bodyLimitBytes: number }) {
  const type = req.headers['content-type'];
  if (type !== undefined && !type.includes('json')) {
    throw new InvalidRequestError(`Expected a JSON body (content-type application/json), got '${truncate(type, 100)}'.`, null, 'invalid_content_type');
  }
  return readJsonBody(req, ctx.bodyLimitBytes);
}
