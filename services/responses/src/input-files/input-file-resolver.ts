import { ApiError, InvalidRequestError, NotFoundError, UrlRefusedError, checkUrl, parseUrl, safeFetch, safeFetchPolicyFromEnv, type FetchedUrl, type SafeFetchPolicy } from '@rgw/shared';
import type { Caller } from '../request/caller.js';
import type { ResponseItem } from '../wire/response-types.js';
import { classifyFile, fileText, imageDataUrl } from './file-content.js';
import type { FileSource, ReadFile } from './files-reader.js';

export interface InputFileDeps {
  files: FileSource;
  /** Fetches a user's URL behind the SSRF guards (safeFetch by default). */
  fetchUrl?: (url: string, param: string, signal?: AbortSignal) => Promise<FetchedUrl>;
  policy?: SafeFetchPolicy;
  /** PDF text extraction (the vector stores' ingest extractor); without it PDFs are a 400. */
  extractPdf?: (bytes: Buffer, filename: string) => Promise<string>;
  /**
   * `fetch`: http(s) image URLs are fetched here (behind the guards, redirects included) and sent
   * as data URLs. `forward` (default, env INPUT_IMAGE_URLS): they go to the model server as given,
   * once their host passed the address rules (resolved here when it can be; a redirect the model
   * server follows is not seen).
   */
  imageUrls?: 'fetch' | 'forward';
}

type Part = Record<string, unknown>;

/**
 * Turns file references in message parts into what a chat model reads, without changing the stored
 * items: `input_file` by file_id or http(s) file_url → the file's text; `input_image` by file_id or
 * http(s) image_url → a data URL. Files are read through the Files API as the caller, URLs through
 * safeFetch; any refusal is a 4xx naming the part (`input[i].content[j].file_id`, ...).
 */
export class InputFileResolver {
  private readonly fetchUrl: NonNullable<InputFileDeps['fetchUrl']>;
  private readonly policy: SafeFetchPolicy;
  private readonly imageUrls: 'fetch' | 'forward';

  constructor(private readonly deps: InputFileDeps) {
    const policy = (this.policy = deps.policy ?? safeFetchPolicyFromEnv());
    this.fetchUrl = deps.fetchUrl ?? ((url, param, signal) => safeFetch(url, { param, policy, signal }));
    this.imageUrls = deps.imageUrls ?? (process.env.INPUT_IMAGE_URLS === 'fetch' ? 'fetch' : 'forward');
  }

  /**
   * `paramOf(i)` names item i for errors (`input[3]`), or null for items of earlier turns. Items
   * without file references come back as the same objects.
   */
  async resolve(items: readonly ResponseItem[], caller: Caller, paramOf: (index: number) => string | null): Promise<ResponseItem[]> {
    return Promise.all(
      items.map(async (item, i) => {
        if (item.type !== 'message' || !Array.isArray(item.content) || !(item.content as Part[]).some(needsResolving)) return item;
        const base = paramOf(i);
        const content = await Promise.all((item.content as Part[]).map((part, j) => (needsResolving(part) ? this.part(part, base === null ? null : `${base}.content[${j}]`, caller) : part)));
        return { ...item, content };
      }),
    );
  }

  private async part(part: Part, at: string | null, caller: Caller): Promise<Part> {
    const name = (field: string) => (at === null ? 'input' : `${at}.${field}`);
    if (part.type === 'input_file') {
      if (typeof part.file_id === 'string' && part.file_id) {
        const file = await this.read(part.file_id, name('file_id'), caller);
        return this.textPart(file.bytes, typeof part.filename === 'string' ? part.filename : file.filename, null, name('file_id'));
      }
      const url = String(part.file_url);
      const got = await this.fetchUrl(url, name('file_url'));
      return this.textPart(got.body, typeof part.filename === 'string' ? part.filename : fileNameOf(got.url), got.contentType, name('file_url'));
    }
    // input_image
    if (typeof part.file_id === 'string' && part.file_id && !part.image_url) {
      const file = await this.read(part.file_id, name('file_id'), caller);
      return { ...part, image_url: imageDataUrl(file.bytes, file.filename, null, name('file_id')), file_id: null };
    }
    if (this.imageUrls === 'forward') {
      await this.checkForwarded(String(part.image_url), name('image_url'));
      return part;
    }
    const got = await this.fetchUrl(String(part.image_url), name('image_url'));
    return { ...part, image_url: imageDataUrl(got.body, fileNameOf(got.url), got.contentType, name('image_url')) };
  }

  /** The address rules for a URL the model server will fetch; a name we cannot resolve is left to it. */
  private async checkForwarded(raw: string, param: string): Promise<void> {
    const url = parseUrl(raw, param);
    try {
      await checkUrl(url, { param, policy: this.policy });
    } catch (err) {
      if (err instanceof UrlRefusedError && err.rule === 'dns_failure') return;
      throw err;
    }
  }

  private async textPart(bytes: Buffer, filename: string, declaredType: string | null, param: string): Promise<Part> {
    let text: string;
    if (classifyFile(bytes, filename, declaredType).kind === 'pdf' && this.deps.extractPdf) {
      try {
        text = await this.deps.extractPdf(bytes, filename);
      } catch (err) {
        // The extractor's refusals (a corrupt or oversized PDF) are the caller's file, not our fault.
        const code = (err as { code?: unknown }).code;
        if (code === 'invalid_file' || code === 'unsupported_file') throw new InvalidRequestError((err as Error).message, param, code);
        throw err;
      }
    } else text = fileText(bytes, filename, declaredType, param);
    return { type: 'input_text', text: `[file: ${filename}]\n${text}` };
  }

  private async read(id: string, param: string, caller: Caller): Promise<ReadFile> {
    try {
      return await this.deps.files.read(id, caller);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) throw new NotFoundError(`File with id '${id}' not found.`, param, 'file_not_found');
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) throw new InvalidRequestError(err.message, param, err.code ?? 'invalid_file');
      throw err;
    }
  }
}

/** Parts that name a file by id or a http(s) URL (data URLs and inline file_data are already content). */
function needsResolving(part: Part): boolean {
  if (part.type === 'input_file') return (typeof part.file_id === 'string' && !!part.file_id && !part.file_data) || (!part.file_id && !part.file_data && isUrl(part.file_url));
  if (part.type === 'input_image') return isUrl(part.image_url) || (!part.image_url && typeof part.file_id === 'string' && !!part.file_id);
  return false;
}

/** A URL someone would have to fetch: anything but inline data (other schemes are refused when resolved). */
function isUrl(url: unknown): boolean {
  return typeof url === 'string' && url.length > 0 && !/^data:/i.test(url);
}

function fileNameOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').pop() || 'file');
  } catch {
    return 'file';
  }
}
