import { Readable } from 'node:stream';
import { extractText } from '@rgw/vector-stores/ingest';
import { FilesClient, InvalidRequestError, type ClientCallOptions, type ClientTransport } from '@rgw/shared';

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
 * Reads files through the public Files API (the shared files client, signed with the caller's
 * principal), so a file of another project is a 404 as for any client; at most `maxBytes` are held.
 */
export class FilesApiReader implements FileSource {
  private readonly client: FilesClient;
  constructor(transport: ClientTransport, private readonly maxBytes = MAX_INPUT_FILE_BYTES) {
    this.client = new FilesClient(transport);
  }

  async read(id: string, opts: ClientCallOptions): Promise<ReadFile> {
    const meta = await this.client.retrieve(id, opts);
    if (typeof meta?.bytes === 'number' && meta.bytes > this.maxBytes) throw tooLarge(this.maxBytes);
    const content = await this.client.content(id, opts);
    const parts: Buffer[] = [];
    let size = 0;
    for await (const part of content.body) {
      size += part.length;
      if (size > this.maxBytes) throw tooLarge(this.maxBytes);
      parts.push(Buffer.from(part));
    }
    return { id, filename: meta?.filename ?? id, bytes: Buffer.concat(parts) };
  }
}

function tooLarge(max: number): InvalidRequestError {
  return new InvalidRequestError(`The file is larger than the ${max} bytes a model input may hold.`, null, 'file_too_large');
}

/** A PDF's text for the model, by the same extractor the vector stores ingest files with. */
export async function pdfText(bytes: Buffer, filename: string): Promise<string> {
  let text = '';
  for await (const segment of extractText({ filename, contentType: 'application/pdf', body: Readable.from([bytes]) })) text += segment;
  return text;
}
