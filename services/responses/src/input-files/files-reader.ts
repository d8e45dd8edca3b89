import {
  DEFAULT_PROJECT_ID,
  InvalidRequestError,
  REQUEST_ID_HEADER,
  ServiceUnreachableError,
  errorFromResponse,
  gatewayRequest,
  idSegment,
  signPrincipal,
  type ClientCallOptions,
  type ClientTransport,
} from '@rgw/shared';

/** A file as the model input needs it: its name and bytes. */
export interface ReadFile {
  id: string;
  filename: string;
  bytes: Buffer;
}

/** What reads a file by id for the caller (this reader, or later the shared files client). */
export interface FileSource {
  read(id: string, opts: ClientCallOptions): Promise<ReadFile>;
}

/** Files larger than this are not put into a model's context. */
export const MAX_INPUT_FILE_BYTES = 32 * 1024 * 1024;

/**
 * Reads files through the public Files API (GET /v1/files/{id} and /content), signed with the
 * caller's principal, so a file of another project is a 404 as for any client.
 * TODO(merge): replace with shared/src/clients/files-client.ts once it lands.
 */
export class FilesApiReader implements FileSource {
  constructor(private readonly transport: ClientTransport, private readonly maxBytes = MAX_INPUT_FILE_BYTES) {}

  async read(id: string, opts: ClientCallOptions): Promise<ReadFile> {
    const meta = await gatewayRequest<{ id: string; filename?: string; bytes?: number }>(this.transport, { ...opts, service: 'files', method: 'GET', path: `/v1/files/${idSegment(id, 'file_id')}` });
    if (typeof meta?.bytes === 'number' && meta.bytes > this.maxBytes) throw tooLarge(this.maxBytes);
    const bytes = await this.content(id, opts);
    return { id, filename: meta?.filename ?? id, bytes };
  }

  /** The raw bytes of /v1/files/{id}/content (gatewayRequest reads JSON only). */
  private async content(id: string, opts: ClientCallOptions): Promise<Buffer> {
    const url = new URL(`v1/files/${idSegment(id, 'file_id')}/content`, withSlash(this.transport.baseUrl()));
    const headers: Record<string, string> = {};
    if (opts.requestId) headers[REQUEST_ID_HEADER] = opts.requestId;
    const secret = this.transport.internalToken?.();
    if (secret) Object.assign(headers, signPrincipal(opts.principal ?? { projectId: DEFAULT_PROJECT_ID }, secret));
    let res: Response;
    try {
      res = await (this.transport.fetch ?? fetch)(url, { headers, signal: opts.signal });
    } catch (err) {
      throw new ServiceUnreachableError(`The files service is unreachable (${(err as Error).message}).`);
    }
    if (!res.ok) throw errorFromResponse(res.status, await res.text(), 'files');
    const body = Buffer.from(await res.arrayBuffer());
    if (body.length > this.maxBytes) throw tooLarge(this.maxBytes);
    return body;
  }
}

function tooLarge(max: number): InvalidRequestError {
  return new InvalidRequestError(`The file is larger than the ${max} bytes a model input may hold.`, null, 'file_too_large');
}

function withSlash(base: string): string {
  return base.endsWith('/') ? base : `${base}/`;
}
