import { createRequire } from 'node:module';
import type { convert as Convert } from 'html-to-text';
import { type ByteSource, peek, readAll } from './byte-stream.js';
import { extractDocx, extractPdf, extractPptx, zipKind } from './extract-office.js';
import { declaredKind, type FileKind, looksLikeText, sniffKind } from './file-type.js';
import { InvalidFileError, UnsupportedFileError } from './ingest-errors.js';
import { decodeText, encodingOf, lines, slices, textEncodingOf } from './text-decode.js';

// html-to-text (htmlparser2 under it) loads on the first HTML file, not with the service.
const requireCjs = createRequire(import.meta.url);
const convert: typeof Convert = (...args) => (requireCjs('html-to-text') as { convert: typeof Convert }).convert(...args);

export interface ExtractOptions {
  filename: string;
  contentType?: string | null;
  body: ByteSource;
  /** Cap on the formats that must be held whole (PDF, DOCX, PPTX, HTML, JSON). Default 100 MB. */
  maxBufferedBytes?: number;
  /** Cap on HTML and JSON, which are parsed whole into far more memory than their size. Default 32 MB. */
  maxMarkupBytes?: number;
  /** Cap on the total unzipped size of a DOCX or PPTX. Default 512 MB. */
  maxUnzippedBytes?: number;
  /** Cap on one JSONL record. Default 16 MB. */
  maxLineBytes?: number;
}

export const DEFAULT_MAX_BUFFERED_BYTES = 100 * 1024 * 1024;
export const DEFAULT_MAX_MARKUP_BYTES = 32 * 1024 * 1024;
const SNIFF_BYTES = 8192;

/**
 * The text of a file as segments, read by the type its extension, else its content type, else its
 * first bytes say. Text-like formats (plain text, Markdown, code, CSV, JSONL) stream with bounded
 * memory; PDF, DOCX and PPTX are read whole up to `maxBufferedBytes`, HTML and JSON up to `maxMarkupBytes`.
 * Fails with UnsupportedFileError or InvalidFileError (their `code` is the file's `last_error.code`).
 */
export async function* extractText(opts: ExtractOptions): AsyncGenerator<string> {
  const { head, rest, close } = await peek(opts.body, SNIFF_BYTES);
  try {
    yield* extractKind(await resolveKind(opts.filename, opts.contentType, head), head, rest, opts);
  } finally {
    await close(); // refused before reading, failed midway or stopped early: the source is released
  }
}

async function* extractKind(kind: FileKind | 'zip', head: Buffer, rest: AsyncIterable<Buffer>, opts: ExtractOptions): AsyncGenerator<string> {
  const maxBuffered = opts.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES;
  const maxMarkup = Math.min(maxBuffered, opts.maxMarkupBytes ?? DEFAULT_MAX_MARKUP_BYTES);
  const maxUnzipped = opts.maxUnzippedBytes;
  switch (kind) {
    case 'text':
      yield* plainText(head, rest, opts.filename);
      return;
    case 'jsonl':
      yield* jsonLines(head, rest, opts.maxLineBytes ?? 16 * 1024 * 1024);
      return;
    case 'json':
      yield* json(await readAll(rest, maxMarkup, 'JSON'));
      return;
    case 'html':
      yield* html(await readAll(rest, maxMarkup, 'HTML'));
      return;
    case 'pdf':
      yield* extractPdf(await readAll(rest, maxBuffered, 'PDF'));
      return;
    case 'docx':
      yield* extractDocx(await readAll(rest, maxBuffered, 'DOCX'), maxUnzipped);
      return;
    case 'pptx':
      yield* extractPptx(await readAll(rest, maxBuffered, 'PPTX'), maxUnzipped);
      return;
    case 'zip': {
      // A zip without a telling name: only its entries say whether it is a DOCX, a PPTX or neither.
      const whole = await readAll(rest, maxBuffered, 'zip');
      const inner = await zipKind(whole);
      if (inner === 'docx') yield* extractDocx(whole, maxUnzipped);
      else if (inner === 'pptx') yield* extractPptx(whole, maxUnzipped);
      else throw unsupported(opts.filename, opts.contentType);
      return;
    }
  }
}

async function resolveKind(filename: string, contentType: string | null | undefined, head: Buffer): Promise<FileKind | 'zip'> {
  const declared = declaredKind(filename, contentType);
  if (declared === 'unsupported') throw unsupported(filename, contentType);
  if (declared) return declared;
  if (encodingOf(head) !== 'utf-8') return 'text';
  const sniffed = sniffKind(head);
  if (sniffed === 'unsupported') throw unsupported(filename, contentType);
  return sniffed;
}

function unsupported(filename: string, contentType: string | null | undefined): UnsupportedFileError {
  const type = contentType ? ` (content type '${contentType}')` : '';
  return new UnsupportedFileError(
    `The file type of '${filename}'${type} is not supported. Supported: text, Markdown, source code, JSON, JSONL, CSV, HTML, PDF, DOCX and PPTX.`,
  );
}

async function* plainText(head: Buffer, rest: AsyncIterable<Buffer>, filename: string): AsyncGenerator<string> {
  const encoding = textEncodingOf(head);
  if (encoding === 'utf-8' && !looksLikeText(head)) {
    throw new InvalidFileError(`The file '${filename}' is not valid text: it holds binary data or is not encoded as UTF-8.`);
  }
  yield* decodeText(rest, encoding);
}

async function* jsonLines(head: Buffer, rest: AsyncIterable<Buffer>, maxLineBytes: number): AsyncGenerator<string> {
  let n = 0;
  let first = true;
  for await (const line of lines(decodeText(rest, textEncodingOf(head), 'JSONL'), maxLineBytes)) {
    n++;
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new InvalidFileError(`Line ${n} of the JSONL file is not valid JSON: ${(err as Error).message}`);
    }
    yield (first ? '' : '\n\n') + JSON.stringify(value, null, 2);
    first = false;
  }
}

function* json(buf: Buffer): Generator<string> {
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf));
  } catch (err) {
    throw new InvalidFileError(`The file is not valid JSON: ${(err as Error).message}`);
  }
  yield* slices(JSON.stringify(value, null, 2));
}

function* html(buf: Buffer): Generator<string> {
  const source = new TextDecoder('utf-8').decode(buf);
  const text = convert(source, {
    wordwrap: false,
    selectors: [
      // Without dataTable, a table's cells run together into one line of words.
      { selector: 'table', format: 'dataTable', options: { uppercaseHeaderCells: false } },
      // Keep the author's case: headings are shown back as the file's content.
      ...['h1', 'h2', 'h3', 'h4', 'h5', 'h6'].map((selector) => ({ selector, options: { uppercase: false } })),
      { selector: 'a', options: { ignoreHref: true } },
      { selector: 'img', format: 'skip' },
    ],
  });
  yield* slices(text);
}
