import type { IncomingMessage } from 'node:http';
import { ApiError, InvalidRequestError, PayloadTooLargeError } from '@rgw/shared';

/** Reads a JSON request body up to `limit` bytes; 413 as soon as it is known to be larger. */
export async function readJsonBody(req: IncomingMessage, limit: number): Promise<{ raw: Buffer; json: unknown }> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) throw new PayloadTooLargeError(limit);
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding !== 'identity') {
    throw new ApiError(415, `Content-Encoding '${encoding}' is not supported.`, { code: 'unsupported_encoding' });
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new PayloadTooLargeError(limit);
    chunks.push(chunk as Buffer);
  }
  const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  try {
    return { raw, json: JSON.parse(raw.toString('utf8')) };
  } catch (err) {
    throw new InvalidRequestError(`We could not parse the JSON body of your request. (${(err as Error).message})`, null, 'invalid_json');
  }
}

/** Reads and parses the JSON body; a body that says it is not JSON is refused before it is read. */
export async function readBodyFor(req: IncomingMessage, ctx: { bodyLimitBytes: number }) {
  if (!(req.headers['content-type'] ?? '').includes('json') && req.headers['content-type'] !== undefined) {
    throw new InvalidRequestError(`Expected a JSON body (content-type application/json), got '${req.headers['content-type']}'.`, null, 'invalid_content_type');
  }
  return readJsonBody(req, ctx.bodyLimitBytes);
}
