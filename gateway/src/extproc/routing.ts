/**
 * Which requests ExtProc mode answers itself and which it sends on through Envoy. Answering means
 * buffering the whole exchange in two gRPC messages, which is right for ordinary API calls but wrong
 * for a stream (its events would arrive as one body at the end) and for an upload (Envoy would have
 * to hold the file in memory, and refuses past its buffer limit). Those continue to the platform's
 * HTTP listener through Envoy, routed there by a header we set.
 */

/** Set by the processor; Envoy's route table sends requests carrying it to the platform's HTTP listener. */
export const PASSTHROUGH_HEADER = 'x-rgw-extproc';
export const PASSTHROUGH_VALUE = 'passthrough';

/** POST endpoints whose `stream: true` body asks for server-sent events. */
const STREAMABLE = new Set(['/v1/responses', '/v1/chat/completions']);
/** Inference endpoints that may continue to Envoy's own upstream (body routing). */
export const BODY_ROUTED = new Set(['/v1/chat/completions', '/v1/embeddings']);

export interface RequestHead {
  method: string;
  path: string;
  /** The path without its query. */
  pathname: string;
  query: URLSearchParams;
  headers: Record<string, string | string[]>;
}

export function splitPath(rawPath: string): { pathname: string; query: URLSearchParams } {
  const q = rawPath.indexOf('?');
  return q === -1 ? { pathname: rawPath, query: new URLSearchParams() } : { pathname: rawPath.slice(0, q), query: new URLSearchParams(rawPath.slice(q + 1)) };
}

/**
 * Decided from the headers alone: a resumed response stream, a multipart upload, or a body declared
 * larger than Envoy buffers. Returns why, or undefined to carry on.
 */
export function passThroughAtHeaders(head: RequestHead, bufferLimitBytes: number): string | undefined {
  if (head.method === 'GET' && /^\/v1\/responses\/[^/]+$/.test(head.pathname) && head.query.get('stream') === 'true') return 'response stream';
  const type = String(head.headers['content-type'] ?? '').toLowerCase();
  if (type.startsWith('multipart/')) return 'multipart upload';
  const length = Number(head.headers['content-length']);
  if (Number.isFinite(length) && length > bufferLimitBytes) return `body of ${length} bytes exceeds EXTPROC_BUFFER_LIMIT (${bufferLimitBytes})`;
  return undefined;
}

/** The buffered body as JSON when it is a JSON object; anything else is for the handler to judge. */
export function jsonBody(head: RequestHead, body: Buffer): Record<string, unknown> | undefined {
  if (!body.length) return undefined;
  const type = String(head.headers['content-type'] ?? '').toLowerCase();
  if (type && !type.includes('json')) return undefined;
  try {
    const value: unknown = JSON.parse(body.toString('utf8'));
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** Decided from the body: a request for server-sent events. */
export function wantsStream(head: RequestHead, json: Record<string, unknown> | undefined): boolean {
  return head.method === 'POST' && STREAMABLE.has(head.pathname) && json?.stream === true;
}
