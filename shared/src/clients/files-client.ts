import { Readable } from 'node:stream';
import { ServiceUnreachableError } from '../errors.js';
import { REQUEST_ID_HEADER } from '../http/request-id.js';
import { idSegment } from '../http/safe-id.js';
import { signPrincipal } from '../auth/principal-headers.js';
import { DEFAULT_PROJECT_ID } from '../request-context.js';
import { errorFromResponse, gatewayRequest, type ClientCallOptions, type ClientTransport } from './gateway-request.js';

/** A file as GET /v1/files/{id} returns it (only what callers use is relied on). */
export interface FileObject {
  id: string;
  object: 'file';
  bytes: number;
  created_at: number;
  filename: string;
  purpose: string;
  [key: string]: unknown;
}

/** A file's bytes as they arrive, with the content type the Files API sent. */
export interface FileContent {
  contentType?: string;
  body: AsyncIterable<Uint8Array>;
}

/**
 * The Files API as other services use it (the ingest worker): over public HTTP through the gateway,
 * signed as the caller's principal, so a file is only ever read by its own project. Errors come back
 * as the ApiError the files service threw (a 404 for an unknown or foreign file).
 */
export class FilesClient {
  constructor(private readonly transport: ClientTransport) {}

  async retrieve(id: string, opts: ClientCallOptions = {}): Promise<FileObject> {
    return gatewayRequest(this.transport, { ...opts, service: 'files', method: 'GET', path: `/v1/files/${idSegment(id, 'file_id')}` });
  }

  /** Streams the file's bytes: memory stays bounded whatever the file's size. */
  async content(id: string, opts: ClientCallOptions = {}): Promise<FileContent> {
    const url = new URL(`v1/files/${idSegment(id, 'file_id')}/content`, withSlash(this.transport.baseUrl()));
    const headers: Record<string, string> = {};
    if (opts.requestId) headers[REQUEST_ID_HEADER] = opts.requestId;
    const secret = this.transport.internalToken?.();
    if (secret) Object.assign(headers, signPrincipal(opts.principal ?? { projectId: DEFAULT_PROJECT_ID }, secret));
    let res: Response;
    try {
      res = await (this.transport.fetch ?? fetch)(url, { method: 'GET', headers, signal: opts.signal });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new ServiceUnreachableError(`The files service is unreachable (${(err as Error).message}).`);
    }
    if (!res.ok) throw errorFromResponse(res.status, await res.text(), 'files');
    const body = res.body ? Readable.fromWeb(res.body as import('node:stream/web').ReadableStream<Uint8Array>) : Readable.from([]);
    return { contentType: res.headers.get('content-type') ?? undefined, body };
  }
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}
