import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError, InvalidRequestError, PayloadTooLargeError } from '../errors.js';
import { parseJsonBody, truncate } from './safe-json.js';

/**
 * What a route does with the request body:
 * - `json`: read (bounded) and parsed with the safe parser, whatever the content type, as the OpenAI
 *   API does, so a form or text body is a 400 `invalid_json` rather than silently ignored;
 * - `multipart`: the body stream is handed to the handler untouched, never buffered (file uploads);
 * - `none`: the body is not read (Node discards it once the answer is out).
 */
export type BodyPolicy = 'json' | 'multipart' | 'none';

/** How long a connection may keep sending a body nobody reads after its answer went out. */
export const EARLY_ANSWER_LINGER_MS = 2000;

/** A request carries a body when it says so: a Content-Length or a Transfer-Encoding. */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || req.headers['content-length'] !== undefined;
}

/**
 * The checks that need no byte of the body: a declared Content-Length over the limit is a 413 at
 * once (reading first would keep a client that lies about its length waiting for ever), and an
 * encoding other than identity a 415.
 */
export function checkBodyHeaders(req: IncomingMessage, limitBytes: number): void {
  const encoding = req.headers['content-encoding'];
  if (encoding && encoding.toLowerCase() !== 'identity') {
    throw new ApiError(415, `Content-Encoding '${truncate(encoding, 64)}' is not supported.`, { code: 'unsupported_encoding' });
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limitBytes) throw new PayloadTooLargeError(limitBytes);
}

/** Reads the whole body, 413 as soon as more than `limitBytes` arrived (the rest is left unread). */
export function readRequestBody(req: IncomingMessage, limitBytes: number): Promise<Buffer> {
  if (req.readableEnded) return Promise.reject(new Error('the request body was already read'));
  return new Promise<Buffer>((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      req.off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limitBytes) {
        cleanup();
        // Stop pulling; the early-answer guard drains (or cuts) the rest once the 413 is out.
        req.pause();
        reject(new PayloadTooLargeError(limitBytes));
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    // A client that goes away mid-body: nobody is left to answer, but the handler must not hang,
    // and it is the client's doing, not an error of ours.
    const cutOff = () => {
      cleanup();
      reject(new InvalidRequestError('The request body was cut off.', null, 'incomplete_body'));
    };
    const onError = cutOff;
    const onClose = cutOff;
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
    req.on('close', onClose);
  });
}

/** The charset of a content type, if it names one. */
function charsetOf(contentType: string | undefined): string | undefined {
  const match = /;\s*charset\s*=\s*"?([^";\s]+)/i.exec(contentType ?? '');
  return match?.[1]?.toLowerCase();
}

export interface JsonBodyOptions {
  limitBytes: number;
  /** Refuse NUL in strings (bodies that reach a store: Postgres cannot hold it). */
  rejectNul: boolean;
}

/**
 * The JSON body of a `json` route: undefined when the request has none (no Content-Length, no
 * Transfer-Encoding), `{}` for an empty one, else the parsed value (any JSON value; the route
 * decides what shape it needs). Bodies are read as UTF-8; another declared charset is a 415.
 */
export async function readJsonBody(req: IncomingMessage, opts: JsonBodyOptions): Promise<unknown> {
  checkBodyHeaders(req, opts.limitBytes);
  if (!hasBody(req)) return undefined;
  const charset = charsetOf(req.headers['content-type']);
  if (charset && charset !== 'utf-8' && charset !== 'utf8') {
    throw new ApiError(415, `Unsupported charset '${charset}': request bodies must be UTF-8.`, { code: 'unsupported_encoding' });
  }
  const raw = await readRequestBody(req, opts.limitBytes);
  if (raw.length === 0) return {};
  return parseJsonBody(raw, { rejectNul: opts.rejectNul });
}

/**
 * The checks of a `multipart` route before its handler takes the stream: a multipart/form-data
 * content type with a boundary, and the header checks of every body. Nothing is read.
 */
export function checkMultipart(req: IncomingMessage, limitBytes: number): void {
  checkBodyHeaders(req, limitBytes);
  const type = req.headers['content-type'] ?? '';
  if (!/^multipart\/form-data\s*;.*boundary=/i.test(type)) {
    throw new InvalidRequestError(`Expected a multipart/form-data body with a boundary, got content type '${type.slice(0, 100)}'.`, null, 'invalid_content_type');
  }
}

/**
 * Once an answer is out while the client is still sending its body (a 413, a 400 for a bad id, a
 * route that reads no body), the rest is read and dropped for a short while, so the client receives
 * the answer rather than a reset connection; a client still sending after that (or lying about its
 * Content-Length) has its connection closed.
 */
export function lingerAfterEarlyAnswer(req: IncomingMessage, res: ServerResponse, lingerMs = EARLY_ANSWER_LINGER_MS): void {
  res.once('finish', () => {
    if (req.complete || req.destroyed) return;
    req.resume();
    const timer = setTimeout(() => req.socket?.destroy(), lingerMs);
    timer.unref();
    req.once('end', () => clearTimeout(timer));
    req.once('close', () => clearTimeout(timer));
  });
}
