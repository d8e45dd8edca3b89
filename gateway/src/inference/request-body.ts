import type { IncomingMessage } from 'node:http';
import { ApiError, InvalidRequestError, PayloadTooLargeError, parseJsonBody, truncate } from '@rgw/shared';

/**
 * Reads a JSON request body up to `limit` bytes: a 413 before the first byte when the declared length
 * is over the limit, else as soon as the bytes received pass it. Parsed with the shared depth cap.
 * NUL characters are allowed: chat and embeddings bodies are relayed to the model server and never
 * stored, and a prompt may legitimately carry one.
 *
 * Plain listeners rather than `for await`: leaving a for-await loop early destroys the request and
 * with it the socket, so the 413 would never reach the client.
 */
export function readJsonBody(req: IncomingMessage, limit: number): Promise<{ raw: Buffer; json: unknown }> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) return Promise.reject(new PayloadTooLargeError(limit));
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding !== 'identity') {
    return Promise.reject(new ApiError(415, `Content-Encoding '${truncate(encoding, 64)}' is not supported.`, { code: 'unsupported_encoding' }));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = (err: Error) => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('close', onClose);
      // An error listener stays: Node would otherwise turn a late connection reset into a throw.
      reject(err);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) return stop(new PayloadTooLargeError(limit));
      chunks.push(chunk);
    };
    const onEnd = () => {
      req.off('close', onClose);
      const raw = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size);
      try {
        resolve({ raw, json: parseJsonBody(raw) });
      } catch (err) {
        reject(err);
      }
    };
    const onClose = () => stop(Object.assign(new Error('client closed the connection while sending its request'), { code: 'ECONNRESET' }));
    req.on('data', onData);
    req.once('end', onEnd);
    req.once('close', onClose);
    req.on('error', stop);
  });
}

/** Reads and parses the JSON body; a body that says it is not JSON is refused before it is read. */
export async function readBodyFor(req: IncomingMessage, ctx: { bodyLimitBytes: number }) {
  const type = req.headers['content-type'];
  if (type !== undefined && !type.includes('json')) {
    throw new InvalidRequestError(`Expected a JSON body (content-type application/json), got '${truncate(type, 100)}'.`, null, 'invalid_content_type');
  }
  return readJsonBody(req, ctx.bodyLimitBytes);
}
